import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { IamErrors } from '../../src/core/errors/iam.js';
import { StsErrors } from '../../src/core/errors/sts.js';
import { ErrorSpec } from '../../src/core/errors/aws-error.js';
import { QueryServiceModel } from '../../src/protocols/query/query-model.js';
import { IAM_MODEL, IAM_OPERATIONS } from '../../src/services/iam/index.js';
import { STS_MODEL, STS_OPERATIONS } from '../../src/services/sts/index.js';

/**
 * The botocore models are the specification of IAM's and STS's wire shapes. These tests fail when a
 * vendored model drifts from the installed botocore, or when an error catalog or operation table names
 * something the model does not have (or gives a code another HTTP status than the model does).
 */
const SERVICES: { name: string; model: QueryServiceModel; operations: ReadonlyMap<string, unknown>; errors: Record<string, ErrorSpec> }[] = [
  { name: 'iam', model: IAM_MODEL, operations: IAM_OPERATIONS, errors: IamErrors },
  { name: 'sts', model: STS_MODEL, operations: STS_OPERATIONS, errors: StsErrors },
];

for (const s of SERVICES) {
  describe(`the ${s.name.toUpperCase()} model and catalogs agree with botocore`, () => {
    it(`the vendored model is what scripts/gen-model.py ${s.name} extracts from the installed botocore`, () => {
      const fresh = execFileSync('python3', ['scripts/gen-model.py', s.name], { encoding: 'utf8' });
      assert.deepEqual(JSON.parse(fresh), JSON.parse(readFileSync(`src/services/${s.name}/model.json`, 'utf8')));
    });

    it('is an AWS Query model with an XML namespace and a result wrapper for every operation with output', () => {
      assert.equal(s.model.metadata.protocol, 'query');
      assert.match(s.model.metadata.xmlNamespace, /^https:\/\/\w+\.amazonaws\.com\/doc\/\d{4}-\d{2}-\d{2}\/$/);
      for (const [name, op] of Object.entries(s.model.operations)) {
        if (op.output !== null) assert.equal(op.resultWrapper, `${name}Result`);
      }
    });

    it('every operation in the table is an operation of the model, and every modelled one has an entry', () => {
      assert.deepEqual([...s.operations.keys()].sort(), Object.keys(s.model.operations).sort());
    });

    it('every error code in the catalog is the wire code of an exception shape of the model, with its HTTP status', () => {
      const byCode = new Map(Object.values(s.model.shapes).filter((x) => x.exception).map((x) => [x.error!.code, x.error!]));
      for (const [code, spec] of Object.entries(s.errors)) {
        const modelled = byCode.get(code);
        assert.ok(modelled, `${code} is not an exception code of the botocore ${s.name} model`);
        assert.equal(spec.status, modelled.httpStatusCode, `${code} status`);
        assert.equal(spec.fault === 'client', modelled.senderFault === true, `${code} fault`);
      }
    });

    it('every exception a served operation can raise per the model is in the catalog', () => {
      // ExpiredTokenException of STS is AssumeRoleWithWebIdentity's (an expired web identity token), not served.
      const notServed = new Set(['ExpiredTokenException']);
      for (const op of Object.values(s.model.operations)) {
        for (const shape of op.errors) {
          const code = s.model.shapes[shape]!.error!.code;
          if (!notServed.has(code)) assert.ok(code in s.errors, `${code} (${shape}) is missing from the ${s.name} catalog`);
        }
      }
    });

    it('every pattern of the model compiles as a JavaScript regular expression', () => {
      for (const [name, shape] of Object.entries(s.model.shapes)) {
        if (shape.pattern) assert.doesNotThrow(() => new RegExp(`^(?:${shape.pattern})$`, 'u'), name);
      }
    });
  });
}

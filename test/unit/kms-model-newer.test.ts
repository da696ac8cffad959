import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import * as sdk from '@aws-sdk/client-kms';
import { KMS_MODEL } from '../../src/services/kms/index.js';
import { Shape } from '../../src/services/shapes.js';

const newer = createRequire(import.meta.url)('../../src/services/kms/model-newer.json') as {
  operations: Record<string, unknown>;
  shapes: Record<string, Shape>;
  enumValues: Record<string, string[]>;
  members: Record<string, Record<string, unknown>>;
};
/** The installed SDK's schema of a structure: [3, namespace, name, traits, member names, member schemas, required count]. */
const schemaOf = (name: string) => (sdk as unknown as Record<string, unknown>)[`${name}$`] as [number, string, string, number, string[], unknown[], number?] | undefined;

/**
 * model-newer.json (src/services/kms/model-supplement.ts) adds what botocore 1.43.11 lacks; it is written from the
 * newer @aws-sdk/client-kms, and these tests hold it to the installed SDK: the same structures with the same
 * members and required members, the same enum values, a command for every operation.
 */
describe('the KMS model supplement agrees with the installed @aws-sdk/client-kms', () => {
  it('every structure of model-newer.json is the SDK\'s, member for member, with the same required members', () => {
    for (const [name, shape] of Object.entries(newer.shapes)) {
      if (shape.type !== 'structure') continue;
      const schema = schemaOf(name);
      assert.ok(schema, `the SDK has no ${name}`);
      assert.deepEqual(Object.keys(shape.members ?? {}).sort(), [...schema[4]].sort(), name);
      assert.deepEqual((shape.required ?? []).sort(), schema[4].slice(0, schema[6] ?? 0).sort(), `${name}'s required members`);
    }
  });

  it('every enum of model-newer.json has the SDK\'s values, and every operation has an SDK command and is in the merged model', () => {
    for (const [name, shape] of Object.entries(newer.shapes)) {
      if (!shape.enum) continue;
      const values = (sdk as unknown as Record<string, Record<string, string> | undefined>)[name];
      assert.ok(values, `the SDK has no enum ${name}`);
      assert.deepEqual([...shape.enum].sort(), Object.values(values).sort(), name);
    }
    for (const op of Object.keys(newer.operations)) {
      assert.equal(typeof (sdk as unknown as Record<string, unknown>)[`${op}Command`], 'function', `the SDK has no ${op}Command`);
      assert.ok(KMS_MODEL.operations[op], `${op} is not in the merged model`);
    }
  });

  it('the enum values and members model-newer.json adds to botocore\'s shapes make them the SDK\'s: KeySpec, DataKeyPairSpec, KeyUsageType, GrantOperation, KeyMetadata, GetPublicKeyResponse', () => {
    for (const name of Object.keys(newer.enumValues)) {
      const values = (sdk as unknown as Record<string, Record<string, string> | undefined>)[name];
      assert.ok(values, `the SDK has no enum ${name}`);
      assert.deepEqual([...KMS_MODEL.shapes[name]!.enum!].sort(), Object.values(values).sort(), name);
    }
    for (const name of Object.keys(newer.members)) {
      const schema = schemaOf(name);
      assert.ok(schema, `the SDK has no ${name}`);
      assert.deepEqual(Object.keys(KMS_MODEL.shapes[name]!.members!).sort(), [...schema[4]].sort(), name);
    }
    assert.ok(KMS_MODEL.shapes.KeySpec!.enum!.includes('ML_KEM_768'));
  });
});

import { CreateKeyCommand } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { sendRaw, signedJsonRequest } from '../../helpers/raw-request.js';
import { TEST_ACCOUNT, TestServer, startServer } from '../../helpers/server.js';

const run = promisify(execFile);
const ROOT = `arn:aws:iam::${TEST_ACCOUNT}:root`;
const VIA_S3 = 's3.us-east-1.amazonaws.com';

/**
 * Issue 9 item 7: `strongroom explain` and POST /_strongroom/explain evaluate conditions on time, source IP,
 * HTTPS and kms:ViaService with the call's real context — now, and what the flags / body fields say — and
 * where the decision depends on something not supplied they say UNDETERMINED, naming the statement, the key
 * and the flag, instead of answering ALLOW (aws:SecureTransport absent made a "deny if not HTTPS" statement
 * silently not apply).
 */
interface Facts {
  readonly sourceIp?: string;
  readonly secureTransport?: boolean;
  readonly viaService?: string;
}
interface Case {
  readonly kind: string;
  /** The key policy's statement about kms:Decrypt (the admin statement leaves Decrypt out). */
  readonly decrypt: Record<string, unknown>;
  /** Facts and the decision they lead to; `{}` supplies nothing. */
  readonly expect: readonly [Facts, 'Allow' | 'Deny' | 'ImplicitDeny' | 'Undetermined'][];
  /** For Undetermined: the key and the flag the answer names. */
  readonly missing?: { key: string; flag: string; field: string };
}

const denyDecryptIf = (condition: Record<string, unknown>) => ({ Sid: 'Guard', Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: condition });
const allowDecrypt = { Sid: 'Use', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:Decrypt', Resource: '*' };

const CASES: readonly Case[] = [
  {
    kind: 'time (now, by the clock): a Deny after a date in the past',
    decrypt: denyDecryptIf({ DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }),
    expect: [[{}, 'Deny']],
  },
  {
    kind: 'time (now, by the clock): a Deny before a date in the past',
    decrypt: denyDecryptIf({ DateLessThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }),
    expect: [[{}, 'Allow']],
  },
  {
    kind: 'source IP: a Deny outside 10.0.0.0/8',
    decrypt: denyDecryptIf({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }),
    expect: [[{ sourceIp: '192.0.2.7' }, 'Deny'], [{ sourceIp: '10.1.2.3' }, 'Allow'], [{}, 'Undetermined']],
    missing: { key: 'aws:SourceIp', flag: '--source-ip', field: 'sourceIp' },
  },
  {
    kind: 'HTTPS: the standard Deny unless aws:SecureTransport',
    decrypt: denyDecryptIf({ Bool: { 'aws:SecureTransport': 'false' } }),
    expect: [[{ secureTransport: false }, 'Deny'], [{ secureTransport: true }, 'Allow'], [{}, 'Undetermined']],
    missing: { key: 'aws:SecureTransport', flag: '--secure-transport', field: 'secureTransport' },
  },
  {
    kind: 'kms:ViaService: Decrypt allowed only through S3',
    decrypt: { ...allowDecrypt, Condition: { StringEquals: { 'kms:ViaService': VIA_S3 } } },
    expect: [[{ viaService: 'none' }, 'ImplicitDeny'], [{ viaService: VIA_S3 }, 'Allow'], [{}, 'Undetermined']],
    missing: { key: 'kms:ViaService', flag: '--via-service', field: 'viaService' },
  },
];

describe('explain: conditions on time, source IP, HTTPS and kms:ViaService, evaluated or said to be undetermined', () => {
  let server: TestServer;
  const keys = new Map<string, string>();

  before(async () => {
    server = await startServer();
    const kms = server.kms();
    for (const c of CASES) {
      const admin = { Sid: 'Admin', Effect: 'Allow', Principal: { AWS: ROOT }, Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:Put*', 'kms:Create*', 'kms:Encrypt'], Resource: '*' };
      const statements = c.decrypt.Effect === 'Deny' ? [admin, allowDecrypt, c.decrypt] : [admin, c.decrypt];
      const policy = JSON.stringify({ Version: '2012-10-17', Statement: statements });
      keys.set(c.kind, (await kms.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!.Arn!);
    }
  });
  after(() => server.destroy());

  const cli = async (key: string, facts: Facts): Promise<{ code: number; stdout: string }> => {
    const args = ['bin/strongroom.js', 'explain', '--data-dir', server.dataDir, '--principal', ROOT, '--action', 'kms:Decrypt', '--key', key];
    if (facts.sourceIp !== undefined) args.push('--source-ip', facts.sourceIp);
    if (facts.secureTransport !== undefined) args.push('--secure-transport', String(facts.secureTransport));
    if (facts.viaService !== undefined) args.push('--via-service', facts.viaService);
    try {
      return { code: 0, stdout: (await run(process.execPath, args)).stdout };
    } catch (err) {
      const e = err as { code: number; stdout: string };
      return { code: e.code, stdout: e.stdout };
    }
  };
  const route = async (key: string, facts: Facts) => {
    const body = JSON.stringify({ principal: ROOT, action: 'kms:Decrypt', key, ...facts });
    const res = await sendRaw(server.url, await signedJsonRequest(server.url, 'explain', body, { path: '/_strongroom/explain' }));
    assert.equal(res.status, 200, res.body.toString());
    return JSON.parse(res.body.toString()) as { decision: string; possibleDecisions?: string[]; dependsOn?: { sid?: string; keys: string[] }[]; notSupplied?: Record<string, string> };
  };
  const EXIT = { Allow: 0, Deny: 1, ImplicitDeny: 1, Undetermined: 2 } as const;

  for (const c of CASES) {
    it(`${c.kind}: the CLI answers ${c.expect.map(([f, d]) => `${d} for ${JSON.stringify(f)}`).join(', ')}`, async () => {
      for (const [facts, decision] of c.expect) {
        const out = await cli(keys.get(c.kind)!, facts);
        assert.match(out.stdout, new RegExp(`^${decision.toUpperCase()}: ${ROOT} → kms:Decrypt on `), `${JSON.stringify(facts)}: ${out.stdout}`);
        assert.equal(out.code, EXIT[decision], out.stdout);
        if (decision === 'Undetermined') {
          const m = c.missing!;
          assert.match(out.stdout, new RegExp(`UNDETERMINED: (Allow|Deny) key policy statement \\d \\(Sid (Guard|Use)\\)'s condition depends on ${m.key}, which was not supplied \\(${m.flag}\\)`), out.stdout);
        }
      }
    });

    it(`${c.kind}: POST /_strongroom/explain answers the same from body fields`, async () => {
      for (const [facts, decision] of c.expect) {
        const e = await route(keys.get(c.kind)!, facts);
        assert.equal(e.decision, decision, `${JSON.stringify(facts)}: ${JSON.stringify(e)}`);
        if (decision === 'Undetermined') {
          const m = c.missing!;
          assert.equal(e.possibleDecisions!.length, 2);
          assert.deepEqual(e.dependsOn!.map((d) => d.keys), [[m.key]]);
          assert.deepEqual(e.notSupplied, { [m.key]: m.field });
        } else {
          assert.equal(e.dependsOn?.length ?? 0, 0, JSON.stringify(e));
        }
      }
    });
  }

  it('a fact that does not matter to the key policy leaves the answer determined', async () => {
    // The source-IP key's policy says nothing of HTTPS or services: supplying only the source IP decides it.
    const e = await route(keys.get(CASES[2]!.kind)!, { sourceIp: '10.9.9.9' });
    assert.equal(e.decision, 'Allow');
    assert.equal(e.dependsOn?.length ?? 0, 0);
  });
});

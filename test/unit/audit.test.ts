import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { canonicalJson, trailTime } from '../../src/core/audit/record.js';
import { SecretBytes } from '../../src/core/crypto/secret-bytes.js';
import { auditView } from '../../src/services/audit.js';
import { KMS_MODEL } from '../../src/services/kms/index.js';

describe('audit: canonical JSON, redaction', () => {
  it('canonical JSON sorts keys at every level and drops undefined members', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: null }], c: 'x' }, u: undefined }), '{"a":{"c":"x","d":[1,{"y":null,"z":1}]},"b":1}');
  });

  it('canonical JSON is byte for byte what its first definition gave (the hash chain of existing logs depends on it), escapes, holes and odd values included', () => {
    // The definition every record so far was hashed with.
    const reference = (v: unknown): string => {
      if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
      if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : reference(x))).join(',')}]`;
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(',')}}`;
    };
    const holes = [1, , 3];
    const values: unknown[] = [
      'plain', '', 'quote " backslash \\ slash /', 'tab\tnewline\n\u0000\u001f\u007f', 'é ünï 日本 😀', '\u2028\u2029', 'lone \ud800 high', 'lone \udfff low', '\udfff\ud800',
      0, -0, 1.5, 1e21, NaN, Infinity, true, false, null, undefined, () => 1, Symbol('s'),
      [], {}, holes, [undefined, null, () => 1], new Array(3),
      { '10': 'a', '9': 'b', b: 1, a: 2, A: 3, 'é': 4, '"k"': 5, 'new\nline': 6, '': 7, u: undefined, f: () => 1 },
      { eventVersion: '1.11', userIdentity: { type: 'Root', arn: 'arn:aws:iam::111122223333:root' }, requestParameters: { encryptionContext: { 'x"y': '\\', z: ['\ud83d', '\ude00'] } }, responseElements: null },
    ];
    for (const v of values) assert.equal(canonicalJson(v), reference(v), String(typeof v === 'symbol' ? 'symbol' : JSON.stringify(v)));
    assert.equal(canonicalJson({ nested: values }), reference({ nested: values }));
  });

  it('trailTime is ISO 8601 UTC to the second, the same for every instant of a second', () => {
    for (const ms of [0, 999, 1000, -1, -500, -1000, Date.UTC(2026, 11, 6, 14, 0, 0, 999), Date.UTC(2026, 11, 6, 14, 0, 1), 8.64e15, Date.UTC(2024, 1, 29, 23, 59, 59, 500)]) {
      assert.equal(trailTime(ms), new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'), String(ms));
    }
    assert.throws(() => trailTime(NaN), RangeError);
  });

  it('the audit view drops sensitive members and blobs and lower-cases the first letter of members', () => {
    const view = auditView(KMS_MODEL, 'DecryptRequest', {
      CiphertextBlob: Buffer.from('c'),
      EncryptionContext: { Department: 'Eng' },
      GrantTokens: ['t'],
      KeyId: 'k',
      Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: Buffer.from('a') },
    });
    assert.deepEqual(view, { encryptionContext: { Department: 'Eng' }, grantTokens: ['t'], keyId: 'k', recipient: { keyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' } });
    assert.deepEqual(auditView(KMS_MODEL, 'GenerateDataKeyResponse', { KeyId: 'k', Plaintext: SecretBytes.adopt(Buffer.from('p')), CiphertextBlob: Buffer.from('c') }), { keyId: 'k' });
  });

  it('the vendored CloudTrail model is what scripts/gen-kms-model.py extracts from the installed botocore', (t) => {
    let generated: string;
    try {
      generated = execFileSync('python3', ['scripts/gen-kms-model.py', '--service', 'cloudtrail'], { encoding: 'utf8' });
    } catch (err) {
      if (process.env.CI) throw err;
      t.skip(`botocore unavailable: ${(err as Error).message.slice(0, 100)}`);
      return;
    }
    assert.deepEqual(JSON.parse(generated), JSON.parse(readFileSync('src/services/cloudtrail/model.json', 'utf8')));
  });
});

// kmsConditions copies key by key (an object spread followed by more members is a slow path of Node 20's V8):
// these pin that it still means what the spreads it replaced meant.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encryptionAlgorithmCondition, encryptionContextConditions, keyConditions, kmsConditions } from '../../src/services/kms/conditions.js';
import { requestConditions } from '../../src/services/request-conditions.js';
import { KeyRecord } from '../../src/store/metadata/types.js';

const key = { keyId: 'k', arn: 'arn:aws:kms:us-east-1:111122223333:key/k', accountId: '111122223333' } as unknown as KeyRecord;
const base = requestConditions('kms', { principal: { accountId: '111122223333' }, region: 'us-east-1', sourceIp: '127.0.0.1', userAgent: 'ua', secureTransport: false }, Date.UTC(2026, 0, 1));

/** The definition kmsConditions had: the five sources spread in order. */
function spreadDefinition(b: typeof base, a: Parameters<typeof kmsConditions>[1]): ReturnType<typeof kmsConditions> {
  return { ...b, ...(a.key ? keyConditions(a.key) : {}), ...encryptionContextConditions(a.encryptionContext), ...encryptionAlgorithmCondition(a.action), ...a.conditions };
}

describe('KMS condition keys', () => {
  it('kmsConditions has the request\'s, the key\'s, the context\'s and the operation\'s keys, in that order, later ones replacing earlier ones', () => {
    const cases: Parameters<typeof kmsConditions>[1][] = [
      { action: 'kms:Decrypt', key, encryptionContext: { purpose: 'bench', Department: 'Eng' }, conditions: {} },
      { action: 'kms:Decrypt', key, encryptionContext: {}, conditions: { 'kms:RequestAlias': 'alias/a' } },
      { action: 'kms:DescribeKey', key },
      { action: 'kms:CreateGrant', key, conditions: { 'kms:GrantOperations': ['Decrypt'], 'aws:SourceIp': 'replaced', 'kms:KeySpec': 'replaced too' } },
      { action: 'kms:Encrypt', encryptionContext: { '10': 'a', '9': 'b', __proto__x: 'c' } },
    ];
    for (const a of cases) {
      const got = kmsConditions(base, a);
      const want = spreadDefinition(base, a);
      assert.deepEqual(got, want);
      assert.deepEqual(Object.keys(got), Object.keys(want));
    }
    assert.equal(kmsConditions(base, cases[3]!)['aws:SourceIp'], 'replaced');
    assert.deepEqual(kmsConditions(base, cases[0]!)['kms:EncryptionContextKeys'], ['purpose', 'Department']);
  });

  it('aws:CurrentTime and aws:EpochTime are the request\'s own second, whichever second came before', () => {
    const facts = { principal: { accountId: '111122223333' } };
    for (const ms of [Date.UTC(2026, 11, 6, 14, 0, 0, 0), Date.UTC(2026, 11, 6, 14, 0, 0, 999), Date.UTC(2026, 11, 6, 14, 0, 1, 0), Date.UTC(2020, 1, 29, 0, 0, 0, 1), Date.UTC(2026, 11, 6, 14, 0, 0, 500), 0, -1500]) {
      const c = requestConditions('kms', facts, ms);
      assert.equal(c['aws:CurrentTime'], new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'), String(ms));
      assert.equal(c['aws:EpochTime'], String(Math.floor(ms / 1000)), String(ms));
    }
  });

  it('a __proto__ condition key is an own member, as a spread makes it, never the prototype', () => {
    const a = { action: 'kms:Decrypt', key, conditions: JSON.parse('{"__proto__": "p"}') as Record<string, string> };
    const got = kmsConditions(base, a);
    assert.equal(Object.getPrototypeOf(got), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(got, '__proto__')?.value, 'p');
    assert.deepEqual(got, spreadDefinition(base, a));
  });
});

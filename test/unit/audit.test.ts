import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/core/audit/record.js';
import { SecretBytes } from '../../src/core/crypto/secret-bytes.js';
import { auditView } from '../../src/services/audit.js';
import { KMS_MODEL } from '../../src/services/kms/index.js';

describe('audit: canonical JSON, redaction', () => {
  it('canonical JSON sorts keys at every level and drops undefined members', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: null }], c: 'x' }, u: undefined }), '{"a":{"c":"x","d":[1,{"y":null,"z":1}]},"b":1}');
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

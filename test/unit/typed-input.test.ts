// ShapeCodec.checkInput (src/services/shapes.ts): the typed entry's validation of an input already in decoded
// form (services/service.ts#dispatchTyped) applies decodeInput's constraints, with the same messages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretBytes } from '../../src/core/crypto/secret-bytes.js';
import { AwsError } from '../../src/core/errors/aws-error.js';
import { KMS_CODEC } from '../../src/services/kms/index.js';

const failure = (f: () => unknown): AwsError => {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof AwsError);
    return err;
  }
  assert.fail('expected a validation failure');
};

describe('typed input: checked once, by the model’s constraints', () => {
  it('the same constraint gives the same error in the typed and the wire entry', () => {
    const typed = failure(() => KMS_CODEC.checkInput('GenerateDataKey', { KeyId: '', KeySpec: 'AES_512', EncryptionContext: { k: 'v'.repeat(8192) } }));
    const wire = failure(() => KMS_CODEC.decodeInput('GenerateDataKey', { KeyId: '', KeySpec: 'AES_512', EncryptionContext: { k: 'v'.repeat(8192) } }));
    assert.equal(typed.code, 'ValidationException');
    assert.equal(typed.message, wire.message);
    assert.match(typed.message, /^3 validation errors detected: /);
  });

  it('blobs come as Buffers, sensitive blobs only as SecretBytes, with their lengths checked and never echoed', () => {
    const ok = KMS_CODEC.checkInput('Decrypt', { CiphertextBlob: Buffer.alloc(100), EncryptionContext: { a: 'b' } });
    assert.ok(Buffer.isBuffer(ok.CiphertextBlob));
    assert.equal(failure(() => KMS_CODEC.checkInput('Decrypt', { CiphertextBlob: Buffer.alloc(100).toString('base64') })).code, 'SerializationException');
    assert.equal(failure(() => KMS_CODEC.checkInput('Encrypt', { KeyId: 'k', Plaintext: Buffer.from('secret') })).code, 'SerializationException');
    const plaintext = SecretBytes.adopt(Buffer.from('p'.repeat(4097)));
    const tooLong = failure(() => KMS_CODEC.checkInput('Encrypt', { KeyId: 'k', Plaintext: plaintext }));
    assert.equal(tooLong.message, "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096");
    assert.ok(!tooLong.message.includes('ppp'));
    assert.equal(KMS_CODEC.checkInput('Encrypt', { KeyId: 'k', Plaintext: SecretBytes.adopt(Buffer.from('p')) }).Plaintext instanceof SecretBytes, true);
  });

  it('a timestamp member in epoch seconds that is no date (1e308, beyond ±8.64e12 s) is SerializationException, for every operation taking timestamps (found by the KMS fuzz test: ImportKeyMaterial ValidTo 1e308 answered 500)', () => {
    const input = (validTo: number) => ({ KeyId: 'k', ImportToken: 'dA==', EncryptedKeyMaterial: 'ZQ==', ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo });
    for (const bad of [1e308, -1e308, 8.64e12 + 1]) assert.equal(failure(() => KMS_CODEC.decodeInput('ImportKeyMaterial', input(bad))).code, 'SerializationException', String(bad));
    assert.equal((KMS_CODEC.decodeInput('ImportKeyMaterial', input(1.9e9)) as { ValidTo: Date }).ValidTo.getTime(), 1.9e12);
  });
});

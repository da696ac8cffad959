import {
  CreateKeyCommand, DataKeyPairSpec, DecryptCommand, GenerateDataKeyPairCommand, GenerateDataKeyPairWithoutPlaintextCommand, KMSClient,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TestServer, rejection, startServer } from '../../helpers/server.js';

/**
 * GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext (issue 11): a key pair of each DataKeyPairSpec,
 * its private key encrypted under a symmetric KMS key (Decrypt gives it back).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPair.html
 */
describe('KMS GenerateDataKeyPair* over HTTP with @aws-sdk/client-kms', () => {
  let server: TestServer;
  let kms: KMSClient;
  let keyId: string;

  before(async () => {
    server = await startServer();
    kms = server.kms();
    keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  });
  after(() => server.destroy());

  /** Whether `privateDer` (PKCS#8) and `publicDer` (SPKI) are the two halves of one key pair: a signature by one verifies with the other. */
  const pairs = (privateDer: Uint8Array, publicDer: Uint8Array): boolean => {
    const privateKey = createPrivateKey({ key: Buffer.from(privateDer), format: 'der', type: 'pkcs8' });
    const publicKey = createPublicKey({ key: Buffer.from(publicDer), format: 'der', type: 'spki' });
    const hash = privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
    return verify(hash, Buffer.from('m'), publicKey, sign(hash, Buffer.from('m'), privateKey));
  };

  it('each DataKeyPairSpec: the private key decrypts from its ciphertext (with the encryption context) and pairs with the public key', async () => {
    const specs: DataKeyPairSpec[] = ['RSA_2048', 'RSA_3072', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'ECC_NIST_EDWARDS25519'];
    for (const KeyPairSpec of specs) {
      const out = await kms.send(new GenerateDataKeyPairCommand({ KeyId: keyId, KeyPairSpec, EncryptionContext: { purpose: 'pair' } }));
      assert.equal(out.KeyPairSpec, KeyPairSpec);
      assert.equal(out.KeyId, keyId);
      assert.ok(pairs(out.PrivateKeyPlaintext!, out.PublicKey!), KeyPairSpec);
      const back = await kms.send(new DecryptCommand({ CiphertextBlob: out.PrivateKeyCiphertextBlob, EncryptionContext: { purpose: 'pair' } }));
      assert.deepEqual(Buffer.from(back.Plaintext!), Buffer.from(out.PrivateKeyPlaintext!));
      const err = await rejection(kms.send(new DecryptCommand({ CiphertextBlob: out.PrivateKeyCiphertextBlob })));
      assert.equal(err.name, 'InvalidCiphertextException');
    }
  });

  it('WithoutPlaintext returns no private key; Decrypt of its ciphertext gives one that pairs with the public key', async () => {
    const out = await kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keyId, KeyPairSpec: 'ECC_NIST_P256' }));
    assert.equal((out as unknown as Record<string, unknown>).PrivateKeyPlaintext, undefined);
    const back = await kms.send(new DecryptCommand({ CiphertextBlob: out.PrivateKeyCiphertextBlob }));
    assert.ok(pairs(back.Plaintext!, out.PublicKey!));
  });

  it('an asymmetric KMS key is InvalidKeyUsageException; SM2 is UnsupportedOperationException', async () => {
    const rsa = (await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata!.Arn!;
    let err = await rejection(kms.send(new GenerateDataKeyPairCommand({ KeyId: rsa, KeyPairSpec: 'ECC_NIST_P256' })));
    assert.equal(err.name, 'InvalidKeyUsageException');
    err = await rejection(kms.send(new GenerateDataKeyPairCommand({ KeyId: keyId, KeyPairSpec: 'SM2' })));
    assert.equal(err.name, 'UnsupportedOperationException');
  });
});

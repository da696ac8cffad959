import { CreateKeyCommand, CreateKeyCommandInput, DeriveSharedSecretCommand, GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestServer, rejection, startServer } from '../../helpers/server.js';

/**
 * DeriveSharedSecret (ECDH) with KEY_AGREEMENT keys (issue 11): the shared secret equals what OpenSSL
 * derives from the caller's private key and the KMS key's public key.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_DeriveSharedSecret.html
 */
describe('KMS DeriveSharedSecret over HTTP with @aws-sdk/client-kms', () => {
  let server: TestServer;
  let kms: KMSClient;
  let dir: string;

  before(async () => {
    server = await startServer();
    kms = server.kms();
    dir = mkdtempSync(join(tmpdir(), 'sr-ecdh-'));
  });
  after(() => server.destroy());

  const create = async (params: CreateKeyCommandInput) => (await kms.send(new CreateKeyCommand(params))).KeyMetadata!.Arn!;
  /** A local key pair made by OpenSSL on `curve`: its PEM private key file and DER public key. */
  const localPair = (curve: string, name: string): Buffer => {
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-out', `${name}.pem`], { cwd: dir });
    execFileSync('openssl', ['pkey', '-in', `${name}.pem`, '-pubout', '-outform', 'DER', '-out', `${name}.pub.der`], { cwd: dir });
    return readFileSync(join(dir, `${name}.pub.der`));
  };

  it('ECC_NIST_P256/P384/P521: the shared secret is the one OpenSSL derives from the local private key and the GetPublicKey key', async () => {
    for (const [KeySpec, curve] of [['ECC_NIST_P256', 'P-256'], ['ECC_NIST_P384', 'P-384'], ['ECC_NIST_P521', 'P-521']] as const) {
      const key = await create({ KeySpec, KeyUsage: 'KEY_AGREEMENT' });
      const pub = await kms.send(new GetPublicKeyCommand({ KeyId: key }));
      assert.deepEqual(pub.KeyAgreementAlgorithms, ['ECDH']);
      assert.equal(pub.KeyUsage, 'KEY_AGREEMENT');
      writeFileSync(join(dir, 'kms.pub.der'), pub.PublicKey!);
      const local = localPair(curve, KeySpec);
      const out = await kms.send(new DeriveSharedSecretCommand({ KeyId: key, KeyAgreementAlgorithm: 'ECDH', PublicKey: local }));
      assert.equal(out.KeyId, key);
      assert.equal(out.KeyAgreementAlgorithm, 'ECDH');
      assert.equal(out.KeyOrigin, 'AWS_KMS');
      const offline = execFileSync('openssl', ['pkeyutl', '-derive', '-inkey', `${KeySpec}.pem`, '-peerkey', 'kms.pub.der', '-peerform', 'DER'], { cwd: dir });
      assert.deepEqual(Buffer.from(out.SharedSecret!), offline, KeySpec);
    }
  });

  it('a public key on another curve or not a key is a ValidationException; a signing key or another algorithm is InvalidKeyUsageException', async () => {
    const key = await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
    let err = await rejection(kms.send(new DeriveSharedSecretCommand({ KeyId: key, KeyAgreementAlgorithm: 'ECDH', PublicKey: localPair('P-384', 'other') })));
    assert.equal(err.name, 'ValidationException');
    err = await rejection(kms.send(new DeriveSharedSecretCommand({ KeyId: key, KeyAgreementAlgorithm: 'ECDH', PublicKey: Buffer.from('not a key') })));
    assert.equal(err.name, 'ValidationException');
    const signing = await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    err = await rejection(kms.send(new DeriveSharedSecretCommand({ KeyId: signing, KeyAgreementAlgorithm: 'ECDH', PublicKey: localPair('P-256', 'p256') })));
    assert.equal(err.name, 'InvalidKeyUsageException');
    assert.equal(err.message, `${signing} key usage is SIGN_VERIFY which is not valid for DeriveSharedSecret.`);
  });
});

import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  CreateKeyCommand, CreateKeyCommandInput, DecryptCommand, DeriveSharedSecretCommand, EncryptCommand, GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand, GenerateMacCommand, GetPublicKeyCommand, KMSClient, SignCommand, VerifyCommand, VerifyMacCommand,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

/**
 * The CloudTrail records of the asymmetric, HMAC and key agreement operations (issue 11), as LookupEvents shows
 * them: requestParameters are the request's members AWS's examples show (ct-sign, ct-verify, ct-generatemac,
 * ct-verifymac, ct-derivesharedsecret, …) — key id and algorithms, never the message, signature, MAC, peer public
 * key or plaintext — responseElements null (never the signature, MAC, shared secret, public key, private key or
 * plaintext), readOnly, and the key as the record's resource.
 * https://docs.aws.amazon.com/kms/latest/developerguide/ct-sign.html
 */
describe('KMS CloudTrail records of Sign, Verify, GenerateMac, VerifyMac, DeriveSharedSecret, GetPublicKey, GenerateDataKeyPair* and RSA Encrypt/Decrypt', () => {
  let server: TestServer;
  let kms: KMSClient;
  let trail: CloudTrailClient;

  before(async () => {
    server = await startServer();
    kms = server.kms();
    trail = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  });
  after(async () => {
    trail.destroy();
    await server.destroy();
  });

  it('each record has AWS\'s requestParameters, null responseElements and the key as resource; no secret or blob of the call is in it', async () => {
    const create = async (p: CreateKeyCommandInput) => (await kms.send(new CreateKeyCommand(p))).KeyMetadata!;
    const ecc = await create({ KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' });
    const rsa = await create({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    const hmac = await create({ KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const agreement = await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
    const rsaEncrypt = await create({ KeySpec: 'RSA_3072', KeyUsage: 'ENCRYPT_DECRYPT' });
    const symmetric = await create({});
    const message = randomBytes(40);
    const digest = createHash('sha256').update(message).digest();
    const peer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    const signature = (await kms.send(new SignCommand({ KeyId: ecc.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_384' }))).Signature!;
    const mac = (await kms.send(new GenerateMacCommand({ KeyId: hmac.Arn, Message: message, MacAlgorithm: 'HMAC_SHA_384' }))).Mac!;
    const ciphertext = (await kms.send(new EncryptCommand({ KeyId: rsaEncrypt.KeyId, Plaintext: message, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }))).CiphertextBlob!;

    /** Bytes that no record may hold, whatever the call: each in base64 and hex. */
    const secrets: Uint8Array[] = [message, digest, signature, mac, ciphertext, peer];
    const calls: { name: string; key: { Arn?: string }; send: () => Promise<{ $metadata: { requestId?: string } }>; expected: Record<string, unknown> }[] = [
      { name: 'Sign', key: ecc, send: () => kms.send(new SignCommand({ KeyId: ecc.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_384' })),
        expected: { keyId: ecc.KeyId, signingAlgorithm: 'ECDSA_SHA_384' } },
      { name: 'Sign', key: rsa, send: () => kms.send(new SignCommand({ KeyId: rsa.Arn, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })),
        expected: { keyId: rsa.Arn, messageType: 'DIGEST', signingAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' } },
      { name: 'Verify', key: ecc, send: () => kms.send(new VerifyCommand({ KeyId: ecc.KeyId, Message: message, MessageType: 'RAW', Signature: signature, SigningAlgorithm: 'ECDSA_SHA_384' })),
        expected: { keyId: ecc.KeyId, messageType: 'RAW', signingAlgorithm: 'ECDSA_SHA_384' } },
      { name: 'GenerateMac', key: hmac, send: () => kms.send(new GenerateMacCommand({ KeyId: hmac.KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_384' })),
        expected: { keyId: hmac.KeyId, macAlgorithm: 'HMAC_SHA_384' } },
      { name: 'VerifyMac', key: hmac, send: () => kms.send(new VerifyMacCommand({ KeyId: hmac.Arn, Message: message, Mac: mac, MacAlgorithm: 'HMAC_SHA_384' })),
        expected: { keyId: hmac.Arn, macAlgorithm: 'HMAC_SHA_384' } },
      { name: 'DeriveSharedSecret', key: agreement, send: () => kms.send(new DeriveSharedSecretCommand({ KeyId: agreement.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer })),
        expected: { keyId: agreement.KeyId, keyAgreementAlgorithm: 'ECDH' } },
      { name: 'GetPublicKey', key: rsa, send: () => kms.send(new GetPublicKeyCommand({ KeyId: rsa.KeyId })),
        expected: { keyId: rsa.KeyId } },
      { name: 'GenerateDataKeyPair', key: symmetric, send: () => kms.send(new GenerateDataKeyPairCommand({ KeyId: symmetric.KeyId, KeyPairSpec: 'ECC_NIST_P256', EncryptionContext: { purpose: 'records' } })),
        expected: { keyId: symmetric.KeyId, keyPairSpec: 'ECC_NIST_P256', encryptionContext: { purpose: 'records' } } },
      { name: 'GenerateDataKeyPairWithoutPlaintext', key: symmetric, send: () => kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: symmetric.KeyId, KeyPairSpec: 'RSA_2048' })),
        expected: { keyId: symmetric.KeyId, keyPairSpec: 'RSA_2048' } },
      { name: 'Encrypt', key: rsaEncrypt, send: () => kms.send(new EncryptCommand({ KeyId: rsaEncrypt.KeyId, Plaintext: message, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
        expected: { keyId: rsaEncrypt.KeyId, encryptionAlgorithm: 'RSAES_OAEP_SHA_256' } },
      { name: 'Decrypt', key: rsaEncrypt, send: () => kms.send(new DecryptCommand({ KeyId: rsaEncrypt.KeyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })),
        expected: { keyId: rsaEncrypt.KeyId, encryptionAlgorithm: 'RSAES_OAEP_SHA_1' } },
    ];

    const sent: { name: string; requestId: string; keyArn: string; expected: Record<string, unknown> }[] = [];
    for (const c of calls) {
      const out = await c.send();
      // Whatever the call answered that is secret or a blob (signature, MAC, shared secret, keys, plaintext).
      for (const v of Object.values(out as object)) if (v instanceof Uint8Array && v.length >= 8) secrets.push(v);
      sent.push({ name: c.name, requestId: out.$metadata.requestId!, keyArn: c.key.Arn!, expected: c.expected });
    }

    const problems: string[] = [];
    for (const s of sent) {
      const events = (await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: s.name }], MaxResults: 50 }))).Events ?? [];
      const text = events.map((e) => e.CloudTrailEvent!).find((t) => (JSON.parse(t) as { requestID: string }).requestID === s.requestId);
      if (!text) {
        problems.push(`${s.name}: no record`);
        continue;
      }
      const record = JSON.parse(text) as Record<string, unknown>;
      assert.deepEqual(record.requestParameters, s.expected, `${s.name}'s requestParameters`);
      assert.equal(record.responseElements, null, `${s.name}'s responseElements`);
      assert.equal(record.readOnly, true, s.name);
      assert.equal(record.eventSource, 'kms.amazonaws.com');
      assert.deepEqual(record.resources, [{ accountId: TEST_ACCOUNT, type: 'AWS::KMS::Key', ARN: s.keyArn }], s.name);
      for (const secret of secrets) {
        const b = Buffer.from(secret);
        for (const spelling of [b.toString('base64'), b.toString('base64url'), b.toString('hex')]) {
          if (text.includes(spelling)) problems.push(`${s.name}'s record holds a secret of the calls`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});

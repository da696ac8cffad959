import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateKeyCommand, CreateKeyCommandInput, DescribeKeyCommand, GetPublicKeyCommand, KMSClient, SignCommand, VerifyCommand,
} from '@aws-sdk/client-kms';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Clients, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

const run = promisify(execFile);

/**
 * The post-quantum key specs end to end with @aws-sdk/client-kms. Offline checks: @noble/post-quantum (the
 * library the server uses, but fed only the DER public key GetPublicKey returns), and Python `cryptography`
 * 48, whose bundled OpenSSL has ML-DSA and ML-KEM-768/1024 (the machine's openssl 3.0 has neither; ML-KEM-512
 * is checked with noble only).
 */
const ML_DSA = [
  { spec: 'ML_DSA_44', oid: '2.16.840.1.101.3.4.3.17', dsa: ml_dsa44, python: 'MLDSA44PublicKey' },
  { spec: 'ML_DSA_65', oid: '2.16.840.1.101.3.4.3.18', dsa: ml_dsa65, python: 'MLDSA65PublicKey' },
  { spec: 'ML_DSA_87', oid: '2.16.840.1.101.3.4.3.19', dsa: ml_dsa87, python: 'MLDSA87PublicKey' },
] as const;

/** The DER encoding of the OBJECT IDENTIFIER `dotted` (arcs after the first two in base-128). */
function oidDer(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const arc of rest) {
    const groups = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) groups.unshift((v & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return Buffer.from([0x06, bytes.length, ...bytes]);
}

/** The raw public key inside a DER SubjectPublicKeyInfo whose AlgorithmIdentifier is `oid` alone (RFC 9881/9935). */
function rawPublicKey(spki: Uint8Array, oid: string): Buffer {
  const der = Buffer.from(spki);
  const algorithm = Buffer.concat([Buffer.from([0x30, oidDer(oid).length]), oidDer(oid)]);
  const at = der.indexOf(algorithm);
  assert.equal(at, 4, `the AlgorithmIdentifier is ${oid} with absent parameters`);
  // BIT STRING: 03 82 LL LL 00 <key>
  const bitString = der.subarray(at + algorithm.length);
  assert.equal(bitString[0], 0x03);
  assert.equal(bitString[4], 0x00);
  return bitString.subarray(5);
}

/** FIPS 204 §6.2 (Algorithm 7 line 6) for pure ML-DSA with an empty context: μ = H(H(pk, 64) ‖ 0 ‖ 0 ‖ M, 64). */
function externalMu(publicKey: Buffer, message: Buffer): Buffer {
  const shake = () => createHash('shake256', { outputLength: 64 });
  return shake().update(shake().update(publicKey).digest()).update(Buffer.from([0, 0])).update(message).digest();
}

async function pythonVerifies(spki: Uint8Array, cls: string, signature: Uint8Array, message: Buffer): Promise<string> {
  const script = [
    'import sys, base64',
    'from cryptography.hazmat.primitives import serialization',
    'from cryptography.hazmat.primitives.asymmetric import mldsa',
    'der = base64.b64decode(sys.argv[1])',
    'pub = serialization.load_der_public_key(der)',
    `assert isinstance(pub, mldsa.${sys(cls)}), type(pub)`,
    'assert pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == der',
    'pub.verify(base64.b64decode(sys.argv[2]), base64.b64decode(sys.argv[3]))',
    'print("verified")',
  ].join('\n');
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return (await run('python3', ['-c', script, b64(spki), b64(signature), b64(message)])).stdout.trim();
}

/** A Python class name, checked to be one (it is interpolated into the script). */
function sys(cls: string): string {
  assert.match(cls, /^MLDSA\d\dPublicKey$/);
  return cls;
}

describe('KMS post-quantum keys over HTTP with @aws-sdk/client-kms', () => {
  let server: TestServer;
  let clients: Clients;
  let kms: KMSClient;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    kms = clients.kms();
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  const create = async (params: CreateKeyCommandInput) => (await kms.send(new CreateKeyCommand(params))).KeyMetadata!;
  const message = Buffer.from('firmware image 7.4.1 digest manifest\n');

  describe('ML-DSA (FIPS 204)', () => {
    it('ML_DSA_44/65/87: a SIGN_VERIFY key offers ML_DSA_SHAKE_256; GetPublicKey is the DER SPKI with the NIST OID; a RAW signature verifies in KMS, with @noble/post-quantum and with Python cryptography; a tampered message is KMSInvalidSignatureException', async () => {
      for (const c of ML_DSA) {
        const meta = await create({ KeySpec: c.spec, KeyUsage: 'SIGN_VERIFY' });
        assert.equal(meta.KeySpec, c.spec);
        assert.deepEqual(meta.SigningAlgorithms, ['ML_DSA_SHAKE_256']);
        assert.equal(meta.CustomerMasterKeySpec, undefined, 'the deprecated CustomerMasterKeySpec enum has no ML-DSA value');
        const pub = await kms.send(new GetPublicKeyCommand({ KeyId: meta.KeyId }));
        assert.equal(pub.KeySpec, c.spec);
        assert.equal(pub.KeyUsage, 'SIGN_VERIFY');
        assert.deepEqual(pub.SigningAlgorithms, ['ML_DSA_SHAKE_256']);
        const raw = rawPublicKey(pub.PublicKey!, c.oid);
        assert.equal(raw.length, c.dsa.lengths.publicKey);

        const signed = await kms.send(new SignCommand({ KeyId: meta.KeyId, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
        assert.equal(signed.KeyId, meta.Arn);
        assert.equal(signed.SigningAlgorithm, 'ML_DSA_SHAKE_256');
        assert.equal(signed.Signature!.length, c.dsa.lengths.signature);
        assert.equal(c.dsa.verify(signed.Signature!, message, raw), true, `${c.spec}: noble rejects the signature`);
        assert.equal(await pythonVerifies(pub.PublicKey!, c.python, signed.Signature!, message), 'verified');
        assert.equal((await kms.send(new VerifyCommand({ KeyId: meta.KeyId, Message: message, Signature: signed.Signature, SigningAlgorithm: 'ML_DSA_SHAKE_256' }))).SignatureValid, true);

        const tampered = Buffer.from(signed.Signature!);
        tampered[100]! ^= 1;
        assert.equal(c.dsa.verify(tampered, message, raw), false);
        const err = await rejection(kms.send(new VerifyCommand({ KeyId: meta.KeyId, Message: message, Signature: tampered, SigningAlgorithm: 'ML_DSA_SHAKE_256' })));
        assert.equal(err.name, 'KMSInvalidSignatureException');
        assert.equal(err.$metadata?.httpStatusCode, 400);
      }
    });

    it('EXTERNAL_MU: a μ computed offline from the GetPublicKey key and a message larger than 4096 bytes signs as the message would (noble and Python verify it on the message; Verify accepts RAW and EXTERNAL_MU alike)', async () => {
      const key = (await create({ KeySpec: 'ML_DSA_65', KeyUsage: 'SIGN_VERIFY' })).KeyId!;
      const spki = (await kms.send(new GetPublicKeyCommand({ KeyId: key }))).PublicKey!;
      const raw = rawPublicKey(spki, ML_DSA[1].oid);
      const big = Buffer.alloc(10_000, 'large release artifact ');
      const mu = externalMu(raw, big);
      const signed = await kms.send(new SignCommand({ KeyId: key, Message: mu, MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
      assert.equal(ml_dsa65.verify(signed.Signature!, big, raw), true);
      assert.equal(await pythonVerifies(spki, 'MLDSA65PublicKey', signed.Signature!, big), 'verified');
      const verifyMu = await kms.send(new VerifyCommand({ KeyId: key, Message: mu, MessageType: 'EXTERNAL_MU', Signature: signed.Signature, SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
      assert.equal(verifyMu.SignatureValid, true);
      // A RAW signature of a small message verifies with its μ, and the μ signature of it with the message.
      const rawSigned = await kms.send(new SignCommand({ KeyId: key, Message: message, SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
      assert.equal((await kms.send(new VerifyCommand({ KeyId: key, Message: externalMu(raw, message), MessageType: 'EXTERNAL_MU', Signature: rawSigned.Signature, SigningAlgorithm: 'ML_DSA_SHAKE_256' }))).SignatureValid, true);
      const muSigned = await kms.send(new SignCommand({ KeyId: key, Message: externalMu(raw, message), MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
      assert.equal((await kms.send(new VerifyCommand({ KeyId: key, Message: message, Signature: muSigned.Signature, SigningAlgorithm: 'ML_DSA_SHAKE_256' }))).SignatureValid, true);
      const err = await rejection(kms.send(new VerifyCommand({ KeyId: key, Message: externalMu(raw, Buffer.from('other')), MessageType: 'EXTERNAL_MU', Signature: signed.Signature, SigningAlgorithm: 'ML_DSA_SHAKE_256' })));
      assert.equal(err.name, 'KMSInvalidSignatureException');
    });

    it('a μ not 64 bytes, a RAW message over 4096 bytes, DIGEST, EXTERNAL_MU with ECDSA, another spec\'s algorithm and a usage ML-DSA does not have get AWS\'s errors', async () => {
      const key = (await create({ KeySpec: 'ML_DSA_44', KeyUsage: 'SIGN_VERIFY' })).KeyId!;
      const sign = (p: { Message: Buffer; MessageType?: 'RAW' | 'DIGEST' | 'EXTERNAL_MU'; SigningAlgorithm?: 'ML_DSA_SHAKE_256' | 'ECDSA_SHA_256'; KeyId?: string }) =>
        rejection(kms.send(new SignCommand({ KeyId: key, SigningAlgorithm: 'ML_DSA_SHAKE_256', ...p })));
      let err = await sign({ Message: Buffer.alloc(63), MessageType: 'EXTERNAL_MU' });
      assert.equal(err.name, 'ValidationException');
      assert.equal(err.message, 'Message must be 64 bytes long when MessageType is EXTERNAL_MU.');
      err = await sign({ Message: Buffer.alloc(4097) });
      assert.equal(err.name, 'ValidationException');
      assert.match(err.message, /length less than or equal to 4096/);
      err = await sign({ Message: Buffer.alloc(64), MessageType: 'DIGEST' });
      assert.equal(err.name, 'ValidationException');
      assert.equal(err.message, 'The signing algorithm ML_DSA_SHAKE_256 supports MessageType RAW or EXTERNAL_MU only.');
      err = await sign({ Message: message, SigningAlgorithm: 'ECDSA_SHA_256' });
      assert.equal(err.name, 'InvalidKeyUsageException');
      assert.equal(err.message, 'Algorithm ECDSA_SHA_256 is incompatible with key spec ML_DSA_44.');
      const p256 = (await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' })).KeyId!;
      err = await sign({ KeyId: p256, Message: Buffer.alloc(64), MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ECDSA_SHA_256' });
      assert.equal(err.name, 'ValidationException');
      assert.equal(err.message, 'MessageType EXTERNAL_MU is valid only with the signing algorithm ML_DSA_SHAKE_256, not ECDSA_SHA_256.');
      err = await sign({ KeyId: p256, Message: message });
      assert.equal(err.name, 'InvalidKeyUsageException');
      err = await rejection(kms.send(new CreateKeyCommand({ KeySpec: 'ML_DSA_87', KeyUsage: 'ENCRYPT_DECRYPT' })));
      assert.equal(err.name, 'ValidationException');
      assert.equal(err.message, 'KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec ML_DSA_87. Valid values: SIGN_VERIFY.');
      err = await rejection(kms.send(new CreateKeyCommand({ KeySpec: 'ML_DSA_87' })));
      assert.equal(err.name, 'ValidationException');
    });

    it('kms:SigningAlgorithm and kms:MessageType conditions apply to ML-DSA: an IAM policy allowing Sign for RAW only refuses EXTERNAL_MU', async () => {
      const key = (await create({ KeySpec: 'ML_DSA_44', KeyUsage: 'SIGN_VERIFY' })).Arn!;
      const iam: IAMClient = clients.iam();
      await iam.send(new CreateUserCommand({ UserName: 'pq-signer' }));
      await iam.send(new PutUserPolicyCommand({
        UserName: 'pq-signer',
        PolicyName: 'raw-only',
        PolicyDocument: policyDocument({
          Effect: 'Allow',
          Action: 'kms:Sign',
          Resource: key,
          Condition: { StringEquals: { 'kms:SigningAlgorithm': 'ML_DSA_SHAKE_256', 'kms:MessageType': 'RAW' } },
        }),
      }));
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'pq-signer' }));
      const signer = clients.kms({ accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! });
      await signer.send(new SignCommand({ KeyId: key, Message: message, SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
      const err = await rejection(signer.send(new SignCommand({ KeyId: key, Message: Buffer.alloc(64), MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ML_DSA_SHAKE_256' })));
      assert.equal(err.name, 'AccessDeniedException');
      assert.match(err.message, new RegExp(`user/pq-signer is not authorized to perform: kms:Sign`));
      assert.ok(err.message.includes(TEST_ACCOUNT));
      const described = await kms.send(new DescribeKeyCommand({ KeyId: key }));
      assert.equal(described.KeyMetadata!.KeySpec, 'ML_DSA_44');
    });
  });
});

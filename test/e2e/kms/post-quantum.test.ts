import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateGrantCommand, CreateKeyCommand, CreateKeyCommandInput, DecapsulateCommand, DescribeKeyCommand, DisableKeyCommand,
  EncapsulateCommand, GenerateDataKeyPairCommand, GetKeyLastUsageCommand, GetPublicKeyCommand, KMSClient, SignCommand, VerifyCommand,
} from '@aws-sdk/client-kms';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SecretBytes } from '../../../src/core/crypto/secret-bytes.js';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { Clients, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

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

const ML_KEM = [
  { spec: 'ML_KEM_512', oid: '2.16.840.1.101.3.4.4.1', kem: ml_kem512, ciphertext: 768, python: undefined },
  { spec: 'ML_KEM_768', oid: '2.16.840.1.101.3.4.4.2', kem: ml_kem768, ciphertext: 1088, python: 'MLKEM768PublicKey' },
  { spec: 'ML_KEM_1024', oid: '2.16.840.1.101.3.4.4.3', kem: ml_kem1024, ciphertext: 1568, python: 'MLKEM1024PublicKey' },
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
  assert.match(cls, /^ML(DSA|KEM)\d+PublicKey$/);
  return cls;
}

/** Python `cryptography` encapsulates to the DER SPKI `spki` (checked to be `cls`): [ciphertext, shared secret]. */
async function pythonEncapsulates(spki: Uint8Array, cls: string): Promise<[Buffer, Buffer]> {
  const script = [
    'import sys, base64',
    'from cryptography.hazmat.primitives import serialization',
    'from cryptography.hazmat.primitives.asymmetric import mlkem',
    'der = base64.b64decode(sys.argv[1])',
    'pub = serialization.load_der_public_key(der)',
    `assert isinstance(pub, mlkem.${sys(cls)}), type(pub)`,
    'assert pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == der',
    'secret, ct = pub.encapsulate()',
    'print(base64.b64encode(ct).decode(), base64.b64encode(secret).decode())',
  ].join('\n');
  const [ct, secret] = (await run('python3', ['-c', script, Buffer.from(spki).toString('base64')])).stdout.trim().split(' ');
  return [Buffer.from(ct!, 'base64'), Buffer.from(secret!, 'base64')];
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

    it('boto3 creates an ML_DSA_87 key and signs a μ it computed with hashlib from get_public_key; Python cryptography verifies the signature on the message', async () => {
      const script = [
        'import sys, hashlib, boto3',
        'from cryptography.hazmat.primitives import serialization',
        'kms = boto3.client("kms", endpoint_url=sys.argv[1])',
        'key = kms.create_key(KeySpec="ML_DSA_87", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]',
        'pub = serialization.load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])',
        'msg = b"boto3 post-quantum release" * 400',
        'tr = hashlib.shake_256(pub.public_bytes_raw()).digest(64)',
        'mu = hashlib.shake_256(tr + b"\\x00\\x00" + msg).digest(64)',
        's = kms.sign(KeyId=key, Message=mu, MessageType="EXTERNAL_MU", SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]',
        'pub.verify(s, msg)',
        'assert kms.verify(KeyId=key, Message=mu, MessageType="EXTERNAL_MU", Signature=s, SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"]',
        'print("ok")',
      ].join('\n');
      const { stdout } = await run('python3', ['-c', script, server.url], { env: awsClientEnv() });
      assert.equal(stdout.trim(), 'ok');
    });

    it('ML-DSA signs and verifies off the event loop (worker threads): a setImmediate queued before a warm Sign or Verify runs before it completes', async () => {
      const meta = await create({ KeySpec: 'ML_DSA_87', KeyUsage: 'SIGN_VERIFY' });
      const record = (await server.app.kms.resolver.byIdAnywhere(meta.KeyId!))!;
      const signatures = server.app.kms.signatures;
      const message = () => SecretBytes.adopt(Buffer.from('queued behind nothing'));
      // Warm: the material unwrapped and cached, the expanded key made, the worker started.
      const signature = await signatures.sign(record, 'ML_DSA_SHAKE_256', message(), 'RAW');
      await signatures.verify(record, 'ML_DSA_SHAKE_256', message(), 'RAW', signature);
      // With everything cached, nothing but the signature itself stands between the call and its answer: made on
      // the event loop, it would be done in the same turn, before any setImmediate.
      let turned = false;
      setImmediate(() => (turned = true));
      await signatures.sign(record, 'ML_DSA_SHAKE_256', message(), 'RAW');
      assert.equal(turned, true, 'the ML-DSA signature was made on the event loop');
      turned = false;
      setImmediate(() => (turned = true));
      await signatures.verify(record, 'ML_DSA_SHAKE_256', message(), 'RAW', signature);
      assert.equal(turned, true, 'the ML-DSA signature was verified on the event loop');
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

  describe('ML-KEM (FIPS 203): Encapsulate and Decapsulate', () => {
    it('ML_KEM_512/768/1024: an ENCAPSULATE_DECAPSULATE key offers ML_KEM; GetPublicKey is the DER SPKI with the NIST OID; Encapsulate and Decapsulate agree on a 32-byte secret; a secret encapsulated offline to the public key (noble; Python cryptography for 768/1024) decapsulates in KMS', async () => {
      for (const c of ML_KEM) {
        const meta = await create({ KeySpec: c.spec, KeyUsage: 'ENCAPSULATE_DECAPSULATE' });
        assert.equal(meta.KeyUsage, 'ENCAPSULATE_DECAPSULATE');
        assert.deepEqual(meta.EncapsulationAlgorithms, ['ML_KEM']);
        assert.equal(meta.SigningAlgorithms, undefined);
        assert.deepEqual((await kms.send(new DescribeKeyCommand({ KeyId: meta.KeyId }))).KeyMetadata, meta);
        const pub = await kms.send(new GetPublicKeyCommand({ KeyId: meta.KeyId }));
        assert.equal(pub.KeySpec, c.spec);
        assert.equal(pub.KeyUsage, 'ENCAPSULATE_DECAPSULATE');
        assert.deepEqual(pub.EncapsulationAlgorithms, ['ML_KEM']);
        const raw = rawPublicKey(pub.PublicKey!, c.oid);
        assert.equal(raw.length, c.kem.lengths.publicKey);

        const enc = await kms.send(new EncapsulateCommand({ KeyId: meta.KeyId, EncapsulationAlgorithm: 'ML_KEM' }));
        assert.equal(enc.KeyId, meta.Arn);
        assert.equal(enc.EncapsulationAlgorithm, 'ML_KEM');
        assert.equal(enc.SharedSecret!.length, 32);
        assert.equal(enc.SharedSecretCiphertextBlob!.length, c.ciphertext);
        const dec = await kms.send(new DecapsulateCommand({ KeyId: meta.KeyId, SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob, EncapsulationAlgorithm: 'ML_KEM' }));
        assert.equal(dec.KeyId, meta.Arn);
        assert.equal(dec.EncapsulationAlgorithm, 'ML_KEM');
        assert.deepEqual(Buffer.from(dec.SharedSecret!), Buffer.from(enc.SharedSecret!));

        const offline = c.kem.encapsulate(raw);
        const recovered = await kms.send(new DecapsulateCommand({ KeyId: meta.KeyId, SharedSecretCiphertextBlob: offline.cipherText, EncapsulationAlgorithm: 'ML_KEM' }));
        assert.deepEqual(Buffer.from(recovered.SharedSecret!), Buffer.from(offline.sharedSecret), `${c.spec}: KMS recovers a different secret than noble encapsulated`);
        if (c.python) {
          const [ct, secret] = await pythonEncapsulates(pub.PublicKey!, c.python);
          const fromPython = await kms.send(new DecapsulateCommand({ KeyId: meta.KeyId, SharedSecretCiphertextBlob: ct, EncapsulationAlgorithm: 'ML_KEM' }));
          assert.deepEqual(Buffer.from(fromPython.SharedSecret!), secret, `${c.spec}: KMS recovers a different secret than Python encapsulated`);
        }
      }
    });

    it('GenerateDataKeyPair ML_KEM_768: the PKCS #8 private key (seed form) loads in Python cryptography and noble and decapsulates what was encapsulated to the returned public key', async () => {
      const wrapping = (await create({})).KeyId!;
      const pair = await kms.send(new GenerateDataKeyPairCommand({ KeyId: wrapping, KeyPairSpec: 'ML_KEM_768' }));
      assert.equal(pair.KeyPairSpec, 'ML_KEM_768');
      const raw = rawPublicKey(pair.PublicKey!, ML_KEM[1].oid);
      const pkcs8 = Buffer.from(pair.PrivateKeyPlaintext!);
      // RFC 9935 §6 seed form: ... OCTET STRING { [0] 64-byte seed }.
      const seed = pkcs8.subarray(pkcs8.length - 64);
      assert.deepEqual(Buffer.from(ml_kem768.keygen(seed).publicKey), raw);
      const offline = ml_kem768.encapsulate(raw);
      const script = [
        'import sys, base64',
        'from cryptography.hazmat.primitives import serialization',
        'key = serialization.load_der_private_key(base64.b64decode(sys.argv[1]), None)',
        'assert key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == base64.b64decode(sys.argv[2])',
        'print(base64.b64encode(key.decapsulate(base64.b64decode(sys.argv[3]))).decode())',
      ].join('\n');
      const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
      const { stdout } = await run('python3', ['-c', script, b64(pkcs8), b64(pair.PublicKey!), b64(offline.cipherText)]);
      assert.deepEqual(Buffer.from(stdout.trim(), 'base64'), Buffer.from(offline.sharedSecret));
    });

    it('a ciphertext of the wrong length is InvalidCiphertextException; an altered one yields another secret (implicit rejection); wrong usage, wrong spec usage and a disabled key get AWS\'s errors', async () => {
      const key = (await create({ KeySpec: 'ML_KEM_512', KeyUsage: 'ENCAPSULATE_DECAPSULATE' })).KeyId!;
      const enc = await kms.send(new EncapsulateCommand({ KeyId: key, EncapsulationAlgorithm: 'ML_KEM' }));
      let err = await rejection(kms.send(new DecapsulateCommand({ KeyId: key, SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob!.subarray(1), EncapsulationAlgorithm: 'ML_KEM' })));
      assert.equal(err.name, 'InvalidCiphertextException');
      assert.equal(err.$metadata?.httpStatusCode, 400);
      assert.equal(err.message, 'The SharedSecretCiphertextBlob of a ML_KEM_512 key must be 768 bytes long.');
      const altered = Buffer.from(enc.SharedSecretCiphertextBlob!);
      altered[10]! ^= 1;
      const other = await kms.send(new DecapsulateCommand({ KeyId: key, SharedSecretCiphertextBlob: altered, EncapsulationAlgorithm: 'ML_KEM' }));
      assert.equal(other.SharedSecret!.length, 32);
      assert.notDeepEqual(Buffer.from(other.SharedSecret!), Buffer.from(enc.SharedSecret!));
      // Another ML_KEM_512 key's ciphertext: a pseudo-random secret too, no error; an ML_KEM_768 key refuses its length.
      const sibling = (await create({ KeySpec: 'ML_KEM_512', KeyUsage: 'ENCAPSULATE_DECAPSULATE' })).KeyId!;
      const foreign = await kms.send(new DecapsulateCommand({ KeyId: sibling, SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob, EncapsulationAlgorithm: 'ML_KEM' }));
      assert.notDeepEqual(Buffer.from(foreign.SharedSecret!), Buffer.from(enc.SharedSecret!));
      const key768 = (await create({ KeySpec: 'ML_KEM_768', KeyUsage: 'ENCAPSULATE_DECAPSULATE' })).KeyId!;
      err = await rejection(kms.send(new DecapsulateCommand({ KeyId: key768, SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob, EncapsulationAlgorithm: 'ML_KEM' })));
      assert.equal(err.name, 'InvalidCiphertextException');

      const signing = (await create({ KeySpec: 'ML_DSA_44', KeyUsage: 'SIGN_VERIFY' })).Arn!;
      err = await rejection(kms.send(new EncapsulateCommand({ KeyId: signing, EncapsulationAlgorithm: 'ML_KEM' })));
      assert.equal(err.name, 'InvalidKeyUsageException');
      assert.equal(err.message, `${signing} key usage is SIGN_VERIFY which is not valid for Encapsulate.`);
      err = await rejection(kms.send(new SignCommand({ KeyId: key, Message: Buffer.from('x'), SigningAlgorithm: 'ML_DSA_SHAKE_256' })));
      assert.equal(err.name, 'InvalidKeyUsageException');
      err = await rejection(kms.send(new CreateKeyCommand({ KeySpec: 'ML_KEM_768', KeyUsage: 'KEY_AGREEMENT' })));
      assert.equal(err.name, 'ValidationException');
      assert.equal(err.message, 'KeyUsage KEY_AGREEMENT is not compatible with KeySpec ML_KEM_768. Valid values: ENCAPSULATE_DECAPSULATE.');
      err = await rejection(kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'ENCAPSULATE_DECAPSULATE' })));
      assert.equal(err.name, 'ValidationException');
      await kms.send(new DisableKeyCommand({ KeyId: key }));
      err = await rejection(kms.send(new EncapsulateCommand({ KeyId: key, EncapsulationAlgorithm: 'ML_KEM' })));
      assert.equal(err.name, 'DisabledException');
      err = await rejection(kms.send(new DecapsulateCommand({ KeyId: key, SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob, EncapsulationAlgorithm: 'ML_KEM' })));
      assert.equal(err.name, 'DisabledException');
    });

    it('kms:Encapsulate and kms:Decapsulate are authorized separately, grants may allow them (but not Sign) on an ML-KEM key, GetKeyLastUsage and DryRun know them, and CloudTrail records each call without the secret or its ciphertext', async () => {
      const key = (await create({ KeySpec: 'ML_KEM_768', KeyUsage: 'ENCAPSULATE_DECAPSULATE' })).Arn!;
      const iam: IAMClient = clients.iam();
      await iam.send(new CreateUserCommand({ UserName: 'kem-user' }));
      await iam.send(new PutUserPolicyCommand({ UserName: 'kem-user', PolicyName: 'p', PolicyDocument: policyDocument({ Effect: 'Allow', Action: 'kms:Encapsulate', Resource: key }) }));
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'kem-user' }));
      const user = clients.kms({ accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! });
      const enc = await user.send(new EncapsulateCommand({ KeyId: key, EncapsulationAlgorithm: 'ML_KEM' }));
      let err = await rejection(user.send(new DecapsulateCommand({ KeyId: key, SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob, EncapsulationAlgorithm: 'ML_KEM' })));
      assert.equal(err.name, 'AccessDeniedException');
      assert.match(err.message, /kms:Decapsulate/);
      const grantee = `arn:aws:iam::${TEST_ACCOUNT}:user/kem-user`;
      err = await rejection(kms.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: grantee, Operations: ['Sign'] })));
      assert.equal(err.name, 'ValidationException');
      assert.equal(err.message, 'Grant operations [Sign] are not supported for a KMS key with KeySpec ML_KEM_768 and KeyUsage ENCAPSULATE_DECAPSULATE.');
      await kms.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: grantee, Operations: ['Decapsulate', 'GetPublicKey'] }));
      const dec = await user.send(new DecapsulateCommand({ KeyId: key, SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob, EncapsulationAlgorithm: 'ML_KEM' }));
      assert.deepEqual(Buffer.from(dec.SharedSecret!), Buffer.from(enc.SharedSecret!));
      assert.equal((await kms.send(new GetKeyLastUsageCommand({ KeyId: key }))).KeyLastUsage?.Operation, 'Decapsulate');
      err = await rejection(kms.send(new EncapsulateCommand({ KeyId: key, EncapsulationAlgorithm: 'ML_KEM', DryRun: true })));
      assert.equal(err.name, 'DryRunOperationException');

      const trail = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      try {
        const events = async (name: string) =>
          ((await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }], MaxResults: 50 }))).Events ?? []).map(
            (ev) => JSON.parse(ev.CloudTrailEvent!) as Record<string, unknown>,
          );
        const encapsulations = (await events('Encapsulate')).filter((r) => (r.requestParameters as { keyId?: string } | null)?.keyId === key);
        assert.deepEqual(encapsulations.map((r) => r.errorCode).sort(), ['DryRunOperationException', undefined]);
        const record = encapsulations.find((r) => r.errorCode === undefined)!;
        assert.equal(record.eventSource, 'kms.amazonaws.com');
        assert.equal(record.readOnly, true);
        assert.deepEqual(record.requestParameters, { keyId: key, encapsulationAlgorithm: 'ML_KEM' });
        assert.deepEqual(record.resources, [{ accountId: TEST_ACCOUNT, type: 'AWS::KMS::Key', ARN: key }]);
        const decapsulations = await events('Decapsulate');
        assert.ok(decapsulations.some((r) => r.errorCode === 'AccessDeniedException'));
        assert.ok(decapsulations.some((r) => r.errorCode === undefined && (r.requestParameters as { keyId?: string }).keyId === key));
        const all = JSON.stringify([...encapsulations, ...decapsulations]);
        for (const secret of [enc.SharedSecret!, enc.SharedSecretCiphertextBlob!]) {
          assert.ok(!all.includes(Buffer.from(secret).toString('base64')), 'an audit record holds the shared secret or its ciphertext');
        }
      } finally {
        trail.destroy();
      }
    });
  });
});

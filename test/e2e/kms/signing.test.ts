import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateGrantCommand, CreateKeyCommand, CreateKeyCommandInput, DisableKeyCommand, GetPublicKeyCommand, KMSClient,
  SignCommand, SigningAlgorithmSpec, VerifyCommand,
} from '@aws-sdk/client-kms';
import { ed25519ph } from '@noble/curves/ed25519.js';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { Clients, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

const run = promisify(execFile);

/** Each signing key spec × algorithm of the model that Strongroom serves, with the hash OpenSSL verifies it with. */
const CASES: readonly { spec: string; algorithm: SigningAlgorithmSpec; hash?: 'sha256' | 'sha384' | 'sha512'; pss?: boolean }[] = [
  { spec: 'RSA_2048', algorithm: 'RSASSA_PSS_SHA_256', hash: 'sha256', pss: true },
  { spec: 'RSA_2048', algorithm: 'RSASSA_PSS_SHA_384', hash: 'sha384', pss: true },
  { spec: 'RSA_2048', algorithm: 'RSASSA_PSS_SHA_512', hash: 'sha512', pss: true },
  { spec: 'RSA_2048', algorithm: 'RSASSA_PKCS1_V1_5_SHA_256', hash: 'sha256' },
  { spec: 'RSA_2048', algorithm: 'RSASSA_PKCS1_V1_5_SHA_384', hash: 'sha384' },
  { spec: 'RSA_2048', algorithm: 'RSASSA_PKCS1_V1_5_SHA_512', hash: 'sha512' },
  { spec: 'RSA_3072', algorithm: 'RSASSA_PSS_SHA_384', hash: 'sha384', pss: true },
  { spec: 'RSA_4096', algorithm: 'RSASSA_PKCS1_V1_5_SHA_512', hash: 'sha512' },
  { spec: 'ECC_NIST_P256', algorithm: 'ECDSA_SHA_256', hash: 'sha256' },
  { spec: 'ECC_NIST_P384', algorithm: 'ECDSA_SHA_384', hash: 'sha384' },
  { spec: 'ECC_NIST_P521', algorithm: 'ECDSA_SHA_512', hash: 'sha512' },
  { spec: 'ECC_SECG_P256K1', algorithm: 'ECDSA_SHA_256', hash: 'sha256' },
  { spec: 'ECC_NIST_EDWARDS25519', algorithm: 'ED25519_SHA_512' },
];

/** OpenSSL's verdict on a signature, with the public key exactly as GetPublicKey returned it (DER SPKI). */
function opensslVerifies(dir: string, publicKey: Uint8Array, c: (typeof CASES)[number], message: Buffer, signature: Uint8Array): boolean {
  writeFileSync(join(dir, 'pub.der'), publicKey);
  writeFileSync(join(dir, 'msg.bin'), message);
  writeFileSync(join(dir, 'sig.bin'), signature);
  const args = c.hash
    ? ['dgst', `-${c.hash}`, '-keyform', 'DER', '-verify', 'pub.der', ...(c.pss ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'] : []), '-signature', 'sig.bin', 'msg.bin']
    : ['pkeyutl', '-verify', '-pubin', '-keyform', 'DER', '-inkey', 'pub.der', '-rawin', '-in', 'msg.bin', '-sigfile', 'sig.bin'];
  try {
    return /Verified OK|Signature Verified Successfully/.test(execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch {
    return false;
  }
}

function signingSuite(label: string, serverOptions: () => Promise<Parameters<typeof startServer>[0]>, full: boolean): void {
  describe(`KMS GetPublicKey, Sign and Verify over HTTP with @aws-sdk/client-kms (${label})`, () => {
    let server: TestServer;
    let clients: Clients;
    let kms: KMSClient;
    let dir: string;

    before(async () => {
      server = await startServer(await serverOptions());
      clients = new Clients(server);
      kms = clients.kms();
      dir = mkdtempSync(join(tmpdir(), 'sr-sign-'));
    });
    after(async () => {
      clients.destroy();
      await server.destroy();
    });

    const create = async (params: CreateKeyCommandInput) => (await kms.send(new CreateKeyCommand(params))).KeyMetadata!;
    const message = Buffer.from('the release v1.2.3 is approved\n');

    it('every key spec × signing algorithm: Sign, Verify true, and OpenSSL verifies the signature offline with the GetPublicKey key; a tampered message is KMSInvalidSignatureException', async () => {
      const keys = new Map<string, string>();
      for (const c of full ? CASES : CASES.filter((x) => x.spec !== 'RSA_3072' && x.spec !== 'RSA_4096')) {
        const keyId = keys.get(c.spec) ?? (await create({ KeySpec: c.spec as CreateKeyCommandInput['KeySpec'], KeyUsage: 'SIGN_VERIFY' })).Arn!;
        keys.set(c.spec, keyId);
        const signed = await kms.send(new SignCommand({ KeyId: keyId, Message: message, SigningAlgorithm: c.algorithm }));
        assert.equal(signed.KeyId, keyId);
        assert.equal(signed.SigningAlgorithm, c.algorithm);
        const pub = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
        assert.equal(pub.KeySpec, c.spec);
        assert.equal(pub.KeyUsage, 'SIGN_VERIFY');
        assert.ok(pub.SigningAlgorithms!.includes(c.algorithm));
        assert.ok(opensslVerifies(dir, pub.PublicKey!, c, message, signed.Signature!), `${c.spec} ${c.algorithm}: OpenSSL rejects the signature`);
        const verified = await kms.send(new VerifyCommand({ KeyId: keyId, Message: message, Signature: signed.Signature, SigningAlgorithm: c.algorithm }));
        assert.equal(verified.SignatureValid, true);
        const tampered = Buffer.from(message);
        tampered[0]! ^= 1;
        assert.equal(opensslVerifies(dir, pub.PublicKey!, c, tampered, signed.Signature!), false);
        const err = await rejection(kms.send(new VerifyCommand({ KeyId: keyId, Message: tampered, Signature: signed.Signature, SigningAlgorithm: c.algorithm })));
        assert.equal(err.name, 'KMSInvalidSignatureException', `${c.spec} ${c.algorithm}`);
        assert.equal(err.$metadata?.httpStatusCode, 400);
      }
    });

    it('many concurrent RSA signatures (on the thread pool, a few at a time) each verify for their own message only', async () => {
      const key = (await create({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' })).Arn!;
      const messages = Array.from({ length: 24 }, (_, i) => Buffer.from(`message ${i}`));
      const signatures = await Promise.all(
        messages.map((Message, i) => kms.send(new SignCommand({ KeyId: key, Message, SigningAlgorithm: i % 2 ? 'RSASSA_PSS_SHA_256' : 'RSASSA_PKCS1_V1_5_SHA_256' }))),
      );
      const results = await Promise.all(
        signatures.map((s, i) => kms.send(new VerifyCommand({ KeyId: key, Message: messages[i], Signature: s.Signature, SigningAlgorithm: s.SigningAlgorithm }))),
      );
      assert.deepEqual(results.map((r) => r.SignatureValid), messages.map(() => true));
      // Each signature is its own message's: against a neighbour's message it fails.
      const err = await rejection(kms.send(new VerifyCommand({ KeyId: key, Message: messages[1], Signature: signatures[0]!.Signature, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })));
      assert.equal(err.name, 'KMSInvalidSignatureException');
    });

    it('MessageType DIGEST with RSA: the signature is that of the message whose digest it is (OpenSSL verifies it on the message); a digest of the wrong length is a ValidationException', async () => {
      const key = (await create({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' })).Arn!;
      const pub = (await kms.send(new GetPublicKeyCommand({ KeyId: key }))).PublicKey!;
      for (const c of CASES.filter((x) => x.spec === 'RSA_2048')) {
        const digest = createHash(c.hash!).update(message).digest();
        const signed = await kms.send(new SignCommand({ KeyId: key, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: c.algorithm }));
        assert.ok(opensslVerifies(dir, pub, c, message, signed.Signature!), `${c.algorithm} DIGEST: OpenSSL rejects the signature`);
        // A RAW signature of the message and a DIGEST signature of its digest verify either way.
        assert.equal((await kms.send(new VerifyCommand({ KeyId: key, Message: message, Signature: signed.Signature, SigningAlgorithm: c.algorithm }))).SignatureValid, true);
        const raw = await kms.send(new SignCommand({ KeyId: key, Message: message, SigningAlgorithm: c.algorithm }));
        assert.equal((await kms.send(new VerifyCommand({ KeyId: key, Message: digest, MessageType: 'DIGEST', Signature: raw.Signature, SigningAlgorithm: c.algorithm }))).SignatureValid, true);
      }
      const err = await rejection(kms.send(new SignCommand({ KeyId: key, Message: Buffer.alloc(48), MessageType: 'DIGEST', SigningAlgorithm: 'RSASSA_PSS_SHA_256' })));
      assert.equal(err.name, 'ValidationException');
      assert.equal(err.message, 'Digest is invalid length for algorithm RSASSA_PSS_SHA_256.');
    });

    it('MessageType DIGEST with ECDSA on every curve: OpenSSL verifies the signature on the message; a RAW signature verifies as DIGEST and back; a digest of the wrong length is a ValidationException', async () => {
      for (const c of CASES.filter((x) => x.algorithm.startsWith('ECDSA_'))) {
        const key = (await create({ KeySpec: c.spec as CreateKeyCommandInput['KeySpec'], KeyUsage: 'SIGN_VERIFY' })).Arn!;
        const pub = (await kms.send(new GetPublicKeyCommand({ KeyId: key }))).PublicKey!;
        const digest = createHash(c.hash!).update(message).digest();
        const signed = await kms.send(new SignCommand({ KeyId: key, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: c.algorithm }));
        assert.ok(opensslVerifies(dir, pub, c, message, signed.Signature!), `${c.spec} DIGEST: OpenSSL rejects the signature`);
        assert.equal((await kms.send(new VerifyCommand({ KeyId: key, Message: message, Signature: signed.Signature, SigningAlgorithm: c.algorithm }))).SignatureValid, true);
        const raw = await kms.send(new SignCommand({ KeyId: key, Message: message, SigningAlgorithm: c.algorithm }));
        assert.equal((await kms.send(new VerifyCommand({ KeyId: key, Message: digest, MessageType: 'DIGEST', Signature: raw.Signature, SigningAlgorithm: c.algorithm }))).SignatureValid, true);
        const other = createHash(c.hash!).update('another message').digest();
        const err = await rejection(kms.send(new VerifyCommand({ KeyId: key, Message: other, MessageType: 'DIGEST', Signature: signed.Signature, SigningAlgorithm: c.algorithm })));
        assert.equal(err.name, 'KMSInvalidSignatureException', c.spec);
        const short = await rejection(kms.send(new SignCommand({ KeyId: key, Message: digest.subarray(1), MessageType: 'DIGEST', SigningAlgorithm: c.algorithm })));
        assert.equal(short.name, 'ValidationException');
        assert.equal(short.message, `Digest is invalid length for algorithm ${c.algorithm}.`);
      }
    });

    it('ED25519_PH_SHA_512 (Ed25519ph, RFC 8032) signs a 64-byte SHA-512 DIGEST, hashed again as AWS documents: @noble/curves ed25519ph verifies it with the GetPublicKey key and the digest as message; RAW is refused, a tampered signature is KMSInvalidSignatureException', async () => {
      const meta = await create({ KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY' });
      assert.deepEqual(meta.SigningAlgorithms, ['ED25519_SHA_512', 'ED25519_PH_SHA_512']);
      const spki = Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: meta.KeyId }))).PublicKey!);
      // SPKI of id-Ed25519 (RFC 8410): 12 bytes of header, then the 32-byte public key.
      assert.equal(spki.length, 44);
      const publicKey = spki.subarray(12);
      const digest = createHash('sha512').update(message).digest();
      const signed = await kms.send(new SignCommand({ KeyId: meta.KeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ED25519_PH_SHA_512' }));
      assert.equal(signed.Signature!.length, 64);
      assert.equal(ed25519ph.verify(signed.Signature!, digest, publicKey), true, 'noble ed25519ph rejects the signature');
      assert.equal(ed25519ph.verify(signed.Signature!, message, publicKey), false, 'the digest, not the message, is the Ed25519ph message');
      assert.equal((await kms.send(new VerifyCommand({ KeyId: meta.KeyId, Message: digest, MessageType: 'DIGEST', Signature: signed.Signature, SigningAlgorithm: 'ED25519_PH_SHA_512' }))).SignatureValid, true);
      // Pure Ed25519 of the same bytes is another signature: Ed25519ph's dom2 prefix separates the schemes.
      const pure = await kms.send(new SignCommand({ KeyId: meta.KeyId, Message: digest, SigningAlgorithm: 'ED25519_SHA_512' }));
      let err = await rejection(kms.send(new VerifyCommand({ KeyId: meta.KeyId, Message: digest, MessageType: 'DIGEST', Signature: pure.Signature, SigningAlgorithm: 'ED25519_PH_SHA_512' })));
      assert.equal(err.name, 'KMSInvalidSignatureException');
      const tampered = Buffer.from(signed.Signature!);
      tampered[0]! ^= 1;
      err = await rejection(kms.send(new VerifyCommand({ KeyId: meta.KeyId, Message: digest, MessageType: 'DIGEST', Signature: tampered, SigningAlgorithm: 'ED25519_PH_SHA_512' })));
      assert.equal(err.name, 'KMSInvalidSignatureException');
      err = await rejection(kms.send(new SignCommand({ KeyId: meta.KeyId, Message: message, SigningAlgorithm: 'ED25519_PH_SHA_512' })));
      assert.equal(err.name, 'ValidationException');
      assert.equal(err.message, 'The signing algorithm ED25519_PH_SHA_512 supports MessageType DIGEST only.');
      err = await rejection(kms.send(new SignCommand({ KeyId: meta.KeyId, Message: digest.subarray(0, 32), MessageType: 'DIGEST', SigningAlgorithm: 'ED25519_PH_SHA_512' })));
      assert.equal(err.name, 'ValidationException');
      assert.equal(err.message, 'Digest is invalid length for algorithm ED25519_PH_SHA_512.');
    });

    it('an algorithm of another key spec, a symmetric key, a message over 4096 bytes, and a disabled key get AWS\'s errors', async () => {
      const p256 = (await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' })).Arn!;
      let err = await rejection(kms.send(new SignCommand({ KeyId: p256, Message: message, SigningAlgorithm: 'ECDSA_SHA_384' })));
      assert.equal(err.name, 'InvalidKeyUsageException');
      assert.equal(err.message, 'Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256.');
      err = await rejection(kms.send(new VerifyCommand({ KeyId: p256, Message: message, Signature: Buffer.alloc(64, 1), SigningAlgorithm: 'RSASSA_PSS_SHA_256' })));
      assert.equal(err.name, 'InvalidKeyUsageException');
      const symmetric = await create({});
      err = await rejection(kms.send(new SignCommand({ KeyId: symmetric.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })));
      assert.equal(err.name, 'InvalidKeyUsageException');
      assert.equal(err.message, `${symmetric.Arn} key usage is ENCRYPT_DECRYPT which is not valid for Sign.`);
      err = await rejection(kms.send(new GetPublicKeyCommand({ KeyId: symmetric.KeyId })));
      assert.equal(err.name, 'UnsupportedOperationException');
      err = await rejection(kms.send(new SignCommand({ KeyId: p256, Message: Buffer.alloc(4097), SigningAlgorithm: 'ECDSA_SHA_256' })));
      assert.equal(err.name, 'ValidationException');
      assert.doesNotMatch(err.message, /AAAA/);
      const ed = (await create({ KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY' })).Arn!;
      err = await rejection(kms.send(new SignCommand({ KeyId: ed, Message: Buffer.alloc(64), MessageType: 'DIGEST', SigningAlgorithm: 'ED25519_SHA_512' })));
      assert.equal(err.name, 'ValidationException');
      const garbage = await rejection(kms.send(new VerifyCommand({ KeyId: p256, Message: message, Signature: Buffer.from('not a DER signature'), SigningAlgorithm: 'ECDSA_SHA_256' })));
      assert.equal(garbage.name, 'KMSInvalidSignatureException');
      await kms.send(new DisableKeyCommand({ KeyId: p256 }));
      err = await rejection(kms.send(new SignCommand({ KeyId: p256, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })));
      assert.equal(err.name, 'DisabledException');
      err = await rejection(kms.send(new GetPublicKeyCommand({ KeyId: p256 })));
      assert.equal(err.name, 'DisabledException');
    });

    it('Python cryptography verifies an ECDSA secp256k1 signature with the public key from GetPublicKey', async () => {
      const key = (await create({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' })).Arn!;
      const signature = (await kms.send(new SignCommand({ KeyId: key, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }))).Signature!;
      const publicKey = (await kms.send(new GetPublicKeyCommand({ KeyId: key }))).PublicKey!;
      const script = [
        'import sys, base64',
        'from cryptography.hazmat.primitives import hashes, serialization',
        'from cryptography.hazmat.primitives.asymmetric import ec',
        'pub = serialization.load_der_public_key(base64.b64decode(sys.argv[1]))',
        'assert isinstance(pub.curve, ec.SECP256K1)',
        'pub.verify(base64.b64decode(sys.argv[2]), base64.b64decode(sys.argv[3]), ec.ECDSA(hashes.SHA256()))',
        'print("ok")',
      ].join('\n');
      const { stdout } = await run('python3', ['-c', script, Buffer.from(publicKey).toString('base64'), Buffer.from(signature).toString('base64'), message.toString('base64')]);
      assert.equal(stdout.trim(), 'ok');
    });

    if (!full) return;

    it('kms:Sign, kms:Verify and kms:GetPublicKey are authorized separately (IAM policy and grants), and each call is audited without the message or signature', async () => {
      const key = (await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' })).Arn!;
      const iam: IAMClient = clients.iam();
      await iam.send(new CreateUserCommand({ UserName: 'signer' }));
      await iam.send(new PutUserPolicyCommand({ UserName: 'signer', PolicyName: 'p', PolicyDocument: policyDocument({ Effect: 'Allow', Action: 'kms:Sign', Resource: key }) }));
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'signer' }));
      const signer = clients.kms({ accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! });
      const signature = (await signer.send(new SignCommand({ KeyId: key, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }))).Signature!;
      let err = await rejection(signer.send(new VerifyCommand({ KeyId: key, Message: message, Signature: signature, SigningAlgorithm: 'ECDSA_SHA_256' })));
      assert.equal(err.name, 'AccessDeniedException');
      assert.match(err.message, /kms:Verify/);
      err = await rejection(signer.send(new GetPublicKeyCommand({ KeyId: key })));
      assert.equal(err.name, 'AccessDeniedException');
      await kms.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: `arn:aws:iam::${TEST_ACCOUNT}:user/signer`, Operations: ['Verify', 'GetPublicKey'] }));
      assert.equal((await signer.send(new VerifyCommand({ KeyId: key, Message: message, Signature: signature, SigningAlgorithm: 'ECDSA_SHA_256' }))).SignatureValid, true);
      await signer.send(new GetPublicKeyCommand({ KeyId: key }));

      const trail = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      try {
        const events = async (name: string) =>
          ((await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }], MaxResults: 50 }))).Events ?? []).map(
            (ev) => ev.CloudTrailEvent!,
          );
        const signs = await events('Sign');
        assert.ok(signs.length >= 1);
        const record = JSON.parse(signs[0]!) as Record<string, unknown>;
        assert.equal(record.eventSource, 'kms.amazonaws.com');
        assert.equal(record.readOnly, true);
        assert.deepEqual(record.requestParameters, { keyId: key, signingAlgorithm: 'ECDSA_SHA_256' });
        assert.deepEqual(record.resources, [{ accountId: TEST_ACCOUNT, type: 'AWS::KMS::Key', ARN: key }]);
        const all = [...signs, ...(await events('Verify')), ...(await events('GetPublicKey'))].join('\n');
        assert.ok((await events('Verify')).some((e) => JSON.parse(e).errorCode === 'AccessDeniedException'));
        for (const secret of [message.toString('base64'), Buffer.from(signature).toString('base64'), 'the release v1.2.3']) assert.ok(!all.includes(secret), 'an audit record holds the message or signature');
      } finally {
        trail.destroy();
      }
    });

    it('boto3 signs a DIGEST with RSA and an ECDSA P-384 message, and Python cryptography verifies both offline', async () => {
      const rsa = (await create({ KeySpec: 'RSA_3072', KeyUsage: 'SIGN_VERIFY' })).Arn!;
      const p384 = (await create({ KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' })).Arn!;
      const script = [
        'import sys, hashlib, boto3',
        'from cryptography.hazmat.primitives import hashes, serialization',
        'from cryptography.hazmat.primitives.asymmetric import ec, padding',
        'url, rsa, p384 = sys.argv[1:4]',
        'kms = boto3.client("kms", endpoint_url=url)',
        'msg = b"boto3 release notes"',
        'digest = hashlib.sha512(msg).digest()',
        's = kms.sign(KeyId=rsa, Message=digest, MessageType="DIGEST", SigningAlgorithm="RSASSA_PSS_SHA_512")["Signature"]',
        'pub = serialization.load_der_public_key(kms.get_public_key(KeyId=rsa)["PublicKey"])',
        'pub.verify(s, msg, padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64), hashes.SHA512())',
        's = kms.sign(KeyId=p384, Message=msg, SigningAlgorithm="ECDSA_SHA_384")["Signature"]',
        'pub = serialization.load_der_public_key(kms.get_public_key(KeyId=p384)["PublicKey"])',
        'pub.verify(s, msg, ec.ECDSA(hashes.SHA384()))',
        'try:',
        '    kms.verify(KeyId=p384, Message=msg + b"!", Signature=s, SigningAlgorithm="ECDSA_SHA_384")',
        'except kms.exceptions.KMSInvalidSignatureException:',
        '    print("ok")',
      ].join('\n');
      const { stdout } = await run('python3', ['-c', script, server.url, rsa, p384], { env: awsClientEnv() });
      assert.equal(stdout.trim(), 'ok');
    });

    it('the aws CLI signs a file and OpenSSL verifies the signature with the CLI-fetched public key', async () => {
      const key = (await create({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' })).Arn!;
      writeFileSync(join(dir, 'release.txt'), message);
      const cli = async (...args: string[]) =>
        JSON.parse((await run('aws', [...args, '--endpoint-url', server.url, '--output', 'json'], { cwd: dir, env: awsClientEnv() })).stdout) as Record<string, string>;
      const signed = await cli('kms', 'sign', '--key-id', key, '--message', 'fileb://release.txt', '--message-type', 'RAW', '--signing-algorithm', 'RSASSA_PSS_SHA_256');
      const pub = await cli('kms', 'get-public-key', '--key-id', key);
      const c = CASES[0]!;
      assert.ok(opensslVerifies(dir, Buffer.from(pub.PublicKey!, 'base64'), c, message, Buffer.from(signed.Signature!, 'base64')));
      // fileb://: a blob given inline is base64 text for CLI v2 but raw bytes for v1.
      writeFileSync(join(dir, 'release.sig'), Buffer.from(signed.Signature!, 'base64'));
      const verified = await cli('kms', 'verify', '--key-id', key, '--message', 'fileb://release.txt', '--signature', 'fileb://release.sig', '--signing-algorithm', 'RSASSA_PSS_SHA_256');
      assert.equal(verified.SignatureValid, true);
    });
  });
}

signingSuite('SQLite', async () => ({}), true);
describe('on PostgreSQL', { skip: postgresSkip() }, () => {
  signingSuite('PostgreSQL', async () => ({ databaseUrl: await (await postgresCluster()).createDatabase() }), false);
});

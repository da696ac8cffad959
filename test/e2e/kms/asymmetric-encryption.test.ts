import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateKeyCommand, CreateKeyCommandInput, DecryptCommand, EncryptCommand, EncryptionAlgorithmSpec, GetPublicKeyCommand, KMSClient, ReEncryptCommand, SignCommand,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Clients, policyDocument } from '../../helpers/query-clients.js';
import { TestServer, rejection, startServer } from '../../helpers/server.js';

const run = promisify(execFile);

/**
 * Encrypt and Decrypt with RSA ENCRYPT_DECRYPT keys (RSAES_OAEP_SHA_1/SHA_256), including ciphertexts made
 * offline with the public key from GetPublicKey, as the AWS KMS Developer Guide shows with OpenSSL.
 * https://docs.aws.amazon.com/kms/latest/developerguide/offline-operations.html
 */
describe('KMS asymmetric Encrypt and Decrypt (RSAES-OAEP) over HTTP with @aws-sdk/client-kms', () => {
  let server: TestServer;
  let clients: Clients;
  let kms: KMSClient;
  let dir: string;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    kms = clients.kms();
    dir = mkdtempSync(join(tmpdir(), 'sr-rsa-'));
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  const create = async (params: CreateKeyCommandInput) => (await kms.send(new CreateKeyCommand(params))).KeyMetadata!.Arn!;
  const OAEP: readonly { algorithm: EncryptionAlgorithmSpec; md: string; max2048: number }[] = [
    { algorithm: 'RSAES_OAEP_SHA_1', md: 'sha1', max2048: 214 },
    { algorithm: 'RSAES_OAEP_SHA_256', md: 'sha256', max2048: 190 },
  ];

  it('RSA_2048 and RSA_3072 × RSAES_OAEP_SHA_1/SHA_256: Encrypt then Decrypt round-trips, and a ciphertext made offline by OpenSSL with the GetPublicKey key decrypts', async () => {
    for (const KeySpec of ['RSA_2048', 'RSA_3072'] as const) {
      const key = await create({ KeySpec, KeyUsage: 'ENCRYPT_DECRYPT' });
      const pub = await kms.send(new GetPublicKeyCommand({ KeyId: key }));
      assert.deepEqual(pub.EncryptionAlgorithms, ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']);
      assert.equal(pub.KeyUsage, 'ENCRYPT_DECRYPT');
      writeFileSync(join(dir, 'pub.der'), pub.PublicKey!);
      for (const { algorithm, md } of OAEP) {
        const plaintext = randomBytes(100);
        const enc = await kms.send(new EncryptCommand({ KeyId: key, Plaintext: plaintext, EncryptionAlgorithm: algorithm }));
        assert.equal(enc.EncryptionAlgorithm, algorithm);
        assert.equal(enc.CiphertextBlob!.length, KeySpec === 'RSA_2048' ? 256 : 384);
        const dec = await kms.send(new DecryptCommand({ KeyId: key, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: algorithm }));
        assert.deepEqual(Buffer.from(dec.Plaintext!), plaintext);
        assert.equal(dec.EncryptionAlgorithm, algorithm);
        assert.equal(dec.KeyId, key);

        writeFileSync(join(dir, 'offline.txt'), plaintext);
        execFileSync('openssl', ['pkeyutl', '-encrypt', '-pubin', '-keyform', 'DER', '-inkey', 'pub.der', '-in', 'offline.txt', '-out', 'offline.bin',
          '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`, '-pkeyopt', `rsa_mgf1_md:${md}`], { cwd: dir });
        const offline = readFileSync(join(dir, 'offline.bin'));
        const back = await kms.send(new DecryptCommand({ KeyId: key, CiphertextBlob: offline, EncryptionAlgorithm: algorithm }));
        assert.deepEqual(Buffer.from(back.Plaintext!), plaintext, `${KeySpec} ${algorithm}: OpenSSL's ciphertext`);
      }
    }
  });

  it('a ciphertext made offline by Python cryptography decrypts', async () => {
    const key = await create({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    const pub = (await kms.send(new GetPublicKeyCommand({ KeyId: key }))).PublicKey!;
    const script = [
      'import sys, base64',
      'from cryptography.hazmat.primitives import hashes, serialization',
      'from cryptography.hazmat.primitives.asymmetric import padding',
      'pub = serialization.load_der_public_key(base64.b64decode(sys.argv[1]))',
      'ct = pub.encrypt(b"wrapped offline", padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))',
      'print(base64.b64encode(ct).decode())',
    ].join('\n');
    const { stdout } = await run('python3', ['-c', script, Buffer.from(pub).toString('base64')]);
    const dec = await kms.send(new DecryptCommand({ KeyId: key, CiphertextBlob: Buffer.from(stdout.trim(), 'base64'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    assert.equal(Buffer.from(dec.Plaintext!).toString(), 'wrapped offline');
  });

  it('AWS\'s errors: plaintext over the OAEP limit, an encryption context, no KeyId, a wrong algorithm or usage, a tampered or mismatched ciphertext', async () => {
    const key = await create({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    for (const { algorithm, max2048 } of OAEP) {
      await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.alloc(max2048, 1), EncryptionAlgorithm: algorithm }));
      const err = await rejection(kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.alloc(max2048 + 1, 1), EncryptionAlgorithm: algorithm })));
      assert.equal(err.name, 'ValidationException', algorithm);
    }
    let err = await rejection(kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', EncryptionContext: { a: 'b' } })));
    assert.equal(err.name, 'ValidationException');
    err = await rejection(kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x') })));
    assert.equal(err.name, 'InvalidKeyUsageException');
    assert.equal(err.message, 'Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.');
    const enc = await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    err = await rejection(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })));
    assert.equal(err.name, 'ValidationException');
    err = await rejection(kms.send(new DecryptCommand({ KeyId: key, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })));
    assert.equal(err.name, 'InvalidCiphertextException');
    const tampered = Buffer.from(enc.CiphertextBlob!);
    tampered[10]! ^= 1;
    err = await rejection(kms.send(new DecryptCommand({ KeyId: key, CiphertextBlob: tampered, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })));
    assert.equal(err.name, 'InvalidCiphertextException');
    const other = await create({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    err = await rejection(kms.send(new DecryptCommand({ KeyId: other, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })));
    assert.equal(err.name, 'InvalidCiphertextException');
    const signing = await create({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    err = await rejection(kms.send(new EncryptCommand({ KeyId: signing, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })));
    assert.equal(err.name, 'InvalidKeyUsageException');
    assert.equal(err.message, `${signing} key usage is SIGN_VERIFY which is not valid for Encrypt.`);
    const symmetric = await create({});
    err = await rejection(kms.send(new EncryptCommand({ KeyId: symmetric, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })));
    assert.equal(err.name, 'InvalidKeyUsageException');
    err = await rejection(kms.send(new DecryptCommand({ KeyId: symmetric, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })));
    assert.equal(err.name, 'InvalidKeyUsageException');
  });

  it('ReEncrypt moves a ciphertext from a symmetric key to an RSA key, between RSA keys and back; an asymmetric source needs SourceKeyId', async () => {
    const symmetric = await create({});
    const rsa = await create({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    const rsa2 = await create({ KeySpec: 'RSA_3072', KeyUsage: 'ENCRYPT_DECRYPT' });
    const plaintext = randomBytes(64);
    const start = await kms.send(new EncryptCommand({ KeyId: symmetric, Plaintext: plaintext, EncryptionContext: { a: 'b' } }));
    const toRsa = await kms.send(new ReEncryptCommand({
      CiphertextBlob: start.CiphertextBlob, SourceEncryptionContext: { a: 'b' }, DestinationKeyId: rsa, DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
    }));
    assert.equal(toRsa.SourceEncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    assert.equal(toRsa.DestinationEncryptionAlgorithm, 'RSAES_OAEP_SHA_256');
    assert.equal(toRsa.KeyId, rsa);
    const toRsa2 = await kms.send(new ReEncryptCommand({
      CiphertextBlob: toRsa.CiphertextBlob, SourceKeyId: rsa, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', DestinationKeyId: rsa2, DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
    }));
    assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ KeyId: rsa2, CiphertextBlob: toRsa2.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }))).Plaintext!), plaintext);
    const back = await kms.send(new ReEncryptCommand({
      CiphertextBlob: toRsa2.CiphertextBlob, SourceKeyId: rsa2, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1', DestinationKeyId: symmetric,
    }));
    assert.equal(back.SourceKeyId, rsa2);
    assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob }))).Plaintext!), plaintext);
    const err = await rejection(kms.send(new ReEncryptCommand({ CiphertextBlob: toRsa.CiphertextBlob, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', DestinationKeyId: symmetric })));
    assert.equal(err.name, 'ValidationException');
  });

  it('kms:EncryptionAlgorithm and kms:SigningAlgorithm in an IAM policy allow one algorithm and not another', async () => {
    const rsa = await create({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    const signing = await create({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    const iam = clients.iam();
    await iam.send(new CreateUserCommand({ UserName: 'algo-user' }));
    await iam.send(new PutUserPolicyCommand({
      UserName: 'algo-user',
      PolicyName: 'p',
      PolicyDocument: policyDocument(
        { Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*', Condition: { StringEquals: { 'kms:EncryptionAlgorithm': 'RSAES_OAEP_SHA_256' } } },
        { Effect: 'Allow', Action: 'kms:Sign', Resource: '*', Condition: { StringEquals: { 'kms:SigningAlgorithm': 'RSASSA_PSS_SHA_256', 'kms:MessageType': 'RAW' } } },
      ),
    }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'algo-user' }));
    const user = clients.kms({ accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! });
    const enc = await user.send(new EncryptCommand({ KeyId: rsa, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    await user.send(new DecryptCommand({ KeyId: rsa, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    let err = await rejection(user.send(new EncryptCommand({ KeyId: rsa, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })));
    assert.equal(err.name, 'AccessDeniedException');
    await user.send(new SignCommand({ KeyId: signing, Message: Buffer.from('m'), SigningAlgorithm: 'RSASSA_PSS_SHA_256' }));
    err = await rejection(user.send(new SignCommand({ KeyId: signing, Message: Buffer.from('m'), SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })));
    assert.equal(err.name, 'AccessDeniedException');
  });
});

import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  AlgorithmSpec, CancelKeyDeletionCommand, CreateKeyCommand, CreateKeyCommandInput, DecryptCommand, DeleteImportedKeyMaterialCommand, DescribeKeyCommand,
  DisableKeyCommand, EnableKeyRotationCommand, EncryptCommand, GenerateMacCommand, GetParametersForImportCommand, GetPublicKeyCommand,
  ImportKeyMaterialCommand, ImportKeyMaterialCommandInput, KMSClient, ListKeyRotationsCommand, RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand, SignCommand,
  WrappingKeySpec,
} from '@aws-sdk/client-kms';
import Database from 'better-sqlite3';
import { execFile, execFileSync } from 'node:child_process';
import { constants, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InProcessInvalidation } from '../../../src/core/cache/invalidation.js';
import { DAY_MS, ManualClock } from '../../../src/core/clock.js';
import { MaterialCache } from '../../../src/core/kms/material-cache.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { Clients, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

const HOUR_MS = 60 * 60 * 1000;
const run = promisify(execFile);

/**
 * Imported key material (issue 11), as the AWS KMS Developer Guide's "Importing key material" shows it: the
 * material is wrapped with OpenSSL exactly as its step 3 does (`openssl pkeyutl -encrypt … rsa_padding_mode:oaep`,
 * and for RSA_AES_KEY_WRAP an AES key so wrapped plus `openssl enc -id-aes256-wrap-pad`).
 * https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys-encrypt-key-material.html
 */
describe('KMS imported key material over HTTP with @aws-sdk/client-kms and OpenSSL', () => {
  let server: TestServer;
  let clients: Clients;
  let kms: KMSClient;
  let dir: string;
  const clock = new ManualClock();

  before(async () => {
    server = await startServer({ clock });
    clients = new Clients(server);
    kms = clients.kms();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-import-'));
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const create = async (params: CreateKeyCommandInput = {}) =>
    (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', ...params }))).KeyMetadata!.Arn!;
  const describeKey = async (KeyId: string) => (await kms.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata!;

  /** Step 3 of the guide: RSAES_OAEP_SHA_* with `openssl pkeyutl` (MGF1 of the same hash). */
  function opensslOaep(publicKey: Uint8Array, plaintext: Buffer, md: 'sha1' | 'sha256', stderr: 'ignore' | 'inherit' = 'inherit'): Buffer {
    writeFileSync(join(dir, 'wrapping.der'), publicKey);
    writeFileSync(join(dir, 'plain.bin'), plaintext);
    execFileSync('openssl', [
      'pkeyutl', '-encrypt', '-in', join(dir, 'plain.bin'), '-out', join(dir, 'enc.bin'), '-inkey', join(dir, 'wrapping.der'),
      '-keyform', 'DER', '-pubin', '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`, '-pkeyopt', `rsa_mgf1_md:${md}`,
    ], { stdio: ['ignore', 'ignore', stderr] });
    return readFileSync(join(dir, 'enc.bin'));
  }

  /** RSA_AES_KEY_WRAP_SHA_*: an AES-256 key wrapped with OAEP, then the material with AES key wrap with padding (RFC 5649). */
  function opensslAesKeyWrap(publicKey: Uint8Array, material: Buffer, md: 'sha1' | 'sha256'): Buffer {
    const aesKey = randomBytes(32);
    const wrappedAesKey = opensslOaep(publicKey, aesKey, md);
    writeFileSync(join(dir, 'material.bin'), material);
    execFileSync('openssl', [
      'enc', '-id-aes256-wrap-pad', '-K', aesKey.toString('hex'), '-iv', 'A65959A6', '-in', join(dir, 'material.bin'), '-out', join(dir, 'kwp.bin'),
    ]);
    return Buffer.concat([wrappedAesKey, readFileSync(join(dir, 'kwp.bin'))]);
  }

  async function parameters(KeyId: string, WrappingAlgorithm: AlgorithmSpec = 'RSAES_OAEP_SHA_256', WrappingKeySpec: WrappingKeySpec = 'RSA_2048') {
    return kms.send(new GetParametersForImportCommand({ KeyId, WrappingAlgorithm, WrappingKeySpec }));
  }

  /**
   * An import token is good for any number of imports into its key for 24 hours: the tests reuse one per key
   * and algorithm (an RSA key pair costs a fraction of a second to make on a loaded machine).
   */
  const cache = new Map<string, Awaited<ReturnType<typeof parameters>>>();
  async function cachedParameters(KeyId: string, algorithm: AlgorithmSpec) {
    const hit = cache.get(`${KeyId} ${algorithm}`);
    if (hit && hit.ParametersValidTo!.getTime() > clock.now()) return hit;
    const p = await parameters(KeyId, algorithm);
    cache.set(`${KeyId} ${algorithm}`, p);
    return p;
  }

  function wrap(publicKey: Uint8Array, material: Buffer, algorithm: AlgorithmSpec): Buffer {
    const md = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256';
    return algorithm.startsWith('RSA_AES') ? opensslAesKeyWrap(publicKey, material, md) : opensslOaep(publicKey, material, md);
  }

  /** GetParametersForImport, wrap with OpenSSL, ImportKeyMaterial (material that never expires unless told). */
  async function importInto(
    KeyId: string,
    material: Buffer,
    options: Partial<ImportKeyMaterialCommandInput> & { algorithm?: AlgorithmSpec } = {},
  ) {
    const { algorithm = 'RSAES_OAEP_SHA_256', ...rest } = options;
    const p = await cachedParameters(KeyId, algorithm);
    return kms.send(new ImportKeyMaterialCommand({
      KeyId,
      ImportToken: p.ImportToken,
      EncryptedKeyMaterial: wrap(p.PublicKey!, material, algorithm),
      ...(rest.ValidTo === undefined ? { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' } : {}),
      ...rest,
    }));
  }

  const encrypt = async (KeyId: string, text: string) =>
    (await kms.send(new EncryptCommand({ KeyId, Plaintext: Buffer.from(text) }))).CiphertextBlob!;
  const decrypt = async (CiphertextBlob: Uint8Array, KeyId?: string) =>
    Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob, ...(KeyId ? { KeyId } : {}) }))).Plaintext!).toString();

  /** The stored material rows of a key, straight from the SQLite file. */
  function storedMaterials(keyArn: string): { material_id: string; wrapped: Buffer; import_state: string }[] {
    const db = new Database(join(server.dataDir, 'strongroom.db'), { readonly: true });
    try {
      return db.prepare('SELECT material_id, wrapped, import_state FROM kms_key_materials WHERE key_id = ? ORDER BY seq').all(keyArn.split('/')[1]) as never;
    } finally {
      db.close();
    }
  }

  it('CreateKey with Origin EXTERNAL makes a key PendingImport without material: DescribeKey says so and Encrypt is KMSInvalidStateException', async () => {
    const key = await create({ Description: 'imported' });
    const md = await describeKey(key);
    assert.equal(md.Origin, 'EXTERNAL');
    assert.equal(md.KeyState, 'PendingImport');
    assert.equal(md.Enabled, false);
    assert.equal(md.CurrentKeyMaterialId, undefined);
    assert.equal(md.ExpirationModel, undefined);
    const err = await rejection(kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x') })));
    assert.equal(err.name, 'KMSInvalidStateException');
    assert.equal(err.message, `${key} is pending import.`);
    assert.equal(err.$metadata?.httpStatusCode, 400);
    assert.equal((await rejection(kms.send(new DisableKeyCommand({ KeyId: key })))).name, 'KMSInvalidStateException');
    // Automatic rotation is not for imported material.
    const rotation = await rejection(kms.send(new EnableKeyRotationCommand({ KeyId: key })));
    assert.equal(rotation.name, 'KMSInvalidStateException');
    // A key KMS made takes no imported material.
    const own = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    assert.equal((await rejection(parameters(own))).name, 'UnsupportedOperationException');
  });

  it('GetParametersForImport: an RSA public key (DER SubjectPublicKeyInfo) of each WrappingKeySpec and a token valid 24 hours; RSAES_PKCS1_V1_5 and SM2 refused', async () => {
    const key = await create();
    // RSA_3072 is the condition keys' test's (RSA key pairs are slow to make on a loaded machine).
    for (const [spec, bits] of [['RSA_2048', 2048], ['RSA_4096', 4096]] as const) {
      const p = await parameters(key, 'RSA_AES_KEY_WRAP_SHA_256', spec);
      assert.equal(p.KeyId, key);
      const pub = createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' });
      assert.equal(pub.asymmetricKeyType, 'rsa');
      assert.equal(pub.asymmetricKeyDetails!.modulusLength, bits);
      assert.ok(p.ImportToken!.length > 0);
      assert.ok(Math.abs(p.ParametersValidTo!.getTime() - (clock.now() + 24 * HOUR_MS)) < 2000);
    }
    let err = await rejection(parameters(key, 'RSAES_PKCS1_V1_5'));
    assert.equal(err.name, 'UnsupportedOperationException');
    assert.match(err.message, /RSAES_PKCS1_V1_5 is no longer supported/);
    err = await rejection(parameters(key, 'SM2PKE', 'SM2'));
    assert.equal(err.name, 'UnsupportedOperationException');
    err = await rejection(kms.send(new GetParametersForImportCommand({ KeyId: key, WrappingAlgorithm: 'RSAES_OAEP_SHA_9' as AlgorithmSpec, WrappingKeySpec: 'RSA_2048' })));
    assert.equal(err.name, 'ValidationException');
  });

  it('a 256-bit key wrapped by openssl pkeyutl (OAEP SHA-256) imports: the key is Enabled and encrypts; the same material in two keys gives two keys whose ciphertexts decrypt only under their own key', async () => {
    const material = randomBytes(32);
    const a = await create();
    const b = await create();
    const imported = await importInto(a, material);
    assert.equal(imported.KeyId, a);
    assert.match(imported.KeyMaterialId!, /^[0-9a-f]{64}$/);
    await importInto(b, material, { algorithm: 'RSAES_OAEP_SHA_1' });
    const md = await describeKey(a);
    assert.equal(md.KeyState, 'Enabled');
    assert.equal(md.Enabled, true);
    assert.equal(md.ExpirationModel, 'KEY_MATERIAL_DOES_NOT_EXPIRE');
    assert.equal(md.ValidTo, undefined);
    assert.equal(md.CurrentKeyMaterialId, imported.KeyMaterialId);
    const ca = await encrypt(a, 'secret under a');
    const cb = await encrypt(b, 'secret under b');
    assert.equal(await decrypt(ca), 'secret under a');
    assert.equal(await decrypt(cb, b), 'secret under b');
    // A ciphertext names its KMS key: the same material under another key does not decrypt it.
    assert.equal((await rejection(kms.send(new DecryptCommand({ CiphertextBlob: ca, KeyId: b })))).name, 'IncorrectKeyException');
    // The material is stored only wrapped by the root of trust.
    const rows = storedMaterials(a);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.import_state, 'IMPORTED');
    assert.equal(rows[0]!.wrapped.includes(material), false);
  });

  it('an RSA_2048 signing key imported with RSA_AES_KEY_WRAP_SHA_256: GetPublicKey is its public key and Sign verifies offline with OpenSSL', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = await create({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    // An RSA private key is too long for RSAES_OAEP: OpenSSL itself refuses to wrap it so.
    assert.throws(() => opensslOaep(Buffer.from(publicKey.export({ type: 'spki', format: 'der' })), der, 'sha256', 'ignore'));
    await importInto(key, der, { algorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
    // CurrentKeyMaterialId is for symmetric encryption keys only (the keys that rotate).
    const md = await describeKey(key);
    assert.equal(md.KeyState, 'Enabled');
    assert.equal(md.CurrentKeyMaterialId, undefined);
    assert.equal((await describeKey((await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.Arn!)).CurrentKeyMaterialId, undefined);
    const pub = (await kms.send(new GetPublicKeyCommand({ KeyId: key }))).PublicKey!;
    assert.deepEqual(Buffer.from(pub), publicKey.export({ type: 'spki', format: 'der' }));
    const message = Buffer.from('release v1.2.3');
    const sig = (await kms.send(new SignCommand({ KeyId: key, Message: message, SigningAlgorithm: 'RSASSA_PSS_SHA_256' }))).Signature!;
    writeFileSync(join(dir, 'pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'msg.bin'), message);
    writeFileSync(join(dir, 'sig.bin'), sig);
    const out = execFileSync('openssl', [
      'dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-1',
      '-signature', join(dir, 'sig.bin'), join(dir, 'msg.bin'),
    ]).toString();
    assert.match(out, /Verified OK/);
    // An RSA key of another size is not key material of this spec.
    const other = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'der' });
    const k2 = await create({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    const err = await rejection(importInto(k2, other, { algorithm: 'RSA_AES_KEY_WRAP_SHA_1' }));
    assert.equal(err.name, 'IncorrectKeyMaterialException');
  });

  it('ECC_NIST_P256 and HMAC_256 imports: ECDSA signatures verify with the imported public key, GenerateMac equals openssl dgst -hmac with the same key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const ecc = await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    await importInto(ecc, privateKey.export({ type: 'pkcs8', format: 'der' }), { algorithm: 'RSA_AES_KEY_WRAP_SHA_1' });
    const message = Buffer.from('imported curve');
    const sig = (await kms.send(new SignCommand({ KeyId: ecc, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }))).Signature!;
    assert.equal(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, sig), true);

    // 40 bytes: AWS takes HMAC_256 keys of 32 to 64 bytes.
    const hmacKey = randomBytes(40);
    const hmac = await create({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    await importInto(hmac, hmacKey);
    const mac = (await kms.send(new GenerateMacCommand({ KeyId: hmac, Message: message, MacAlgorithm: 'HMAC_SHA_256' }))).Mac!;
    writeFileSync(join(dir, 'msg.bin'), message);
    const openssl = execFileSync('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${hmacKey.toString('hex')}`, '-binary', join(dir, 'msg.bin')]);
    assert.deepEqual(Buffer.from(mac), openssl);
    // Too short for HMAC_256; ImportType is for symmetric encryption keys only.
    const short = await create({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    assert.equal((await rejection(importInto(short, randomBytes(31)))).name, 'IncorrectKeyMaterialException');
    const err = await rejection(importInto(short, randomBytes(32), { ImportType: 'NEW_KEY_MATERIAL' }));
    assert.equal(err.name, 'ValidationException');
  });

  /** The CloudTrail records of a key, as LookupEvents shows them. */
  async function trailRecords(keyArn: string): Promise<Record<string, any>[]> {
    const t = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    try {
      const events = (await t.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: keyArn }] }))).Events ?? [];
      return events.map((e) => JSON.parse(e.CloudTrailEvent!) as Record<string, any>);
    } finally {
      t.destroy();
    }
  }

  it('material expires at ValidTo (injected clock): the key becomes PendingImport, Decrypt is refused, the material is gone from the store; reimporting the same material restores it', async () => {
    const material = randomBytes(32);
    const key = await create();
    const validTo = new Date(clock.now() + 3 * DAY_MS);
    await importInto(key, material, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo });
    let md = await describeKey(key);
    assert.equal(md.ExpirationModel, 'KEY_MATERIAL_EXPIRES');
    assert.equal(md.ValidTo!.getTime(), validTo.getTime());
    const ct = await encrypt(key, 'expiring');
    clock.advance(3 * DAY_MS + 1000);
    // The periodic sweep deletes it, under its lease (one node does it).
    assert.ok((await server.app.kms.lifecycle.sweep()) >= 1);
    md = await describeKey(key);
    assert.equal(md.KeyState, 'PendingImport');
    const err = await rejection(kms.send(new DecryptCommand({ CiphertextBlob: ct })));
    assert.equal(err.name, 'KMSInvalidStateException');
    assert.equal(err.message, `${key} is pending import.`);
    const rows = storedMaterials(key);
    assert.equal(rows[0]!.import_state, 'PENDING_IMPORT');
    assert.equal(rows[0]!.wrapped.length, 0);
    // CloudTrail: the import as an AwsApiCall without the token or the material, the expiry as KMS's own event.
    const records = await trailRecords(key);
    const expired = records.filter((r) => r.eventName === 'DeleteExpiredKeyMaterial');
    assert.equal(expired.length, 1);
    assert.equal(expired[0]!.eventType, 'AwsServiceEvent');
    assert.deepEqual(expired[0]!.serviceEventDetails, { keyId: key.split('/')[1], keyMaterialId: md.CurrentKeyMaterialId });
    const imported = records.find((r) => r.eventName === 'ImportKeyMaterial')!;
    assert.equal(imported.requestParameters.keyId, key);
    assert.equal(imported.requestParameters.expirationModel, 'KEY_MATERIAL_EXPIRES');
    assert.equal(imported.requestParameters.importToken, undefined);
    assert.equal(imported.requestParameters.encryptedKeyMaterial, undefined);
    assert.equal(imported.responseElements.keyMaterialId, md.CurrentKeyMaterialId);
    // Only the same material comes back.
    assert.equal((await rejection(importInto(key, randomBytes(32)))).name, 'IncorrectKeyMaterialException');
    await importInto(key, material);
    assert.equal((await describeKey(key)).KeyState, 'Enabled');
    assert.equal(await decrypt(ct), 'expiring');
    // ValidTo in the past or beyond 365 days, or with DOES_NOT_EXPIRE, is a ValidationException.
    assert.equal((await rejection(importInto(key, material, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(clock.now() - 1000) }))).name, 'ValidationException');
    assert.equal((await rejection(importInto(key, material, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(clock.now() + 366 * DAY_MS) }))).name, 'ValidationException');
    assert.equal((await rejection(importInto(key, material, { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ValidTo: new Date(clock.now() + DAY_MS) }))).name, 'ValidationException');
  });

  it('import tokens: a tampered token, another key\'s token and a token replaced by a newer GetParametersForImport are InvalidImportTokenException; after 24 hours ExpiredImportTokenException; material not wrapped with the public key is InvalidCiphertextException', async () => {
    const material = randomBytes(32);
    const key = await create();
    const other = await create();
    const importWith = (ImportToken: Uint8Array, EncryptedKeyMaterial: Uint8Array, KeyId = key) =>
      kms.send(new ImportKeyMaterialCommand({ KeyId, ImportToken, EncryptedKeyMaterial, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    const p = await parameters(key);
    const wrapped = wrap(p.PublicKey!, material, 'RSAES_OAEP_SHA_256');
    const tampered = Buffer.from(p.ImportToken!);
    tampered[tampered.length - 5]! ^= 1;
    let err = await rejection(importWith(tampered, wrapped));
    assert.equal(err.name, 'InvalidImportTokenException');
    assert.equal(err.$metadata?.httpStatusCode, 400);
    await parameters(other);
    err = await rejection(importWith(p.ImportToken!, wrapped, other));
    assert.equal(err.name, 'InvalidImportTokenException');
    err = await rejection(importWith(p.ImportToken!, randomBytes(256)));
    assert.equal(err.name, 'InvalidCiphertextException');
    const newer = await parameters(key);
    err = await rejection(importWith(p.ImportToken!, wrapped));
    assert.equal(err.name, 'InvalidImportTokenException');
    clock.advance(24 * HOUR_MS + 1000);
    err = await rejection(importWith(newer.ImportToken!, wrap(newer.PublicKey!, material, 'RSAES_OAEP_SHA_256')));
    assert.equal(err.name, 'ExpiredImportTokenException');
    // Neither the token nor the material reaches the logs.
    const logs = server.logs.join('');
    assert.equal(logs.includes(Buffer.from(p.ImportToken!).toString('base64')), false);
    assert.equal(logs.includes(wrapped.toString('base64')), false);
  });

  it('DeleteImportedKeyMaterial: the key becomes PendingImport and keeps no material; the same material imported again decrypts old ciphertexts; other material is IncorrectKeyMaterialException', async () => {
    const material = randomBytes(32);
    const key = await create();
    const { KeyMaterialId } = await importInto(key, material);
    const ct = await encrypt(key, 'kept');
    const deleted = await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key }));
    assert.equal(deleted.KeyId, key);
    assert.equal(deleted.KeyMaterialId, KeyMaterialId);
    assert.equal((await describeKey(key)).KeyState, 'PendingImport');
    assert.equal((await rejection(kms.send(new DecryptCommand({ CiphertextBlob: ct })))).name, 'KMSInvalidStateException');
    assert.equal(storedMaterials(key)[0]!.wrapped.length, 0);
    const err = await rejection(importInto(key, randomBytes(32), { ImportType: 'EXISTING_KEY_MATERIAL' }));
    assert.equal(err.name, 'IncorrectKeyMaterialException');
    assert.equal(err.message, 'The key material is not the same key material that was previously imported into this KMS key.');
    assert.equal((await importInto(key, material, { KeyMaterialId })).KeyMaterialId, KeyMaterialId);
    assert.equal(await decrypt(ct), 'kept');
    // A key pending deletion stays so when its material is deleted; cancelled, it waits for its material.
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key, PendingWindowInDays: 7 }));
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key }));
    assert.equal((await describeKey(key)).KeyState, 'PendingDeletion');
    await kms.send(new CancelKeyDeletionCommand({ KeyId: key }));
    assert.equal((await describeKey(key)).KeyState, 'PendingImport');
  });

  it('rotation of imported material: NEW_KEY_MATERIAL is PENDING_ROTATION until RotateKeyOnDemand makes it CURRENT; ListKeyRotations shows each material; old ciphertexts decrypt while their material is imported', async () => {
    const first = randomBytes(32);
    const second = randomBytes(32);
    const key = await create();
    const a = (await importInto(key, first, { KeyMaterialDescription: 'first' })).KeyMaterialId!;
    const c1 = await encrypt(key, 'under first');
    let err = await rejection(kms.send(new RotateKeyOnDemandCommand({ KeyId: key })));
    assert.equal(err.name, 'KMSInvalidStateException');
    // Imported material rotates on demand only.
    err = await rejection(kms.send(new EnableKeyRotationCommand({ KeyId: key })));
    assert.equal(err.name, 'UnsupportedOperationException');
    const validTo = new Date(clock.now() + 30 * DAY_MS);
    const b = (await importInto(key, second, { ImportType: 'NEW_KEY_MATERIAL', KeyMaterialDescription: 'second', ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo })).KeyMaterialId!;
    assert.notEqual(a, b);
    // Only one material may wait for rotation.
    err = await rejection(importInto(key, randomBytes(32), { ImportType: 'NEW_KEY_MATERIAL' }));
    assert.equal(err.name, 'KMSInvalidStateException');
    const list = async () => (await kms.send(new ListKeyRotationsCommand({ KeyId: key, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }))).Rotations!;
    let rotations = await list();
    assert.deepEqual(rotations.map((r) => [r.KeyMaterialId, r.KeyMaterialState, r.ImportState, r.KeyMaterialDescription, r.ExpirationModel, r.RotationType]), [
      [a, 'CURRENT', 'IMPORTED', 'first', 'KEY_MATERIAL_DOES_NOT_EXPIRE', undefined],
      [b, 'PENDING_ROTATION', 'IMPORTED', 'second', 'KEY_MATERIAL_EXPIRES', undefined],
    ]);
    assert.equal(rotations[1]!.ValidTo!.getTime(), validTo.getTime());
    assert.equal(rotations[1]!.RotationDate, undefined);
    assert.equal((await kms.send(new ListKeyRotationsCommand({ KeyId: key }))).Rotations!.length, 0);
    assert.equal((await encrypt(key, 'still first')).length > 0, true);
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: key }));
    rotations = await list();
    assert.deepEqual(rotations.map((r) => [r.KeyMaterialId, r.KeyMaterialState, r.RotationType]), [[a, 'NON_CURRENT', undefined], [b, 'CURRENT', 'ON_DEMAND']]);
    assert.ok(Math.abs(rotations[1]!.RotationDate!.getTime() - clock.now()) < 2000);
    const md = await describeKey(key);
    assert.equal(md.CurrentKeyMaterialId, b);
    // The earliest expiry of the materials permanently associated with the key.
    assert.equal(md.ExpirationModel, 'KEY_MATERIAL_EXPIRES');
    assert.equal(md.ValidTo!.getTime(), validTo.getTime());
    const c2 = await encrypt(key, 'under second');
    assert.equal(await decrypt(c1), 'under first');
    assert.equal(await decrypt(c2), 'under second');
    // Deleting the non-current material makes the key wait for it too; reimporting it by id restores both.
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key, KeyMaterialId: a }));
    assert.equal((await describeKey(key)).KeyState, 'PendingImport');
    await importInto(key, first, { KeyMaterialId: a });
    assert.equal(await decrypt(c1), 'under first');
    assert.equal((await list())[0]!.KeyMaterialDescription, 'first');
  });

  it('the aws CLI, step by step as the AWS guide shows: get-parameters-for-import, openssl pkeyutl, import-key-material with fileb://; the key then encrypts', async () => {
    const key = await create();
    // Asynchronously: the server answers in this very process.
    const cli = async (...args: string[]) =>
      (await run('aws', [...args, '--endpoint-url', server.url, '--output', 'text'], { cwd: dir, env: awsClientEnv(), encoding: 'utf8' })).stdout.trim();
    const [publicKey, token] = (await cli('kms', 'get-parameters-for-import', '--key-id', key, '--wrapping-algorithm', 'RSAES_OAEP_SHA_256',
      '--wrapping-key-spec', 'RSA_2048', '--query', '[PublicKey, ImportToken]')).split(/\s+/);
    writeFileSync(join(dir, 'PublicKey.bin'), Buffer.from(publicKey!, 'base64'));
    writeFileSync(join(dir, 'ImportToken.bin'), Buffer.from(token!, 'base64'));
    const material = randomBytes(32);
    writeFileSync(join(dir, 'PlaintextKeyMaterial.bin'), material);
    execFileSync('openssl', [
      'pkeyutl', '-encrypt', '-in', 'PlaintextKeyMaterial.bin', '-out', 'EncryptedKeyMaterial.bin', '-inkey', 'PublicKey.bin', '-keyform', 'DER',
      '-pubin', '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256',
    ], { cwd: dir });
    const id = await cli('kms', 'import-key-material', '--key-id', key, '--encrypted-key-material', 'fileb://EncryptedKeyMaterial.bin',
      '--import-token', 'fileb://ImportToken.bin', '--expiration-model', 'KEY_MATERIAL_DOES_NOT_EXPIRE', '--query', 'KeyMaterialId');
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(await cli('kms', 'describe-key', '--key-id', key, '--query', 'KeyMetadata.KeyState'), 'Enabled');
    assert.equal(await decrypt(await encrypt(key, 'from the CLI')), 'from the CLI');
  });

  it('kms:WrappingAlgorithm, kms:WrappingKeySpec, kms:ExpirationModel and kms:ValidTo condition IAM policies and key policies', async () => {
    const key = await create();
    const iam = clients.iam();
    await iam.send(new CreateUserCommand({ UserName: 'importer' }));
    const latest = Math.floor((clock.now() + 10 * DAY_MS) / 1000);
    await iam.send(new PutUserPolicyCommand({
      UserName: 'importer',
      PolicyName: 'p',
      PolicyDocument: policyDocument(
        {
          Effect: 'Allow',
          Action: 'kms:GetParametersForImport',
          Resource: key,
          Condition: { StringEquals: { 'kms:WrappingAlgorithm': 'RSA_AES_KEY_WRAP_SHA_256', 'kms:WrappingKeySpec': 'RSA_3072' } },
        },
        {
          Effect: 'Allow',
          Action: 'kms:ImportKeyMaterial',
          Resource: key,
          Condition: { StringEquals: { 'kms:ExpirationModel': 'KEY_MATERIAL_EXPIRES' }, NumericLessThanEquals: { 'kms:ValidTo': String(latest) } },
        },
      ),
    }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'importer' }));
    const user = clients.kms({ accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! });
    let err = await rejection(user.send(new GetParametersForImportCommand({ KeyId: key, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_3072' })));
    assert.equal(err.name, 'AccessDeniedException');
    err = await rejection(user.send(new GetParametersForImportCommand({ KeyId: key, WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', WrappingKeySpec: 'RSA_2048' })));
    assert.equal(err.name, 'AccessDeniedException');
    const p = await user.send(new GetParametersForImportCommand({ KeyId: key, WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', WrappingKeySpec: 'RSA_3072' }));
    assert.equal(createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' }).asymmetricKeyDetails!.modulusLength, 3072);
    const EncryptedKeyMaterial = wrap(p.PublicKey!, randomBytes(32), 'RSA_AES_KEY_WRAP_SHA_256');
    const send = (input: Partial<ImportKeyMaterialCommandInput>) =>
      user.send(new ImportKeyMaterialCommand({ KeyId: key, ImportToken: p.ImportToken, EncryptedKeyMaterial, ...input }));
    err = await rejection(send({ ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    assert.equal(err.name, 'AccessDeniedException');
    assert.match(err.message, /kms:ImportKeyMaterial/);
    err = await rejection(send({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date((latest + 60) * 1000) }));
    assert.equal(err.name, 'AccessDeniedException');
    await send({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date((latest - 60) * 1000) });
    assert.equal((await describeKey(key)).KeyState, 'Enabled');

    // A key policy that refuses material that never expires, to everyone (the account's root too).
    const Policy = policyDocument(
      { Sid: 'root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
      { Sid: 'expiring', Effect: 'Deny', Principal: '*', Action: 'kms:ImportKeyMaterial', Resource: '*', Condition: { StringEquals: { 'kms:ExpirationModel': 'KEY_MATERIAL_DOES_NOT_EXPIRE' } } },
    );
    const guarded = await create({ Policy });
    err = await rejection(importInto(guarded, randomBytes(32)));
    assert.equal(err.name, 'AccessDeniedException');
    await importInto(guarded, randomBytes(32), { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(clock.now() + DAY_MS) });
  });
});

/**
 * Two nodes sharing one database (DESIGN.md §6): the wrapping key of one node's GetParametersForImport is in
 * the store (wrapped by the root of trust), so the other node completes the import; a deletion on one node
 * stops the other's use of the key at once (the key cache's invalidation port); PostgreSQL as well as SQLite.
 */
describe('imported key material across two nodes sharing one database', () => {
  const twoNodes = async (databaseUrl?: string) => {
    const port = new InProcessInvalidation();
    const a = await startServer({ cache: { port }, ...(databaseUrl ? { databaseUrl } : {}) });
    const b = await startServer({ cache: { port }, dataDir: a.dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
    return { a, b };
  };

  const scenario = async ({ a, b }: { a: TestServer; b: TestServer }) => {
    const [ka, kb] = [a.kms(), b.kms()];
    try {
      const key = (await ka.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.Arn!;
      const p = await ka.send(new GetParametersForImportCommand({ KeyId: key, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
      const material = randomBytes(32);
      const EncryptedKeyMaterial = publicEncrypt(
        { key: createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        material,
      );
      // Node a is PendingImport in its cache until node b imports; then both use the key.
      assert.equal((await rejection(ka.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x') })))).name, 'KMSInvalidStateException');
      await kb.send(new ImportKeyMaterialCommand({ KeyId: key, ImportToken: p.ImportToken, EncryptedKeyMaterial, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
      const { CiphertextBlob } = await ka.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('two nodes') }));
      assert.equal(Buffer.from((await kb.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString(), 'two nodes');
      // Node b deletes the material: node a refuses at once, though it had the material in memory.
      const cached = (s: TestServer, materialId: string) =>
        (s.app.kms.deps.materials as unknown as { cache: MaterialCache }).cache.get(MaterialCache.key(key.split('/')[1]!, materialId));
      const materialId = (await ka.send(new DescribeKeyCommand({ KeyId: key }))).KeyMetadata!.CurrentKeyMaterialId!;
      assert.ok(cached(a, materialId), 'node a holds the unwrapped material after using it');
      await kb.send(new DeleteImportedKeyMaterialCommand({ KeyId: key }));
      // ...and no longer once node b deleted it: imported material is not kept anywhere after its deletion.
      assert.equal(cached(a, materialId), undefined);
      const err = await rejection(ka.send(new DecryptCommand({ CiphertextBlob })));
      assert.equal(err.name, 'KMSInvalidStateException');
      // A newer GetParametersForImport on node b replaces node a's token for both.
      await kb.send(new GetParametersForImportCommand({ KeyId: key, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
      const stale = await rejection(ka.send(new ImportKeyMaterialCommand({ KeyId: key, ImportToken: p.ImportToken, EncryptedKeyMaterial, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })));
      assert.equal(stale.name, 'InvalidImportTokenException');
    } finally {
      await b.stop();
      await a.destroy();
    }
  };

  it('SQLite: GetParametersForImport on one node, ImportKeyMaterial on the other; a deletion on one stops the other', async () => {
    await scenario(await twoNodes());
  });

  it('PostgreSQL: the same across two nodes of one database', { skip: postgresSkip() }, async () => {
    await scenario(await twoNodes(await (await postgresCluster()).createDatabase()));
  });
});

import { CreateKeyCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileRootOfTrust } from '../../../src/core/crypto/root-of-trust/file.js';
import { KEYRING_AAD, Keyring, parseKeyring } from '../../../src/core/crypto/root-of-trust/keyring.js';
import { Pkcs11RootOfTrust } from '../../../src/core/crypto/root-of-trust/pkcs11.js';
import { RootOfTrust, RootOfTrustError } from '../../../src/core/crypto/root-of-trust/root-of-trust.js';
import { SqliteKeyringStore } from '../../../src/store/metadata/sqlite/keyring-store.js';
import { SqliteDatabase } from '../../../src/store/metadata/sqlite/database.js';
import { runCli } from '../../helpers/cli.js';
import { killAll, spawnServe } from '../../helpers/process.js';
import { TEST_CREDENTIALS, TEST_REGION } from '../../helpers/server.js';
import { SOFTHSM_MODULE, SoftHsm, softHsm, softhsmSkip } from '../../helpers/softhsm.js';

const PIN = '11223344';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('a data dir of an HSM deployment, copied: nothing in it decrypts without the HSM', { skip: softhsmSkip() }, () => {
  let hsm: SoftHsm;
  let dataDir: string;
  const secrets: Buffer[] = [];
  before(async () => {
    hsm = softHsm();
    hsm.initToken('sr-stolen', PIN);
    dataDir = join(mkdtempSync(join(tmpdir(), 'sr-stolen-')), 'data');
    const env = { ...hsm.env('sr-stolen', PIN), STRONGROOM_ROOT_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, STRONGROOM_ROOT_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey };
    const proc = await spawnServe(['--data-dir', dataDir], env);
    const common = { endpoint: proc.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 };
    const kms = new KMSClient(common);
    const s3 = new S3Client({ ...common, forcePathStyle: true });
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    secrets.push(Buffer.from(dataKey.Plaintext!));
    const plaintext = randomBytes(48);
    secrets.push(plaintext);
    await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }));
    await s3.send(new CreateBucketCommand({ Bucket: 'stolen' }));
    const body = randomBytes(4096);
    secrets.push(body);
    await s3.send(new PutObjectCommand({ Bucket: 'stolen', Key: 'sse-kms', Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }));
    await s3.send(new PutObjectCommand({ Bucket: 'stolen', Key: 'sse-s3', Body: body, ServerSideEncryption: 'AES256' }));
    kms.destroy();
    s3.destroy();
    await proc.terminate();
  });
  after(() => {
    killAll();
    hsm.destroy();
  });

  it('no keyring key, data key, plaintext or object body is on disk in the clear (every file of the data dir scanned)', async () => {
    process.env.SOFTHSM2_CONF = hsm.conf;
    const root = Pkcs11RootOfTrust.open({ module: SOFTHSM_MODULE!, tokenLabel: 'sr-stolen', keyLabel: 'strongroom-root', pin: PIN });
    const database = SqliteDatabase.inDataDir(dataDir);
    try {
      const stored = (await new SqliteKeyringStore(database).get())!;
      const keyringKeys = parseKeyring(await root.unwrap(stored.wrapped, KEYRING_AAD)).map((k) => Buffer.from(k.key.reveal()));
      assert.equal(keyringKeys.length, 1);
      const files = filesUnder(dataDir);
      assert.ok(files.some((f) => f.endsWith('strongroom.db')));
      for (const file of files) {
        const bytes = readFileSync(file);
        for (const [i, s] of [...keyringKeys, ...secrets].entries()) assert.ok(!bytes.includes(s), `secret ${i} in ${file}`);
      }
    } finally {
      database.close();
      await root.close();
    }
  });

  it('copied elsewhere and started with a fresh file root: refused, saying the keyring is wrapped by the HSM; nothing opens under the fresh key', async () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'sr-stolen-copy-')), 'data');
    cpSync(dataDir, copy, { recursive: true });
    writeFileSync(join(copy, 'root-of-trust.key'), randomBytes(32), { mode: 0o600 });
    const run = await runCli(['serve', '--port', '0', '--data-dir', copy], { STRONGROOM_ROOT_OF_TRUST: 'file' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^strongroom: the keyring is wrapped by the pkcs11 root of trust \(PKCS#11 token "sr-stolen", key "strongroom-root"\), but the server was given the file root of trust/);
    // Claiming the fresh key is the HSM changes nothing: it opens neither the keyring nor any stored blob.
    const fresh = FileRootOfTrust.openAt(join(copy, 'root-of-trust.key'));
    const posingAsHsm: RootOfTrust = { kind: 'pkcs11', description: 'posing', wrap: (p, a) => fresh.wrap(p, a), unwrap: (w, a) => fresh.unwrap(w, a), close: async () => {} };
    const database = SqliteDatabase.inDataDir(copy);
    try {
      await assert.rejects(new Keyring(new SqliteKeyringStore(database)).unseal(posingAsHsm), RootOfTrustError);
      const sqlite = new Database(join(copy, 'strongroom.db'), { readonly: true });
      const blobs = [
        ...(sqlite.prepare('SELECT wrapped FROM kms_key_materials').all() as { wrapped: Buffer }[]).map((r) => r.wrapped),
        ...(sqlite.prepare('SELECT secret_wrapped AS wrapped FROM access_keys').all() as { wrapped: Buffer }[]).map((r) => r.wrapped),
      ];
      sqlite.close();
      assert.ok(blobs.length >= 2);
      // Every stored blob is under a keyring key (header 0x02), and the keyring only under the HSM key.
      assert.deepEqual(new Set(blobs.map((b) => b[0])), new Set([0x02]));
    } finally {
      database.close();
    }
  });
});

import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type * as Pkcs11js from 'pkcs11js';
import { runCli } from '../../helpers/cli.js';
import { killAll, spawnServe } from '../../helpers/process.js';
import { TEST_CREDENTIALS, TEST_REGION } from '../../helpers/server.js';
import { SOFTHSM_MODULE, SoftHsm, softHsm, softhsmSkip } from '../../helpers/softhsm.js';

const PIN = '24681357';
const ROOT_ENV = { STRONGROOM_ACCOUNT_ID: '111122223333', STRONGROOM_ROOT_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, STRONGROOM_ROOT_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey };

const kmsAt = (url: string) => new KMSClient({ endpoint: url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });

/** The token's view of the root key, read with pkcs11js in this process (a separate login). */
function rootKeyAttributes(hsm: SoftHsm, label: string): { extractable: number; sensitive: number; valueReadable: boolean } {
  process.env.SOFTHSM2_CONF = hsm.conf;
  const p = createRequire(import.meta.url)('pkcs11js') as typeof Pkcs11js;
  const lib = new p.PKCS11();
  lib.load(SOFTHSM_MODULE!);
  lib.C_Initialize();
  try {
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === label)!;
    const session = lib.C_OpenSession(slot, p.CKF_SERIAL_SESSION);
    lib.C_Login(session, p.CKU_USER, PIN);
    lib.C_FindObjectsInit(session, [{ type: p.CKA_LABEL, value: 'strongroom-root' }]);
    const [key] = lib.C_FindObjects(session, 2);
    lib.C_FindObjectsFinal(session);
    const [extractable, sensitive] = lib.C_GetAttributeValue(session, key!, [{ type: p.CKA_EXTRACTABLE }, { type: p.CKA_SENSITIVE }]).map((a) => (a.value as Buffer)[0]!);
    let valueReadable = true;
    try {
      lib.C_GetAttributeValue(session, key!, [{ type: p.CKA_VALUE }]);
    } catch {
      valueReadable = false;
    }
    return { extractable: extractable!, sensitive: sensitive!, valueReadable };
  } finally {
    lib.C_Finalize();
  }
}

describe('the PKCS#11 root of trust (SoftHSM2): start, restart, refusals, the HSM going away', { skip: softhsmSkip() }, () => {
  let hsm: SoftHsm;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let ciphertext: Uint8Array;
  let keyId: string;
  before(() => {
    hsm = softHsm();
    hsm.initToken('sr-root', PIN);
    dataDir = join(mkdtempSync(join(tmpdir(), 'sr-pkcs11-')), 'data');
    env = { ...ROOT_ENV, ...hsm.env('sr-root', PIN) };
  });
  after(() => {
    killAll();
    hsm.destroy();
  });

  it('a new deployment generates its root key in the token (sensitive, not extractable), keeps no key file, and serves the same keys after a restart (--root-of-trust pkcs11, the PIN from STRONGROOM_PKCS11_PIN_FILE)', async () => {
    let proc = await spawnServe(['--data-dir', dataDir], env);
    let kms = kmsAt(proc.url);
    keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    ciphertext = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('in the HSM deployment') }))).CiphertextBlob!;
    kms.destroy();
    assert.equal(await proc.terminate(), 0);
    assert.ok(!existsSync(join(dataDir, 'root-of-trust.key')), `no key file: ${readdirSync(dataDir).join(', ')}`);
    const db = new Database(join(dataDir, 'strongroom.db'), { readonly: true });
    assert.deepEqual(db.prepare('SELECT root_kind, root_description FROM keyring').get(), { root_kind: 'pkcs11', root_description: 'PKCS#11 token "sr-root", key "strongroom-root"' });
    db.close();
    assert.deepEqual(rootKeyAttributes(hsm, 'sr-root'), { extractable: 0, sensitive: 1, valueReadable: false });
    // Restarted with the flag instead of STRONGROOM_ROOT_OF_TRUST, and the PIN from a file.
    const pinFile = join(dataDir, '..', 'pin');
    writeFileSync(pinFile, `${PIN}\n`, { mode: 0o600 });
    const { STRONGROOM_ROOT_OF_TRUST: _kind, STRONGROOM_PKCS11_PIN: _pin, ...rest } = env;
    proc = await spawnServe(['--data-dir', dataDir, '--root-of-trust', 'pkcs11'], { ...rest, STRONGROOM_ROOT_OF_TRUST: '', STRONGROOM_PKCS11_PIN: '', STRONGROOM_PKCS11_PIN_FILE: pinFile });
    kms = kmsAt(proc.url);
    const d = await kms.send(new DecryptCommand({ CiphertextBlob: ciphertext }));
    assert.equal(Buffer.from(d.Plaintext!).toString(), 'in the HSM deployment');
    kms.destroy();
    assert.equal(await proc.terminate(), 0);
  });

  it('the HSM going away while serving: requests keep working from the keyring in memory; rotate-keyring then fails clearly; a restart without the HSM is refused', async () => {
    const proc = await spawnServe(['--data-dir', dataDir], env);
    const kms = kmsAt(proc.url);
    try {
      hsm.removeTokens();
      const d = await kms.send(new DecryptCommand({ CiphertextBlob: ciphertext }));
      assert.equal(Buffer.from(d.Plaintext!).toString(), 'in the HSM deployment');
      const k = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const c = await kms.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from('made without the HSM') }));
      assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: c.CiphertextBlob }))).Plaintext!).toString(), 'made without the HSM');
      const rotate = await runCli(['operator', 'rotate-keyring', '--data-dir', dataDir], env);
      assert.equal(rotate.code, 1, rotate.stderr);
      assert.match(rotate.stderr, /^strongroom: the PKCS#11 module .* has no token labelled "sr-root"/);
      const health = await fetch(`${proc.url}/_strongroom/health`);
      assert.equal(health.status, 200);
    } finally {
      kms.destroy();
      assert.equal(await proc.terminate(), 0);
    }
    const restart = await runCli(['serve', '--port', '0', '--data-dir', dataDir], env);
    assert.equal(restart.code, 1);
    assert.match(restart.stderr, /no token labelled "sr-root"/);
  });
});

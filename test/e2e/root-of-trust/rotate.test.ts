import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.js';
import { killAll, spawnServe } from '../../helpers/process.js';
import { TEST_CREDENTIALS, TEST_REGION } from '../../helpers/server.js';
import { SoftHsm, softHsm, softhsmSkip } from '../../helpers/softhsm.js';
import { PreKeyringFixture, assertPreKeyringDataReadable, preKeyringDataDir } from './pre-keyring.js';

const PIN = '97531246';

function db(dataDir: string) {
  const d = new Database(join(dataDir, 'strongroom.db'), { readonly: true });
  try {
    return {
      keyring: d.prepare('SELECT root_kind, root_description, generation, active_key_id FROM keyring').get() as Record<string, unknown>,
      materials: new Map((d.prepare('SELECT key_id, wrapped FROM kms_key_materials').all() as { key_id: string; wrapped: Buffer }[]).map((r) => [r.key_id, r.wrapped])),
      events: (d.prepare('SELECT record FROM audit_events ORDER BY seq').all() as { record: string }[]).map((r) => JSON.parse(r.record) as { eventName: string; serviceEventDetails?: Record<string, unknown> }),
    };
  } finally {
    d.close();
  }
}

describe('operator rotate-root and rotate-keyring on live data (a data dir made before the keyring)', { skip: softhsmSkip() }, () => {
  let hsm: SoftHsm;
  let dataDir: string;
  let fixture: PreKeyringFixture;
  let env: NodeJS.ProcessEnv;
  before(() => {
    hsm = softHsm();
    hsm.initToken('sr-rotate', PIN);
    ({ dataDir, fixture } = preKeyringDataDir());
    env = hsm.env('sr-rotate', PIN);
  });
  after(() => {
    killAll();
    hsm.destroy();
  });

  it('file -> HSM: only the keyring is re-wrapped, the key file is erased (also by a rerun after a crash before the erasure), and everything made before (KMS, S3, IAM) still decrypts under the HSM root', async () => {
    const keyFile = join(dataDir, 'root-of-trust.key');
    const oldKey = readFileSync(keyFile);
    const run = await runCli(['operator', 'rotate-root', '--to', 'pkcs11', '--root-of-trust', 'file', '--data-dir', dataDir], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /The keyring \(keys 0, 1\) is now wrapped by PKCS#11 token "sr-rotate", key "strongroom-root" \(generation 2\)/);
    assert.match(run.stdout, /Erased the old root-of-trust key file/);
    assert.ok(!existsSync(keyFile));
    // A crash after the UPDATE but before the erasure leaves the file: running the command again finishes the move.
    writeFileSync(keyFile, oldKey, { mode: 0o600 });
    const again = await runCli(['operator', 'rotate-root', '--to', 'pkcs11', '--root-of-trust', 'file', '--data-dir', dataDir], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already wrapped by PKCS#11 token "sr-rotate", key "strongroom-root"; erased the leftover root-of-trust key file/);
    assert.ok(!existsSync(keyFile));
    const after = db(dataDir);
    assert.deepEqual(after.keyring, { root_kind: 'pkcs11', root_description: 'PKCS#11 token "sr-rotate", key "strongroom-root"', generation: 2, active_key_id: 1 });
    assert.equal(after.materials.get(fixture.keyId)![0], 0x01, 'the old material blob was not rewritten');
    const proc = await spawnServe(['--data-dir', dataDir], env);
    try {
      await assertPreKeyringDataReadable(proc.url, fixture);
    } finally {
      await proc.terminate();
    }
  });

  it('rotate-keyring: new material is wrapped by keyring key 2, material of keys 0 and 1 still decrypts; a running server picks the new key up', async () => {
    const proc = await spawnServe(['--data-dir', dataDir], { ...env, STRONGROOM_SWEEP_INTERVAL_MS: '300' });
    const kms = new KMSClient({ endpoint: proc.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    try {
      const before = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const c1 = await kms.send(new EncryptCommand({ KeyId: before, Plaintext: Buffer.from('under keyring key 1') }));
      const run = await runCli(['operator', 'rotate-keyring', '--data-dir', dataDir], env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /Keyring key 2 added and active for new writes \(keys 0, 1, 2; generation 3\)/);
      await new Promise((r) => setTimeout(r, 1500)); // the server's sweep (every 300 ms here) reloads the keyring
      const made = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const c2 = await kms.send(new EncryptCommand({ KeyId: made, Plaintext: Buffer.from('under keyring key 2') }));
      assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: c1.CiphertextBlob }))).Plaintext!).toString(), 'under keyring key 1');
      assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: c2.CiphertextBlob }))).Plaintext!).toString(), 'under keyring key 2');
      const rows = db(dataDir);
      assert.equal(rows.materials.get(before)!.readUInt32BE(1), 1);
      assert.equal(rows.materials.get(made)!.readUInt32BE(1), 2, 'the running server wraps new material with the key added offline');
      await assertPreKeyringDataReadable(proc.url, fixture);
    } finally {
      kms.destroy();
      await proc.terminate();
    }
  });

  it('HSM -> another HSM key: the old key no longer opens the keyring, the new one does; HSM -> file is refused without --allow-weaker-root; both commands are audited', async () => {
    const run = await runCli(['operator', 'rotate-root', '--to', 'pkcs11', '--to-pkcs11-key-label', 'second-root', '--data-dir', dataDir], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /now wrapped by PKCS#11 token "sr-rotate", key "second-root"/);
    const old = await runCli(['serve', '--port', '0', '--data-dir', dataDir], env);
    assert.equal(old.code, 1);
    assert.match(old.stderr, /^strongroom: the root of trust \(PKCS#11 token "sr-rotate", key "strongroom-root"\) does not open the keyring in the database/);
    const weaker = await runCli(['operator', 'rotate-root', '--to', 'file', '--data-dir', dataDir], { ...env, STRONGROOM_PKCS11_KEY_LABEL: 'second-root' });
    assert.equal(weaker.code, 1);
    assert.match(weaker.stderr, /weakens the root of trust .* --allow-weaker-root/);
    const proc = await spawnServe(['--data-dir', dataDir], { ...env, STRONGROOM_PKCS11_KEY_LABEL: 'second-root' });
    try {
      await assertPreKeyringDataReadable(proc.url, fixture);
    } finally {
      await proc.terminate();
    }
    const events = db(dataDir).events.filter((e) => e.eventName === 'RotateRootOfTrust' || e.eventName === 'RotateKeyring');
    assert.deepEqual(events.map((e) => [e.eventName, (e.serviceEventDetails?.to as { description?: string } | undefined)?.description ?? null]), [
      ['RotateRootOfTrust', 'PKCS#11 token "sr-rotate", key "strongroom-root"'],
      ['RotateKeyring', null],
      ['RotateRootOfTrust', 'PKCS#11 token "sr-rotate", key "second-root"'],
    ]);
    assert.ok(!JSON.stringify(events).includes(PIN), 'no PIN in the audit records');
    const verify = await runCli(['audit', 'verify', '--data-dir', dataDir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});

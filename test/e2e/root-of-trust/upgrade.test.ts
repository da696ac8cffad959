import { CreateKeyCommand } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../../helpers/server.js';
import { assertPreKeyringDataReadable, preKeyringDataDir } from './pre-keyring.js';

function rows(dataDir: string) {
  const db = new Database(join(dataDir, 'strongroom.db'), { readonly: true });
  try {
    const hasKeyring = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'keyring'").get() !== undefined;
    const keyring = !hasKeyring ? [] : db.prepare('SELECT root_kind, generation, active_key_id FROM keyring').all() as { root_kind: string; generation: number; active_key_id: number }[];
    const materials = db.prepare('SELECT key_id, wrapped FROM kms_key_materials').all() as { key_id: string; wrapped: Buffer }[];
    return { keyring, materials };
  } finally {
    db.close();
  }
}

describe('upgrading a data dir made before the keyring', () => {
  it('starts on it: what the old code wrapped with the file root still decrypts, new blobs name keyring key 1, restarts keep the same keyring', async () => {
    const { dataDir, fixture } = preKeyringDataDir();
    assert.deepEqual(rows(dataDir).materials.map((m) => m.wrapped[0]), [0x01, 0x01], 'the fixture holds old-format blobs');
    let server = await startServer({ dataDir });
    try {
      await assertPreKeyringDataReadable(server.url, fixture);
      const made = (await server.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await server.stop();
      const after = rows(dataDir);
      assert.deepEqual(after.keyring, [{ root_kind: 'file', generation: 1, active_key_id: 1 }]);
      const blob = after.materials.find((m) => m.key_id === made)!.wrapped;
      assert.equal(blob[0], 0x02, 'new material carries the keyring header');
      assert.equal(blob.readUInt32BE(1), 1, 'wrapped by keyring key 1');
      assert.deepEqual(after.materials.filter((m) => m.key_id !== made).map((m) => m.wrapped[0]), [0x01, 0x01], 'old blobs are not rewritten');
      server = await startServer({ dataDir });
      await assertPreKeyringDataReadable(server.url, fixture);
      assert.equal(rows(dataDir).keyring[0]!.generation, 1);
    } finally {
      await server.destroy();
    }
  });

  it('with another key file in place of its own: refused naming the key, and no keyring is written (the right key still upgrades it later)', async () => {
    const { dataDir } = preKeyringDataDir();
    const keyFile = join(dataDir, 'root-of-trust.key');
    const original = readFileSync(keyFile);
    writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
    await assert.rejects(startServer({ dataDir }), /root-of-trust key .* does not open the keys wrapped in the database/);
    assert.deepEqual(rows(dataDir).keyring, []);
    writeFileSync(keyFile, original, { mode: 0o600 });
    const server = await startServer({ dataDir });
    await server.destroy();
  });
});

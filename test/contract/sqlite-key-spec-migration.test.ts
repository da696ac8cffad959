import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SQLITE_FILE } from '../../src/store/metadata/sqlite/database.js';
import { MIGRATIONS } from '../../src/store/metadata/sqlite/migrations.js';
import { SqliteMetadataStore } from '../../src/store/metadata/sqlite/sqlite-store.js';

describe('SQLite migration 014 (key specs)', () => {
  it('a key stored before the migration reads back as SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, AWS_KMS, not multi-Region', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-migrate-'));
    const db = new Database(join(dir, SQLITE_FILE));
    const before = MIGRATIONS.findIndex((m) => m.includes('key_spec'));
    assert.ok(before > 0);
    for (const m of MIGRATIONS.slice(0, before)) db.exec(m);
    db.pragma(`user_version = ${before}`);
    db.prepare(
      `INSERT INTO kms_keys (key_id, account_id, region, arn, description, key_state, key_manager, created_at, policy,
        current_material_id, rotation_enabled) VALUES ('k1', '111122223333', 'us-east-1', 'arn:aws:kms:us-east-1:111122223333:key/k1', '', 'Enabled', 'CUSTOMER', 1, '{}', 'm0', 0)`,
    ).run();
    db.close();
    const store = SqliteMetadataStore.inDataDir(dir);
    try {
      const key = await store.getKey('k1');
      assert.deepEqual(
        [key?.keySpec, key?.keyUsage, key?.origin, key?.multiRegion],
        ['SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', 'AWS_KMS', false],
      );
    } finally {
      await store.close();
    }
  });
});

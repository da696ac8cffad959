import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresDatabase } from '../../src/store/metadata/postgres/database.js';
import { MIGRATIONS } from '../../src/store/metadata/postgres/migrations.js';
import { PostgresMetadataStore } from '../../src/store/metadata/postgres/postgres-store.js';
import { AliasExistsError, KeyRecord } from '../../src/store/metadata/types.js';
import { postgresCluster, postgresSkip } from '../helpers/postgres.js';

/** What only a networked, shared database has to get right: several nodes on one database at once. */
describe('PostgreSQL database shared by several nodes', { skip: postgresSkip() }, () => {
  const opened: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const s of opened) await s.close();
  });
  const newDatabase = async () => (await postgresCluster()).createDatabase();
  const open = async (url: string) => {
    const db = await PostgresDatabase.open(url);
    opened.push(db);
    return db;
  };

  it('starts a throwaway cluster of its own', async (t) => {
    const cluster = await postgresCluster();
    t.diagnostic(`cluster initdb + start: ${cluster.startMs} ms`);
    const db = await open(await cluster.createDatabase());
    const { rows } = await db.query<{ addr: string | null }>('SELECT host(inet_server_addr()) AS addr');
    assert.equal(rows[0]!.addr, '127.0.0.1');
  });

  it('migrates an empty database once when several nodes open it at the same time', async () => {
    const url = await newDatabase();
    const dbs = await Promise.all(Array.from({ length: 5 }, () => open(url)));
    const { rows } = await dbs[0]!.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((_, i) => i + 1));
  });

  it('reopening a migrated database keeps its data and applies nothing again', async () => {
    const url = await newDatabase();
    const first = await PostgresMetadataStore.open(url);
    await first.initSetting('account_id', '111122223333');
    await first.close();
    const again = await PostgresMetadataStore.open(url);
    opened.push(again);
    assert.equal(await again.getSetting('account_id'), '111122223333');
  });

  it('refuses a database that a newer Strongroom migrated, naming both versions', async () => {
    const url = await newDatabase();
    await open(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)', [MIGRATIONS.length + 1]);
    await client.end();
    await assert.rejects(PostgresDatabase.open(url), {
      message: `the database schema is at version ${MIGRATIONS.length + 1}, newer than this Strongroom knows (${MIGRATIONS.length}): upgrade this node`,
    });
  });

  it('a transaction that throws leaves nothing behind and its error reaches the caller', async () => {
    const db = await open(await newDatabase());
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO settings (name, value) VALUES ($1, $2)', ['a', '1']);
        throw new Error('boom');
      }),
      { message: 'boom' },
    );
    assert.equal((await db.query('SELECT * FROM settings')).rowCount, 0);
  });

  function key(): KeyRecord {
    const keyId = randomUUID();
    return {
      keyId, accountId: '111122223333', region: 'us-east-1', arn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}`,
      description: '', keyState: 'Enabled', keyManager: 'CUSTOMER', createdAt: 1, deletionDate: null,
      pendingWindowInDays: null, policy: '{}', currentMaterialId: 'm0', rotationEnabled: false,
      rotationPeriodInDays: null, nextRotationDate: null, onDemandRotationStartDate: null, keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', multiRegion: false, primaryRegion: null,
    };
  }

  it('rotations of one key on two nodes at once each add a material, numbered one after the other', async () => {
    const url = await newDatabase();
    const [a, b] = [await PostgresMetadataStore.open(url), await PostgresMetadataStore.open(url)];
    opened.push(a, b);
    const k = key();
    await a.createKey(k, { keyId: k.keyId, materialId: 'm0', wrapped: Buffer.from('w'), createdAt: 1, rotationType: null }, []);
    const ids = Array.from({ length: 10 }, (_, i) => `m${i + 1}`);
    await Promise.all(
      ids.map((id, i) =>
        (i % 2 ? a : b).addMaterial({ keyId: k.keyId, materialId: id, wrapped: Buffer.from(id), createdAt: 2, rotationType: 'ON_DEMAND' }, {}),
      ),
    );
    const page = await a.listMaterials(k.keyId, undefined, 50);
    assert.equal(page.items.length, 11);
    assert.deepEqual(new Set(page.items.map((m) => m.materialId)), new Set(['m0', ...ids]));
    assert.equal(await b.countMaterials(k.keyId, 'ON_DEMAND'), 10);
    // A forged page marker (the KMS layer checks only its prefix) pages past the end instead of failing.
    assert.deepEqual((await a.listMaterials(k.keyId, 'x', 50)).items, []);
    assert.deepEqual((await a.listMaterials(k.keyId, '99999999999', 50)).items, []);
  });

  it('the same alias created on two nodes at once: one succeeds, the other gets AliasExistsError', async () => {
    const url = await newDatabase();
    const [a, b] = [await PostgresMetadataStore.open(url), await PostgresMetadataStore.open(url)];
    opened.push(a, b);
    const k = key();
    await a.createKey(k, { keyId: k.keyId, materialId: 'm0', wrapped: Buffer.from('w'), createdAt: 1, rotationType: null }, []);
    const alias = { accountId: k.accountId, region: k.region, targetKeyId: k.keyId, createdAt: 1, updatedAt: 1 };
    for (let i = 0; i < 5; i++) {
      const results = await Promise.allSettled([a, b].map((s) => s.createAlias({ ...alias, aliasName: `alias/race-${i}` })));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(lost.reason instanceof AliasExistsError);
    }
  });

  it('pages order identifiers by bytes (as SQLite does), whatever the database locale', async () => {
    const url = await newDatabase();
    const s = await PostgresMetadataStore.open(url);
    opened.push(s);
    const probe = await open(url);
    // The test database sorts by language rules (test/helpers/postgres.ts), where byte order would differ.
    assert.equal((await probe.query<{ lt: boolean }>(`SELECT 'a' < 'B' AS lt`)).rows[0]!.lt, true);
    const k = key();
    await s.createKey(k, { keyId: k.keyId, materialId: 'm0', wrapped: Buffer.from('w'), createdAt: 1, rotationType: null }, []);
    await s.putTags(k.keyId, ['b', 'B', 'a', 'A', '_', 'a-b', 'ab'].map((TagKey) => ({ TagKey, TagValue: '' })));
    const keys = (await s.listTags(k.keyId, undefined, 50)).items.map((t) => t.TagKey);
    assert.deepEqual(keys, ['A', 'B', '_', 'a', 'a-b', 'ab', 'b']);
  });
});

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { GrantCachingStore } from '../../src/store/metadata/cached-grant-store.js';
import { GrantRecord, GrantStore } from '../../src/store/metadata/grant-types.js';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { SqliteGrantStore, sqliteGrantStore } from '../../src/store/metadata/sqlite/grant-store.js';
import { SqliteMetadataStore } from '../../src/store/metadata/sqlite/sqlite-store.js';
import { grantStoreContract } from './grant-store.contract.js';

function openDatabase(): SqliteDatabase {
  return SqliteDatabase.inDataDir(mkdtempSync(join(tmpdir(), 'sr-grants-')));
}

describe('SQLite grant store', () => {
  const opened: SqliteDatabase[] = [];
  after(() => {
    for (const d of opened) d.db.close();
  });
  grantStoreContract(async () => {
    const database = openDatabase();
    opened.push(database);
    return { grants: new SqliteGrantStore(database), keys: new SqliteMetadataStore(database) };
  });

  it('the authorization path is served by the (key_id, grantee_principal) index', () => {
    const database = openDatabase();
    opened.push(database);
    const plan = database.db
      .prepare('EXPLAIN QUERY PLAN SELECT * FROM kms_grants WHERE key_id = ? AND grantee_principal = ?')
      .all('k', 'p') as { detail: string }[];
    assert.match(plan.map((p) => p.detail).join('\n'), /USING INDEX kms_grants_grantee/);
  });
});

describe('SQLite grant store behind the grant cache (the store app.ts wires)', () => {
  const opened: SqliteDatabase[] = [];
  after(() => {
    for (const d of opened) d.db.close();
  });
  grantStoreContract(async () => {
    const database = openDatabase();
    opened.push(database);
    return { grants: sqliteGrantStore(database), keys: new SqliteMetadataStore(database) };
  });

  /** A store that counts the lookups reaching it. */
  function counting(inner: GrantStore): GrantStore & { lookups: number } {
    const c = Object.assign(Object.create(inner) as GrantStore, { lookups: 0 });
    c.grantsFor = async (keyId, grantee) => {
      c.lookups++;
      return inner.grantsFor(keyId, grantee);
    };
    return c;
  }

  async function setup(options: ConstructorParameters<typeof GrantCachingStore>[1] = {}) {
    const database = openDatabase();
    opened.push(database);
    const keys = new SqliteMetadataStore(database);
    const keyId = randomUUID();
    await keys.createKey(
      { keyId, accountId: '111122223333', region: 'us-east-1', arn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}`, description: '', keyState: 'Enabled', keyManager: 'CUSTOMER', createdAt: 1, deletionDate: null, pendingWindowInDays: null, policy: '{}', currentMaterialId: 'm0', rotationEnabled: false, rotationPeriodInDays: null, nextRotationDate: null, onDemandRotationStartDate: null, keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', multiRegion: false, primaryRegion: null },
      { keyId, materialId: 'm0', wrapped: Buffer.from('w'), createdAt: 1, rotationType: null },
      [],
    );
    const inner = counting(new SqliteGrantStore(database));
    return { keyId, inner, cached: new GrantCachingStore(inner, options) };
  }

  const alice = 'arn:aws:iam::111122223333:user/alice';
  const newGrant = (keyId: string) => ({
    grantId: randomBytes(32).toString('hex'), keyId, name: null, granteePrincipal: alice, retiringPrincipal: null,
    issuingAccountId: '111122223333', operations: ['Decrypt'], constraints: null, createdAt: 1,
  });

  it('answers repeated (key, grantee) lookups from memory, negative answers included', async () => {
    const { keyId, inner, cached } = await setup();
    for (let i = 0; i < 5; i++) assert.deepEqual(await cached.grantsFor(keyId, alice), []);
    assert.equal(inner.lookups, 1);
  });

  it('a create or a delete through it drops the key’s entries at once', async () => {
    const { keyId, inner, cached } = await setup();
    await cached.grantsFor(keyId, alice);
    const g = newGrant(keyId);
    await cached.createGrant(g, 10);
    assert.deepEqual((await cached.grantsFor(keyId, alice)).map((x: GrantRecord) => x.grantId), [g.grantId]);
    await cached.deleteGrant(keyId, g.grantId);
    assert.deepEqual(await cached.grantsFor(keyId, alice), []);
    assert.equal(inner.lookups, 3);
  });

  it('a lookup that raced with a write is not cached', async () => {
    const { keyId, inner, cached } = await setup();
    const pending = cached.grantsFor(keyId, alice); // reads before the grant exists…
    await cached.createGrant(newGrant(keyId), 10); // …the write lands before the lookup's answer is used
    await pending;
    assert.equal((await cached.grantsFor(keyId, alice)).length, 1);
    assert.equal(inner.lookups, 2);
  });

  it('entries expire after the TTL (bounding staleness when another process writes)', async () => {
    let now = 0;
    const { keyId, inner, cached } = await setup({ ttlMs: 1000, now: () => now });
    await cached.grantsFor(keyId, alice);
    now = 999;
    await cached.grantsFor(keyId, alice);
    assert.equal(inner.lookups, 1);
    now = 1000;
    await cached.grantsFor(keyId, alice);
    assert.equal(inner.lookups, 2);
  });
});

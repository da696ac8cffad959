import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { GrantCachingStore } from '../../src/store/metadata/cached-grant-store.js';
import { grantFingerprint } from '../../src/store/metadata/grant-fingerprint.js';
import { NewGrant } from '../../src/store/metadata/grant-types.js';
import { PostgresDatabase } from '../../src/store/metadata/postgres/database.js';
import { PostgresGrantStore } from '../../src/store/metadata/postgres/grant-store.js';
import { PostgresMetadataStore } from '../../src/store/metadata/postgres/postgres-store.js';
import { postgresCluster, postgresSkip } from '../helpers/postgres.js';
import { grantStoreContract } from './grant-store.contract.js';

const skip = postgresSkip();
const opened: PostgresDatabase[] = [];
after(async () => {
  for (const d of opened) await d.close();
});

async function openDatabase(): Promise<PostgresDatabase> {
  const db = await PostgresDatabase.open(await (await postgresCluster()).createDatabase());
  opened.push(db);
  return db;
}

describe('PostgreSQL grant store', { skip }, () => {
  grantStoreContract(async () => {
    const db = await openDatabase();
    return { grants: new PostgresGrantStore(db), keys: new PostgresMetadataStore(db) };
  });
});

describe('PostgreSQL grant store behind the grant cache', { skip }, () => {
  grantStoreContract(async () => {
    const db = await openDatabase();
    return { grants: new GrantCachingStore(new PostgresGrantStore(db)), keys: new PostgresMetadataStore(db) };
  });
});

describe('PostgreSQL grant store on several nodes at once', { skip }, () => {
  const ACCOUNT = '111122223333';
  const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;

  /** Two nodes (two pools) on one fresh database, and a key. */
  async function twoNodes() {
    const url = await (await postgresCluster()).createDatabase();
    const [a, b] = [await PostgresDatabase.open(url), await PostgresDatabase.open(url)];
    opened.push(a, b);
    const keyId = randomUUID();
    await new PostgresMetadataStore(a).createKey(
      { keyId, accountId: ACCOUNT, region: 'us-east-1', arn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/${keyId}`, description: '', keyState: 'Enabled', keyManager: 'CUSTOMER', createdAt: 1, deletionDate: null, pendingWindowInDays: null, policy: '{}', currentMaterialId: 'm0', rotationEnabled: false, rotationPeriodInDays: null, nextRotationDate: null, onDemandRotationStartDate: null, keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', multiRegion: false, primaryRegion: null },
      { keyId, materialId: 'm0', wrapped: Buffer.from('w'), createdAt: 1, rotationType: null },
      [],
    );
    return { keyId, nodes: [new PostgresGrantStore(a), new PostgresGrantStore(b)] };
  }

  const grant = (keyId: string, overrides: Partial<NewGrant> = {}): NewGrant => ({
    grantId: randomBytes(32).toString('hex'), keyId, name: null, granteePrincipal: ALICE, retiringPrincipal: null,
    issuingAccountId: ACCOUNT, operations: ['Decrypt'], constraints: null, createdAt: 1, ...overrides,
  });

  it('concurrent CreateGrants on two nodes never pass the per-key quota', async () => {
    const { keyId, nodes } = await twoNodes();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => nodes[i % 2]!.createGrant(grant(keyId), 5)));
    assert.equal(results.filter((r) => r.outcome === 'created').length, 5);
    assert.equal(results.filter((r) => r.outcome === 'limit-exceeded').length, 7);
    assert.equal(await nodes[0]!.countGrants(keyId), 5);
  });

  it('the same named grant created on two nodes at once exists once; every caller gets that grant', async () => {
    const { keyId, nodes } = await twoNodes();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => nodes[i % 2]!.createGrant(grant(keyId, { name: 'same', operations: i % 2 ? ['Decrypt', 'Encrypt'] : ['Encrypt', 'Decrypt'] }), 50)),
    );
    assert.equal(results.filter((r) => r.outcome === 'created').length, 1);
    const ids = new Set(results.map((r) => (r.outcome === 'limit-exceeded' ? '' : r.grant.grantId)));
    assert.equal(ids.size, 1);
    assert.equal(await nodes[1]!.countGrants(keyId), 1);
  });

  it('a page marker that is not one the store gave pages past the end instead of failing', async () => {
    const { keyId, nodes } = await twoNodes();
    await nodes[0]!.createGrant(grant(keyId), 50);
    assert.deepEqual((await nodes[0]!.listGrants(keyId, {}, 'not-a-seq', 10)).items, []);
    assert.deepEqual((await nodes[0]!.listRetirableGrants(ALICE, 'us-east-1', '99999999999999999999', 10)).items, []);
  });
});

it('the grant fingerprint keeps the value SQLite data dirs already store (a grant means the same on every backend and after an upgrade)', () => {
  // Values computed by the SQLite store's own function before it moved to grant-fingerprint.ts: a change here
  // would make an existing named grant look different and break CreateGrant's Name idempotence.
  const grants: [Parameters<typeof grantFingerprint>[0], string][] = [
    [{ granteePrincipal: 'a', retiringPrincipal: null, operations: ['Encrypt', 'Decrypt', 'Encrypt'], constraints: null }, '9c6a15b1b12171ee6b03f2993fa6e39f8a7b5ca41d754eeea54b45f370df0e34'],
    [{ granteePrincipal: 'a', retiringPrincipal: 'r', operations: ['Decrypt'], constraints: { encryptionContextSubset: { b: '1', a: '2' } } }, 'e869036f8154d385dd93c04fd27437ff60c7e123f939d60146b36ef37a1b3de2'],
    [{ granteePrincipal: 'b', retiringPrincipal: null, operations: ['Sign'], constraints: { encryptionContextEquals: { x: 'y' } } }, 'c0ce6afcab4ab39d7e11d247065602b66bb9e2cfe5778ac396a440dee1e9b3cb'],
  ];
  for (const [g, expected] of grants) assert.equal(grantFingerprint(g), expected);
});

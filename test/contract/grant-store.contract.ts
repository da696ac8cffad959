import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { GrantStore, NewGrant } from '../../src/store/metadata/grant-types.js';
import { KeyRecord, MetadataStore } from '../../src/store/metadata/types.js';

const ACCOUNT = '111122223333';
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const BOB = `arn:aws:iam::${ACCOUNT}:user/bob`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/admin`;

/** A grant store and the metadata store whose keys its grants belong to (one database). */
export interface GrantStores {
  readonly grants: GrantStore;
  readonly keys: MetadataStore;
}

async function newKey(s: MetadataStore, region = 'us-east-1'): Promise<KeyRecord> {
  const keyId = randomUUID();
  const key: KeyRecord = {
    keyId,
    accountId: ACCOUNT,
    region,
    arn: `arn:aws:kms:${region}:${ACCOUNT}:key/${keyId}`,
    description: '',
    keyState: 'Enabled',
    keyManager: 'CUSTOMER',
    createdAt: 1000,
    deletionDate: null,
    pendingWindowInDays: null,
    policy: '{}',
    currentMaterialId: 'm0',
    rotationEnabled: false,
    rotationPeriodInDays: null,
    nextRotationDate: null,
    onDemandRotationStartDate: null, keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', multiRegion: false, primaryRegion: null,
  };
  await s.createKey(key, { keyId, materialId: 'm0', wrapped: Buffer.from('w'), createdAt: 1000, rotationType: null }, []);
  return key;
}

const grant = (keyId: string, overrides: Partial<NewGrant> = {}): NewGrant => ({
  grantId: randomBytes(32).toString('hex'),
  keyId,
  name: null,
  granteePrincipal: ALICE,
  retiringPrincipal: null,
  issuingAccountId: ACCOUNT,
  operations: ['Decrypt', 'Encrypt'],
  constraints: null,
  createdAt: 5000,
  ...overrides,
});

/** The behaviour every grant store must have; each implementation's test file runs it. */
export function grantStoreContract(open: () => Promise<GrantStores>): void {
  it('creates a grant and reads it back with its key ARN, constraints included', async () => {
    const { grants, keys } = await open();
    const key = await newKey(keys);
    // Decoded maps are null-prototype objects: a context key named "__proto__" is data.
    const subset = Object.create(null) as Record<string, string>;
    subset.Department = 'IT';
    subset['__proto__'] = 'kept';
    const g = grant(key.keyId, { name: 'payroll', retiringPrincipal: ADMIN, constraints: { encryptionContextSubset: subset } });
    const created = await grants.createGrant(g, 10);
    assert.equal(created.outcome, 'created');
    const expected = { ...g, keyArn: key.arn };
    assert.deepEqual(created.outcome === 'created' ? { ...created.grant } : undefined, expected);
    const read = await grants.getGrant(g.grantId);
    assert.deepEqual(read?.constraints?.encryptionContextSubset && { ...read.constraints.encryptionContextSubset }, {
      Department: 'IT',
      ['__proto__']: 'kept',
    });
    assert.equal(read?.keyArn, key.arn);
    assert.equal(await grants.getGrant(randomBytes(32).toString('hex')), undefined);
  });

  it('Name idempotence: same name and parameters (operations in any order) give the existing grant; anything else a new one', async () => {
    const { grants, keys } = await open();
    const key = await newKey(keys);
    const first = await grants.createGrant(grant(key.keyId, { name: 'n', operations: ['Encrypt', 'Decrypt'] }), 10);
    assert.equal(first.outcome, 'created');
    const firstId = first.outcome === 'created' ? first.grant.grantId : '';
    const again = await grants.createGrant(grant(key.keyId, { name: 'n', operations: ['Decrypt', 'Encrypt'] }), 10);
    assert.deepEqual([again.outcome, again.outcome !== 'limit-exceeded' && again.grant.grantId], ['existing', firstId]);
    for (const different of [
      { name: 'n', granteePrincipal: BOB },
      { name: 'n', retiringPrincipal: ADMIN },
      { name: 'n', operations: ['Decrypt'] },
      { name: 'n', constraints: { encryptionContextEquals: { a: 'b' } } },
      { name: 'other' },
      { name: null },
    ] satisfies Partial<NewGrant>[]) {
      const r = await grants.createGrant(grant(key.keyId, { operations: ['Encrypt', 'Decrypt'], ...different }), 10);
      assert.equal(r.outcome, 'created', JSON.stringify(different));
    }
    // Without a name nothing is deduplicated.
    const unnamed = await grants.createGrant(grant(key.keyId), 10);
    assert.equal(unnamed.outcome, 'created');
    assert.equal(await grants.countGrants(key.keyId), 8);
  });

  it('refuses a grant past the per-key quota, and an idempotent retry at the quota still answers', async () => {
    const { grants, keys } = await open();
    const key = await newKey(keys);
    const other = await newKey(keys);
    assert.equal((await grants.createGrant(grant(key.keyId, { name: 'a' }), 2)).outcome, 'created');
    assert.equal((await grants.createGrant(grant(key.keyId), 2)).outcome, 'created');
    assert.equal((await grants.createGrant(grant(key.keyId), 2)).outcome, 'limit-exceeded');
    assert.equal((await grants.createGrant(grant(key.keyId, { name: 'a' }), 2)).outcome, 'existing');
    assert.equal((await grants.createGrant(grant(other.keyId), 2)).outcome, 'created');
    assert.equal(await grants.countGrants(key.keyId), 2);
  });

  it('lists a key’s grants in creation order, by pages, filtered by grant id or grantee', async () => {
    const { grants, keys } = await open();
    const key = await newKey(keys);
    const other = await newKey(keys);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const g = grant(key.keyId, { granteePrincipal: i % 2 === 0 ? ALICE : BOB });
      await grants.createGrant(g, 100);
      made.push(g.grantId);
    }
    await grants.createGrant(grant(other.keyId), 100);
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await grants.listGrants(key.keyId, {}, after, 2);
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((g) => g.grantId));
      after = page.next;
    } while (after !== undefined);
    assert.deepEqual(seen, made);
    const last = await grants.listGrants(key.keyId, {}, undefined, 5);
    assert.equal(last.next, undefined);
    assert.deepEqual((await grants.listGrants(key.keyId, { grantId: made[3]! }, undefined, 10)).items.map((g) => g.grantId), [made[3]]);
    assert.deepEqual((await grants.listGrants(other.keyId, { grantId: made[3]! }, undefined, 10)).items, []);
    assert.deepEqual((await grants.listGrants(key.keyId, { granteePrincipal: BOB }, undefined, 10)).items.map((g) => g.grantId), [made[1], made[3]]);
  });

  it('lists retirable grants by retiring principal across keys, in the given region only', async () => {
    const { grants, keys } = await open();
    const east1 = await newKey(keys);
    const east2 = await newKey(keys);
    const west = await newKey(keys, 'us-west-2');
    const ids: string[] = [];
    for (const k of [east1, west, east2]) {
      const g = grant(k.keyId, { retiringPrincipal: ADMIN });
      await grants.createGrant(g, 100);
      ids.push(g.grantId);
    }
    await grants.createGrant(grant(east1.keyId, { retiringPrincipal: BOB }), 100);
    const page1 = await grants.listRetirableGrants(ADMIN, 'us-east-1', undefined, 1);
    assert.equal(page1.items.length, 1);
    assert.notEqual(page1.next, undefined);
    const page2 = await grants.listRetirableGrants(ADMIN, 'us-east-1', page1.next, 1);
    const all = [...page1.items, ...page2.items];
    assert.deepEqual(all.map((g) => g.grantId), [ids[0], ids[2]]);
    assert.deepEqual(all.map((g) => g.keyArn), [east1.arn, east2.arn]);
    assert.deepEqual((await grants.listRetirableGrants(ADMIN, 'us-west-2', undefined, 10)).items.map((g) => g.grantId), [ids[1]]);
  });

  it('grantsFor finds exactly the grants naming that grantee on that key', async () => {
    const { grants, keys } = await open();
    const key = await newKey(keys);
    const other = await newKey(keys);
    const a = grant(key.keyId);
    const b = grant(key.keyId, { granteePrincipal: BOB });
    await grants.createGrant(a, 10);
    await grants.createGrant(b, 10);
    await grants.createGrant(grant(other.keyId), 10);
    assert.deepEqual((await grants.grantsFor(key.keyId, ALICE)).map((g) => g.grantId), [a.grantId]);
    assert.deepEqual(await grants.grantsFor(key.keyId, `${ALICE}x`), []);
  });

  it('a deleted grant is gone from every read, including the authorization path; deleting it twice says false', async () => {
    const { grants, keys } = await open();
    const key = await newKey(keys);
    const other = await newKey(keys);
    const g = grant(key.keyId, { retiringPrincipal: ADMIN });
    await grants.createGrant(g, 10);
    assert.equal((await grants.grantsFor(key.keyId, ALICE)).length, 1);
    assert.equal(await grants.deleteGrant(other.keyId, g.grantId), false, 'a grant is deleted only through its own key');
    assert.equal(await grants.deleteGrant(key.keyId, g.grantId), true);
    assert.equal(await grants.deleteGrant(key.keyId, g.grantId), false);
    assert.equal(await grants.getGrant(g.grantId), undefined);
    assert.deepEqual(await grants.grantsFor(key.keyId, ALICE), []);
    assert.deepEqual((await grants.listGrants(key.keyId, {}, undefined, 10)).items, []);
    assert.deepEqual((await grants.listRetirableGrants(ADMIN, 'us-east-1', undefined, 10)).items, []);
  });

  it('a grant created after a negative lookup is seen by the next lookup', async () => {
    const { grants, keys } = await open();
    const key = await newKey(keys);
    assert.deepEqual(await grants.grantsFor(key.keyId, ALICE), []);
    const g = grant(key.keyId);
    await grants.createGrant(g, 10);
    assert.deepEqual((await grants.grantsFor(key.keyId, ALICE)).map((x) => x.grantId), [g.grantId]);
  });

  it('grants go with their key', async () => {
    const { grants, keys } = await open();
    const key = await newKey(keys);
    const g = grant(key.keyId, { retiringPrincipal: ADMIN });
    await grants.createGrant(g, 10);
    await keys.deleteKey(key.keyId);
    assert.equal(await grants.getGrant(g.grantId), undefined);
    assert.equal(await grants.countGrants(key.keyId), 0);
    assert.deepEqual((await grants.listRetirableGrants(ADMIN, 'us-east-1', undefined, 10)).items, []);
  });
}

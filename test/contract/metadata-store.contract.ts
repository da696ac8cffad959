import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { AliasExistsError, KeyRecord, MaterialRecord, MetadataStore, keyRowId } from '../../src/store/metadata/types.js';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';

function key(overrides: Partial<KeyRecord> = {}): KeyRecord {
  const keyId = overrides.keyId ?? randomUUID();
  return {
    keyId,
    accountId: ACCOUNT,
    region: REGION,
    arn: `arn:aws:kms:${overrides.region ?? REGION}:${ACCOUNT}:key/${keyId}`,
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
    ...overrides,
  };
}

const material = (keyId: string, materialId = 'm0', rotationType: MaterialRecord['rotationType'] = null): MaterialRecord => ({
  keyId,
  materialId,
  wrapped: Buffer.from(`wrapped-${materialId}`),
  createdAt: 1000,
  rotationType,
});

/** The behaviour every metadata store must have; each implementation's test file runs it. */
export function metadataStoreContract(open: () => Promise<MetadataStore>): void {
  it('initSetting sets once and then returns the first value', async () => {
    const s = await open();
    assert.equal(await s.initSetting('account_id', '1'), '1');
    assert.equal(await s.initSetting('account_id', '2'), '1');
    assert.equal(await s.getSetting('missing'), undefined);
  });

  it('stores access keys with their wrapped secrets and lists them by account', async () => {
    const s = await open();
    await s.createAccount({ accountId: ACCOUNT, createdAt: 1 });
    const rec = { accessKeyId: 'AKIA1', accountId: ACCOUNT, principalArn: `arn:aws:iam::${ACCOUNT}:root`, principalType: 'Root' as const, principalId: ACCOUNT, secretWrapped: Buffer.from([1, 2, 3]), status: 'Active' as const, createdAt: 5 };
    await s.putAccessKey(rec);
    assert.deepEqual(await s.getAccessKey('AKIA1'), rec);
    assert.deepEqual((await s.listAccessKeys(ACCOUNT)).map((k) => k.accessKeyId), ['AKIA1']);
  });

  it('creates a key with its first material and tags atomically, and reads it back', async () => {
    const s = await open();
    const k = key({ description: 'd' });
    await s.createKey(k, material(k.keyId), [{ TagKey: 't', TagValue: 'v' }]);
    assert.deepEqual(await s.getKey(k.keyId), k);
    assert.deepEqual((await s.getMaterial(k.keyId, 'm0'))?.wrapped, Buffer.from('wrapped-m0'));
    assert.deepEqual((await s.listTags(k.keyId, undefined, 50)).items, [{ TagKey: 't', TagValue: 'v' }]);
    // A failing create (duplicate id) leaves nothing half-written.
    await assert.rejects(s.createKey(k, material(k.keyId, 'm-other'), [{ TagKey: 'u', TagValue: 'w' }]));
    assert.equal(await s.getMaterial(k.keyId, 'm-other'), undefined);
    assert.equal(await s.countTags(k.keyId), 1);
  });

  it('keeps each key\'s key spec, key usage, origin and multi-Region flag, and a patch never changes them', async () => {
    const s = await open();
    const signing = key({ keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' });
    const rsa = key({ keySpec: 'RSA_4096', keyUsage: 'ENCRYPT_DECRYPT', origin: 'EXTERNAL', expirationModel: null, validTo: null, materialExpiresAt: null });
    await s.createKey(signing, material(signing.keyId), []);
    await s.createKey(rsa, material(rsa.keyId), []);
    assert.deepEqual(await s.getKey(signing.keyId), signing);
    assert.deepEqual(await s.getKey(rsa.keyId), rsa);
    const updated = await s.updateKey(signing.keyId, { description: 'x', keyState: 'Disabled' });
    assert.deepEqual(
      [updated?.keySpec, updated?.keyUsage, updated?.origin, updated?.multiRegion],
      ['ECC_NIST_P256', 'SIGN_VERIFY', 'AWS_KMS', false],
    );
    const listed = (await s.listKeys(ACCOUNT, REGION, undefined, 100)).items.find((k) => k.keyId === rsa.keyId);
    assert.deepEqual([listed?.keySpec, listed?.keyUsage, listed?.origin], ['RSA_4096', 'ENCRYPT_DECRYPT', 'EXTERNAL']);
  });

  it('lists keys per account and region in pages that together hold every key once', async () => {
    const s = await open();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const k = key();
      ids.push(k.keyId);
      await s.createKey(k, material(k.keyId), []);
    }
    const other = key({ region: 'eu-west-1' });
    await s.createKey({ ...other, region: 'eu-west-1' }, material(other.keyId), []);
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await s.listKeys(ACCOUNT, REGION, after, 3);
      assert.ok(page.items.length <= 3);
      seen.push(...page.items.map((k) => k.keyId));
      after = page.next;
    } while (after !== undefined);
    assert.deepEqual(seen.sort(), ids.sort());
  });

  it('updates fields of a key (null clears) and deletes a key with its materials, aliases and tags', async () => {
    const s = await open();
    const k = key();
    await s.createKey(k, material(k.keyId), [{ TagKey: 't', TagValue: 'v' }]);
    const u = await s.updateKey(k.keyId, { keyState: 'PendingDeletion', deletionDate: 50, pendingWindowInDays: 7, rotationEnabled: true });
    assert.equal(u?.keyState, 'PendingDeletion');
    assert.equal(u?.rotationEnabled, true);
    assert.equal((await s.updateKey(k.keyId, { deletionDate: null }))?.deletionDate, null);
    await s.createAlias({ accountId: ACCOUNT, region: REGION, aliasName: 'alias/gone', targetKeyId: k.keyId, createdAt: 1, updatedAt: 1 });
    await s.deleteKey(k.keyId);
    assert.equal(await s.getKey(k.keyId), undefined);
    assert.equal(await s.getMaterial(k.keyId, 'm0'), undefined);
    assert.equal(await s.getAlias(ACCOUNT, REGION, 'alias/gone'), undefined);
    assert.equal(await s.countTags(k.keyId), 0);
    assert.equal(await s.updateKey(k.keyId, { description: 'x' }), undefined);
  });

  it('adds materials in order with the key patch in one step, and counts them by rotation type', async () => {
    const s = await open();
    const k = key();
    await s.createKey(k, material(k.keyId), []);
    const after = await s.addMaterial(material(k.keyId, 'm1', 'ON_DEMAND'), { currentMaterialId: 'm1' });
    assert.equal(after.currentMaterialId, 'm1');
    await s.addMaterial(material(k.keyId, 'm2', 'AUTOMATIC'), { currentMaterialId: 'm2' });
    const p1 = await s.listMaterials(k.keyId, undefined, 2);
    assert.deepEqual(p1.items.map((m) => m.materialId), ['m0', 'm1']);
    const p2 = await s.listMaterials(k.keyId, p1.next, 2);
    assert.deepEqual(p2.items.map((m) => m.materialId), ['m2']);
    assert.equal(p2.next, undefined);
    assert.equal(await s.countMaterials(k.keyId, 'ON_DEMAND'), 1);
  });

  it('finds keys whose deletion or rotation is due', async () => {
    const s = await open();
    const del = key({ keyState: 'PendingDeletion', deletionDate: 100 });
    const rot = key({ rotationEnabled: true, nextRotationDate: 100 });
    const later = key({ rotationEnabled: true, nextRotationDate: 1000 });
    for (const k of [del, rot, later]) await s.createKey(k, material(k.keyId), []);
    assert.deepEqual((await s.listKeysDue(500)).map((k) => k.keyId).sort(), [del.keyId, rot.keyId].sort());
  });

  it('keeps a key awaiting imported material without any, and its imported materials with their import state, expiry and description', async () => {
    const s = await open();
    const k = key({ keyState: 'PendingImport', currentMaterialId: '', origin: 'EXTERNAL', expirationModel: null, validTo: null, materialExpiresAt: null });
    await s.createKey(k, null, []);
    assert.deepEqual(await s.getKey(k.keyId), k);
    assert.deepEqual((await s.listMaterials(k.keyId, undefined, 10)).items, []);
    const imported = (id: string, extra: Partial<NonNullable<MaterialRecord['imported']>> = {}): MaterialRecord => ({
      ...material(k.keyId, id),
      imported: { importState: 'IMPORTED', pendingRotation: false, expirationModel: 'KEY_MATERIAL_EXPIRES', validTo: 5000, description: 'd', ...extra },
    });
    let updated = await s.putMaterials(k.keyId, [imported('a')], [], {
      keyState: 'Enabled', currentMaterialId: 'a', expirationModel: 'KEY_MATERIAL_EXPIRES', validTo: 5000, materialExpiresAt: 5000,
    });
    assert.deepEqual(updated, { ...k, keyState: 'Enabled', currentMaterialId: 'a', expirationModel: 'KEY_MATERIAL_EXPIRES', validTo: 5000, materialExpiresAt: 5000 });
    assert.deepEqual(await s.getMaterial(k.keyId, 'a'), imported('a'));
    // Due at its earliest ValidTo.
    assert.deepEqual((await s.listKeysDue(4999)).map((x) => x.keyId), []);
    assert.deepEqual((await s.listKeysDue(5000)).map((x) => x.keyId), [k.keyId]);
    // A second material pending rotation goes after the first; replacing one keeps its place; removing one drops it.
    await s.putMaterials(k.keyId, [imported('b', { pendingRotation: true, expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', validTo: null, description: '' })], [], {});
    const gone = { ...imported('a', { importState: 'PENDING_IMPORT' }), wrapped: Buffer.alloc(0) };
    updated = await s.putMaterials(k.keyId, [gone], [], { keyState: 'PendingImport', materialExpiresAt: null });
    assert.equal(updated.keyState, 'PendingImport');
    assert.deepEqual((await s.listMaterials(k.keyId, undefined, 10)).items.map((m) => [m.materialId, m.imported?.importState, m.wrapped.length]), [
      ['a', 'PENDING_IMPORT', 0],
      ['b', 'IMPORTED', 'wrapped-b'.length],
    ]);
    assert.deepEqual((await s.listKeysDue(10_000)).map((x) => x.keyId), []);
    await s.putMaterials(k.keyId, [], ['b'], {});
    assert.deepEqual((await s.listMaterials(k.keyId, undefined, 10)).items.map((m) => m.materialId), ['a']);
    // A key KMS made has none of the imported-material fields.
    const own = key();
    await s.createKey(own, material(own.keyId), []);
    assert.deepEqual(await s.getKey(own.keyId), own);
    assert.deepEqual(await s.getMaterial(own.keyId, 'm0'), material(own.keyId));
  });

  it('keeps one set of import parameters per key: a newer one replaces the older, and they go with the key', async () => {
    const s = await open();
    const k = key({ keyState: 'PendingImport', currentMaterialId: '', origin: 'EXTERNAL' });
    await s.createKey(k, null, []);
    assert.equal(await s.getImportParameters(k.keyId), undefined);
    const p = { keyId: k.keyId, tokenId: 't1', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048', privateKeyWrapped: Buffer.from('w1'), createdAt: 1, validTo: 2 };
    await s.putImportParameters(p);
    assert.deepEqual(await s.getImportParameters(k.keyId), p);
    const newer = { ...p, tokenId: 't2', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappingKeySpec: 'RSA_4096', privateKeyWrapped: Buffer.from('w2'), createdAt: 3, validTo: 4 };
    await s.putImportParameters(newer);
    assert.deepEqual(await s.getImportParameters(k.keyId), newer);
    await s.deleteKey(k.keyId);
    assert.equal(await s.getImportParameters(k.keyId), undefined);
  });

  it('aliases are unique per account and region, updatable, listable by key, deletable', async () => {
    const s = await open();
    const a = key();
    const b = key();
    for (const k of [a, b]) await s.createKey(k, material(k.keyId), []);
    const alias = { accountId: ACCOUNT, region: REGION, aliasName: 'alias/x', targetKeyId: a.keyId, createdAt: 1, updatedAt: 1 };
    await s.createAlias(alias);
    await assert.rejects(s.createAlias({ ...alias, targetKeyId: b.keyId }), AliasExistsError);
    await s.createAlias({ ...alias, region: 'eu-west-1' });
    assert.equal(await s.updateAlias(ACCOUNT, REGION, 'alias/x', b.keyId, 2), true);
    assert.equal(await s.updateAlias(ACCOUNT, REGION, 'alias/none', b.keyId, 2), false);
    assert.equal((await s.getAlias(ACCOUNT, REGION, 'alias/x'))?.targetKeyId, b.keyId);
    assert.deepEqual((await s.listAliases(ACCOUNT, REGION, b.keyId, undefined, 10)).items.map((x) => x.aliasName), ['alias/x']);
    assert.deepEqual((await s.listAliases(ACCOUNT, REGION, a.keyId, undefined, 10)).items, []);
    assert.equal(await s.deleteAlias(ACCOUNT, REGION, 'alias/x'), true);
    assert.equal(await s.deleteAlias(ACCOUNT, REGION, 'alias/x'), false);
  });

  it('tags upsert by key, are removed by key and page in key order', async () => {
    const s = await open();
    const k = key();
    await s.createKey(k, material(k.keyId), []);
    await s.putTags(k.keyId, [{ TagKey: 'b', TagValue: '1' }, { TagKey: 'a', TagValue: '1' }, { TagKey: 'c', TagValue: '1' }]);
    await s.putTags(k.keyId, [{ TagKey: 'a', TagValue: '2' }]);
    await s.removeTags(k.keyId, ['c']);
    const p = await s.listTags(k.keyId, undefined, 1);
    assert.deepEqual(p.items, [{ TagKey: 'a', TagValue: '2' }]);
    assert.deepEqual((await s.listTags(k.keyId, p.next, 10)).items, [{ TagKey: 'b', TagValue: '1' }]);
  });

  it('keeps any Unicode in descriptions and tags, U+0000 included, and pages tag keys in code point order', async () => {
    // KMS's DescriptionType, TagKeyType and TagValueType have no pattern: any string is valid.
    const s = await open();
    const k = key({ description: 'a\u0000b é 💡' });
    await s.createKey(k, material(k.keyId), [{ TagKey: 'k\u0000', TagValue: 'v\u0000é' }]);
    assert.equal((await s.getKey(k.keyId))?.description, 'a\u0000b é 💡');
    assert.equal((await s.updateKey(k.keyId, { description: '\u0000' }))?.description, '\u0000');
    await s.putTags(k.keyId, [{ TagKey: 'é', TagValue: '' }, { TagKey: 'Z', TagValue: '' }, { TagKey: 'a', TagValue: '' }]);
    const first = await s.listTags(k.keyId, undefined, 2);
    assert.deepEqual(first.items, [{ TagKey: 'Z', TagValue: '' }, { TagKey: 'a', TagValue: '' }]);
    assert.deepEqual((await s.listTags(k.keyId, first.next, 10)).items, [{ TagKey: 'k\u0000', TagValue: 'v\u0000é' }, { TagKey: 'é', TagValue: '' }]);
    await s.removeTags(k.keyId, ['k\u0000', 'é']);
    assert.equal(await s.countTags(k.keyId), 2);
  });

  it('keeps each key\'s latest use: an earlier one written later never replaces it, a deleted key\'s use is skipped and goes with the key', async () => {
    const s = await open();
    const k = key();
    const other = key();
    await s.createKey(k, material(k.keyId), []);
    await s.createKey(other, material(other.keyId), []);
    const use = (keyId: string, usedAt: number, operation = 'Decrypt') => ({ keyId, operation, usedAt, cloudTrailEventId: `e-${usedAt}`, requestId: `r-${usedAt}` });
    assert.equal(await s.getKeyLastUsage(k.keyId), undefined);
    // A batch may name a key twice (the later use counts) and a key that no longer exists (skipped).
    await s.recordKeyLastUsage([use(k.keyId, 2000, 'Encrypt'), use(k.keyId, 1500), use(other.keyId, 10), use('gone-key', 5)]);
    assert.deepEqual(await s.getKeyLastUsage(k.keyId), use(k.keyId, 2000, 'Encrypt'));
    assert.equal(await s.getKeyLastUsage('gone-key'), undefined);
    // Another node's older use, flushed later, leaves the later one; a later use replaces it.
    await s.recordKeyLastUsage([use(k.keyId, 1000, 'Sign')]);
    assert.deepEqual(await s.getKeyLastUsage(k.keyId), use(k.keyId, 2000, 'Encrypt'));
    await s.recordKeyLastUsage([use(k.keyId, 3000, 'GenerateMac'), use(other.keyId, 20)]);
    assert.deepEqual(await s.getKeyLastUsage(k.keyId), use(k.keyId, 3000, 'GenerateMac'));
    assert.deepEqual(await s.getKeyLastUsage(other.keyId), use(other.keyId, 20));
    await s.deleteKey(k.keyId);
    assert.equal(await s.getKeyLastUsage(k.keyId), undefined);
    await s.recordKeyLastUsage([]);
  });

  it('multi-Region keys: one row per Region under one key id, each with its own tags, aliases and state', async () => {
    const s = await open();
    const id = `mrk-${randomUUID().replace(/-/g, '')}`;
    const primary = key({ keyId: id, multiRegion: true, primaryRegion: REGION });
    await s.createKey(primary, material(keyRowId(primary)), [{ TagKey: 'p', TagValue: '1' }]);
    const replica = await s.createReplica(
      key({ keyId: id, region: 'eu-west-1', multiRegion: true, description: 'replica', currentMaterialId: 'ignored', primaryRegion: 'ignored' }),
      keyRowId(primary),
      [{ TagKey: 'r', TagValue: '2' }],
    );
    assert.equal(replica?.keyId, id);
    assert.equal(replica?.region, 'eu-west-1');
    assert.equal(replica?.arn, `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${id}`);
    assert.equal(replica?.description, 'replica');
    // Shared properties come from the related key, not from the record given.
    assert.equal(replica?.currentMaterialId, 'm0');
    assert.equal(replica?.primaryRegion, REGION);
    assert.deepEqual((await s.getMaterial(keyRowId(replica!), 'm0'))?.wrapped, Buffer.from('wrapped-m0'));
    assert.deepEqual(await s.getKey(keyRowId(primary)), primary);
    assert.equal(await s.getKey(id), undefined);
    assert.deepEqual((await s.listRelatedKeys(id)).map((k) => [k.keyId, k.region]), [[id, 'eu-west-1'], [id, REGION]]);
    assert.deepEqual((await s.listTags(keyRowId(replica!), undefined, 10)).items, [{ TagKey: 'r', TagValue: '2' }]);
    assert.deepEqual((await s.listTags(keyRowId(primary), undefined, 10)).items, [{ TagKey: 'p', TagValue: '1' }]);
    // An alias names its target by key id, in its own Region.
    await s.createAlias({ accountId: ACCOUNT, region: 'eu-west-1', aliasName: 'alias/mrk', targetKeyId: id, createdAt: 1, updatedAt: 1 });
    assert.equal((await s.getAlias(ACCOUNT, 'eu-west-1', 'alias/mrk'))?.targetKeyId, id);
    assert.deepEqual((await s.listAliases(ACCOUNT, 'eu-west-1', id, undefined, 10)).items.map((a) => a.aliasName), ['alias/mrk']);
    assert.deepEqual((await s.listAliases(ACCOUNT, REGION, id, undefined, 10)).items, []);
    assert.deepEqual((await s.listKeys(ACCOUNT, 'eu-west-1', undefined, 10)).items.map((k) => k.arn), [replica!.arn]);
    // A second replica in one Region is refused, leaving nothing behind.
    assert.equal(await s.createReplica(key({ keyId: id, region: 'eu-west-1', multiRegion: true }), keyRowId(primary), [{ TagKey: 'x', TagValue: 'y' }]), undefined);
    assert.equal(await s.countTags(keyRowId(replica!)), 1);
    assert.equal(await s.createReplica(key({ keyId: id, region: 'ap-south-1', multiRegion: true }), 'mrk-gone@us-east-1', []), undefined);
    // Each key's own state.
    await s.updateKey(keyRowId(replica!), { keyState: 'Disabled' });
    assert.equal((await s.getKey(keyRowId(primary)))?.keyState, 'Enabled');
  });

  it('multi-Region keys share rotation: a material and patch reach every related key at once; only the primary is due to rotate', async () => {
    const s = await open();
    const id = `mrk-${randomUUID().replace(/-/g, '')}`;
    const primary = key({ keyId: id, multiRegion: true, primaryRegion: REGION });
    await s.createKey(primary, material(keyRowId(primary)), []);
    await s.createReplica(key({ keyId: id, region: 'eu-west-1', multiRegion: true }), keyRowId(primary), []);
    const updated = await s.updateRelatedKeys(id, { rotationEnabled: true, rotationPeriodInDays: 90, nextRotationDate: 100 });
    assert.deepEqual(updated.map((k) => [k.region, k.rotationEnabled, k.nextRotationDate]), [['eu-west-1', true, 100], [REGION, true, 100]]);
    assert.deepEqual((await s.listKeysDue(500)).filter((k) => k.keyId === id).map((k) => k.region), [REGION]);
    const rotated = await s.addRelatedMaterial({ ...material(id, 'm1', 'AUTOMATIC') }, { currentMaterialId: 'm1', nextRotationDate: 1000 });
    assert.deepEqual(rotated.map((k) => [k.region, k.currentMaterialId, k.nextRotationDate]), [['eu-west-1', 'm1', 1000], [REGION, 'm1', 1000]]);
    for (const region of [REGION, 'eu-west-1']) {
      const rowId = keyRowId({ keyId: id, region });
      assert.deepEqual((await s.listMaterials(rowId, undefined, 10)).items.map((m) => m.materialId), ['m0', 'm1']);
      assert.equal(await s.countMaterials(rowId, 'AUTOMATIC'), 1);
    }
    // UpdatePrimaryRegion: the shared primary Region moves; now the other key is the one due.
    await s.updateRelatedKeys(id, { primaryRegion: 'eu-west-1', nextRotationDate: 100 });
    assert.deepEqual((await s.listKeysDue(500)).filter((k) => k.keyId === id).map((k) => k.region), ['eu-west-1']);
  });

  it('deleting the last replica of a primary pending replica deletion starts the primary\'s window, in the same step', async () => {
    const s = await open();
    const id = `mrk-${randomUUID().replace(/-/g, '')}`;
    const primary = key({ keyId: id, multiRegion: true, primaryRegion: REGION });
    await s.createKey(primary, material(keyRowId(primary)), []);
    await s.createReplica(key({ keyId: id, region: 'eu-west-1', multiRegion: true }), keyRowId(primary), []);
    await s.createReplica(key({ keyId: id, region: 'ap-south-1', multiRegion: true }), keyRowId(primary), []);
    await s.updateKey(keyRowId(primary), { keyState: 'PendingReplicaDeletion', pendingWindowInDays: 7 });
    assert.equal(await s.deleteRelatedKey(keyRowId({ keyId: id, region: 'eu-west-1' }), 5000), undefined);
    assert.equal((await s.getKey(keyRowId(primary)))?.keyState, 'PendingReplicaDeletion');
    const promoted = await s.deleteRelatedKey(keyRowId({ keyId: id, region: 'ap-south-1' }), 6000);
    assert.equal(promoted?.keyState, 'PendingDeletion');
    assert.equal(promoted?.deletionDate, 6000 + 7 * 86_400_000);
    assert.deepEqual(await s.getKey(keyRowId(primary)), promoted);
    assert.equal(await s.getMaterial(keyRowId({ keyId: id, region: 'ap-south-1' }), 'm0'), undefined);
    assert.deepEqual((await s.listRelatedKeys(id)).map((k) => k.region), [REGION]);
  });
}

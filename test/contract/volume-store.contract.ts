import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SnapshotRecord, VolumeRecord, VolumeStore } from '../../src/store/metadata/volume-types.js';
import { OpenFresh } from './reopenable.js';

const volume = (id: string, over: Partial<VolumeRecord> = {}): VolumeRecord => ({
  volumeId: id, accountId: '111122223333', region: 'us-east-1', availabilityZone: 'us-east-1a', sizeGiB: 8, volumeType: 'gp3', encrypted: false,
  dataKey: { kind: 'service', sealed: 'c2VhbGVk' }, state: 'available', createTime: 1_700_000_000_000, tags: {}, ...over,
});
const snapshot = (id: string, volumeId: string): SnapshotRecord => ({
  snapshotId: id, accountId: '111122223333', region: 'us-east-1', volumeId, volumeSizeGiB: 8, description: 'd', encrypted: false,
  dataKey: { kind: 'service', sealed: 'c2VhbGVk' }, state: 'completed', startTime: 1_700_000_000_000, tags: {},
});
const blob = (n: number) => `0000000${n}-0000-4000-8000-000000000000`;
const ref = (index: number, b: number, slot: number, generation: number, boundTo = 'vol-0aaaaaaaaaaaaaaaa') => ({ index, blobId: blob(b), slot, generation, boundTo });

/** What every volume store must do (src/store/metadata/volume-types.ts), through the interface only. */
export function volumeStoreContract(open: OpenFresh<VolumeStore>): void {
  it('keeps volumes, their attachment (compare-and-set on state) and lists them per account and Region', async () => {
    const { store, reopen } = await open();
    await store.createVolume(volume('vol-0aaaaaaaaaaaaaaaa'));
    await store.createVolume(volume('vol-0bbbbbbbbbbbbbbbb', { region: 'eu-west-1' }));
    const attachment = { instanceId: 'i-0123456789abcdef0', device: '/dev/sdf', attachTime: 1 };
    assert.equal(await store.updateVolume('vol-0aaaaaaaaaaaaaaaa', 'in-use', { state: 'available' }), false);
    assert.equal(await store.updateVolume('vol-0aaaaaaaaaaaaaaaa', 'available', { state: 'in-use', attachment }), true);
    const again = await reopen();
    assert.deepEqual((await again.getVolume('vol-0aaaaaaaaaaaaaaaa'))?.attachment, attachment);
    assert.deepEqual((await again.attachedVolumes()).map((v) => v.volumeId), ['vol-0aaaaaaaaaaaaaaaa']);
    assert.deepEqual((await again.listVolumes({ accountId: '111122223333', region: 'us-east-1' })).map((v) => v.volumeId), ['vol-0aaaaaaaaaaaaaaaa']);
    assert.equal(await again.updateVolume('vol-0aaaaaaaaaaaaaaaa', 'in-use', { state: 'available', attachment: null }), true);
    assert.equal((await again.getVolume('vol-0aaaaaaaaaaaaaaaa'))?.attachment, undefined);
    assert.deepEqual(await again.attachedVolumes(), []);
  });

  it('revises a volume in one transaction (ModifyVolume): the decision sees the stored record, a refusal changes nothing, state and attachment are kept', async () => {
    const { store, reopen } = await open();
    const id = 'vol-0aaaaaaaaaaaaaaaa';
    const attachment = { instanceId: 'i-0123456789abcdef0', device: '/dev/sdf', attachTime: 1 };
    await store.createVolume(volume(id, { state: 'in-use', attachment }));
    const modification = { state: 'completed' as const, original: { sizeGiB: 8, volumeType: 'gp3' }, target: { sizeGiB: 20, volumeType: 'gp3', iops: 3000 }, startTime: 5, endTime: 5 };
    const stored = await store.reviseVolume(id, (v) => ({ ...v, sizeGiB: v.sizeGiB + 12, iops: 3000, modification, state: 'deleting', attachment: undefined }));
    assert.equal(stored?.sizeGiB, 20);
    await assert.rejects(store.reviseVolume(id, () => { throw new Error('refused'); }), /refused/);
    assert.equal(await store.reviseVolume('vol-0ffffffffffffffff', (v) => v), undefined);
    const again = await reopen();
    const v = await again.getVolume(id);
    assert.deepEqual([v?.sizeGiB, v?.iops, v?.state, v?.attachment], [20, 3000, 'in-use', attachment]);
    assert.deepEqual(v?.modification, modification);
    assert.deepEqual((await again.attachedVolumes()).map((x) => x.volumeId), [id]);
  });

  it('chunk maps: commit replaces and drops (returning the blobs it stopped referencing), snapshots share by reference', async () => {
    const { store, reopen } = await open();
    const vol = 'vol-0aaaaaaaaaaaaaaaa';
    await store.createVolume(volume(vol));
    assert.deepEqual(await store.commitChunks(vol, [ref(0, 1, 0, 1), ref(1, 1, 1, 2), ref(2, 1, 2, 3)], []), []);
    await store.createSnapshot(snapshot('snap-0aaaaaaaaaaaaaaaa', vol), vol);
    const replaced = await store.commitChunks(vol, [ref(0, 2, 0, 4)], [2]);
    assert.deepEqual(replaced, [blob(1)]);
    const again = await reopen();
    assert.deepEqual(await again.chunks(vol), [ref(0, 2, 0, 4), ref(1, 1, 1, 2)]);
    assert.deepEqual(await again.chunks('snap-0aaaaaaaaaaaaaaaa'), [ref(0, 1, 0, 1), ref(1, 1, 1, 2), ref(2, 1, 2, 3)]);
    await again.addSegment(blob(1), vol);
    await again.addSegment(blob(3), vol);
    assert.deepEqual(await again.orphanSegments(vol), [blob(3)]);
    assert.equal(await again.dropSegmentIfUnreferenced(blob(1)), false, 'the snapshot still references it');
    assert.deepEqual(
      (await again.segmentUsers(blob(1), 10)).sort((x, y) => x.ownerId.localeCompare(y.ownerId) || x.index - y.index),
      [{ ownerId: 'snap-0aaaaaaaaaaaaaaaa', index: 0 }, { ownerId: 'snap-0aaaaaaaaaaaaaaaa', index: 1 }, { ownerId: 'snap-0aaaaaaaaaaaaaaaa', index: 2 }, { ownerId: vol, index: 1 }],
    );
    assert.equal((await again.segmentUsers(blob(1), 2)).length, 2);
    assert.deepEqual((await again.deleteSnapshot('snap-0aaaaaaaaaaaaaaaa')).sort(), [blob(1)]);
    assert.equal(await again.dropSegmentIfUnreferenced(blob(1)), false, 'chunk 1 of the volume still does');
    // Its orphan (blob 3, written and never committed) too: a volume deleted without being opened again.
    assert.deepEqual((await again.deleteVolume(vol)).sort(), [blob(1), blob(2), blob(3)].sort());
    assert.equal(await again.dropSegmentIfUnreferenced(blob(1)), true);
    assert.equal(await again.getVolume(vol), undefined);
  });

  it('hands out generations never twice, also across reopening', async () => {
    const { store, reopen } = await open();
    const a = await store.reserveGenerations('vol-0aaaaaaaaaaaaaaaa', 10);
    const b = await store.reserveGenerations('vol-0aaaaaaaaaaaaaaaa', 5);
    assert.equal(b, a + 10);
    const c = await (await reopen()).reserveGenerations('vol-0aaaaaaaaaaaaaaaa', 1);
    assert.equal(c, b + 5);
  });

  it('keeps the EBS defaults per account and Region, and one service key', async () => {
    const { store, reopen } = await open();
    assert.deepEqual(await store.getDefaults('111122223333', 'us-east-1'), { encryptionByDefault: false });
    await store.putDefaults('111122223333', 'us-east-1', { encryptionByDefault: true, defaultKmsKeyId: 'alias/mine' });
    assert.equal(await store.putServiceKey(Buffer.from('one')).then((b) => b.toString()), 'one');
    assert.equal(await store.putServiceKey(Buffer.from('two')).then((b) => b.toString()), 'one');
    const again = await reopen();
    assert.deepEqual(await again.getDefaults('111122223333', 'us-east-1'), { encryptionByDefault: true, defaultKmsKeyId: 'alias/mine' });
    assert.deepEqual(await again.getDefaults('111122223333', 'eu-west-1'), { encryptionByDefault: false });
    assert.equal((await again.getServiceKey())?.toString(), 'one');
  });
}

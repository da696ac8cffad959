import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { SecretBytes } from '../../../src/core/crypto/secret-bytes.js';
import { VolumeIoError } from '../../../src/core/volumes/block-device.js';
import { ChunkStore, MAX_SEGMENT_CHUNKS } from '../../../src/core/volumes/chunk-store.js';
import { CHUNK_BYTES } from '../../../src/core/volumes/chunks.js';
import { EncryptedBlockDevice } from '../../../src/core/volumes/encrypted-device.js';
import { BlobStore } from '../../../src/store/blob/blob-store.js';
import { FsBlobStore } from '../../../src/store/blob/fs/fs-blob-store.js';
import { VolumeStore } from '../../../src/store/metadata/volume-types.js';
import { TestServer, startServer } from '../../helpers/server.js';
import { attachedVolume } from '../../helpers/volumes.js';

/**
 * A device over the server's volume store and a file blob store in its data dir, both watched: `events` says,
 * in order, when a segment blob was committed (and whether durably), when its sync started and ended (held
 * until `releaseSyncs`), and when the chunk map was committed naming which segments.
 */
async function watchedDevice(server: TestServer, opts: { holdWrites?: Promise<void>; holdDeletes?: Promise<void> } = {}) {
  const v = await attachedVolume(server);
  const files = await FsBlobStore.open(server.dataDir);
  const events: string[] = [];
  let releaseSyncs!: (err?: Error) => void;
  const held = new Promise<void>((resolve, reject) => (releaseSyncs = (err) => (err ? reject(err) : resolve())));
  held.catch(() => undefined);
  const blobs: BlobStore = {
    create: async () => {
      const w = await files.create();
      return {
        id: w.id,
        stream: w.stream,
        commit: async (options) => {
          await opts.holdWrites;
          await w.commit(options);
          events.push(`written ${w.id} durable=${options?.durable !== false}`);
        },
        abort: () => w.abort(),
      };
    },
    read: (id, range) => files.read(id, range),
    readBytes: (id, start, length, into) => files.readBytes(id, start, length, into),
    sync: async (ids) => {
      events.push(`sync ${[...ids].sort().join(',')}`);
      await held;
      await files.sync(ids);
      events.push(`synced ${[...ids].sort().join(',')}`);
    },
    size: (id) => files.size(id),
    delete: async (id) => {
      events.push(`delete ${id}`);
      await opts.holdDeletes;
      await files.delete(id);
      events.push(`deleted ${id}`);
    },
    list: () => files.list(),
    sweepIncomplete: () => files.sweepIncomplete(),
  };
  const real = server.app.volumes.store;
  const store = new Proxy(real, {
    get(target, p) {
      if (p === 'commitChunks') {
        return (owner: string, put: Parameters<VolumeStore['commitChunks']>[1], drop: readonly number[]) => {
          events.push(`commit ${[...new Set(put.map((r) => r.blobId))].sort().join(',')}`);
          return target.commitChunks(owner, put, drop);
        };
      }
      const value = Reflect.get(target, p) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const device = new EncryptedBlockDevice({
    volumeId: v.volumeId,
    size: v.sizeGiB * 2 ** 30,
    dataKey: SecretBytes.adopt(randomBytes(32)),
    chunks: new ChunkStore(store, blobs, async () => undefined),
    map: new Map(),
    unusable: async () => undefined,
    checkEveryMs: 60_000,
    closed: async () => void events.push('closed (claim given up)'),
    stopped: async () => void events.push('stopped (claim given up)'),
  });
  return { device, events, releaseSyncs, volumeId: v.volumeId, store: real, files };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; !ok(); i++) {
    if (i > 1200) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('Volumes written behind: segments fsynced in the background, the chunk map committed only once they are synced', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.destroy());

  it('a segment is written without fsync and its sync starts at once, before any flush; the flush commits the map only after that sync has finished', async () => {
    const { device, events, releaseSyncs, volumeId, store } = await watchedDevice(server);
    const data = randomBytes(MAX_SEGMENT_CHUNKS * CHUNK_BYTES);
    await device.write(0, data, false); // 256 dirty chunks: a segment write starts
    await until('the background sync', () => events.some((e) => e.startsWith('sync ')));
    const segment = /^written (\S+) durable=false$/.exec(events[0]!)?.[1];
    assert.ok(segment, `written without fsync first: ${events.join(' | ')}`);
    assert.deepEqual(events, [`written ${segment} durable=false`, `sync ${segment}`]);

    let flushed = false;
    const flush = device.flush().then(() => void (flushed = true));
    await sleep(300);
    assert.equal(flushed, false, 'the flush waits for the sync');
    assert.ok(!events.some((e) => e.startsWith('commit')), 'nothing committed before the segment is synced');
    assert.deepEqual(await store.chunks(volumeId), []);

    releaseSyncs();
    await flush;
    assert.deepEqual(events, [`written ${segment} durable=false`, `sync ${segment}`, `synced ${segment}`, `commit ${segment}`]);
    assert.equal((await store.chunks(volumeId)).length, MAX_SEGMENT_CHUNKS);
    assert.ok(Buffer.concat(await device.read(0, data.length)).equals(data));
    await device.close();
  });

  it('a segment whose sync fails fails the flush (VolumeIoError) and commits nothing; the device stops', async () => {
    const { device, events, releaseSyncs, volumeId, store } = await watchedDevice(server);
    await device.write(5 * CHUNK_BYTES, randomBytes(MAX_SEGMENT_CHUNKS * CHUNK_BYTES), false);
    await until('the background sync', () => events.some((e) => e.startsWith('sync ')));
    releaseSyncs(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    await assert.rejects(device.flush(), VolumeIoError);
    assert.ok(!events.some((e) => e.startsWith('commit')), events.join(' | '));
    assert.deepEqual(await store.chunks(volumeId), []);
    await assert.rejects(device.write(0, Buffer.alloc(10), false), VolumeIoError, 'stopped: acknowledged writes could not be made durable');
    await assert.rejects(device.close());
  });
  it('a device stopped (DetachVolume --force) while a segment is being written gives its claim up only once that write is done', async () => {
    let releaseWrites!: () => void;
    const holdWrites = new Promise<void>((resolve) => (releaseWrites = resolve));
    const { device, events, releaseSyncs } = await watchedDevice(server, { holdWrites });
    releaseSyncs();
    await device.write(0, randomBytes(MAX_SEGMENT_CHUNKS * CHUNK_BYTES), false); // a segment write starts, held
    const stopping = device.stop('detached', false);
    await sleep(200);
    assert.ok(!events.includes('stopped (claim given up)'), `the claim was given up under a segment write: ${events.join(' | ')}`);
    releaseWrites();
    await stopping;
    await until('the stop', () => events.includes('stopped (claim given up)'));
    const written = events.findIndex((e) => e.startsWith('written '));
    assert.ok(written >= 0 && written < events.indexOf('stopped (claim given up)'), events.join(' | '));
    await assert.rejects(device.read(0, 16), VolumeIoError);
  });

  it('a flush returns once what it acknowledged is durable, without waiting for the segments it superseded to be deleted; they are deleted after it, before close() gives the claim up', async () => {
    let releaseDeletes!: () => void;
    const holdDeletes = new Promise<void>((resolve) => (releaseDeletes = resolve));
    const { device, events, releaseSyncs, volumeId, store, files } = await watchedDevice(server, { holdDeletes });
    releaseSyncs();
    const first = randomBytes(MAX_SEGMENT_CHUNKS * CHUNK_BYTES);
    await device.write(0, first, false);
    await device.flush();
    const [old] = new Set((await store.chunks(volumeId)).map((r) => r.blobId));
    assert.ok(old);
    const second = randomBytes(MAX_SEGMENT_CHUNKS * CHUNK_BYTES);
    await device.write(0, second, false); // every chunk of the first segment rewritten
    // The flush resolves while the deletion of the superseded segment is held (before, it waited for it).
    const outcome = await Promise.race([device.flush().then(() => 'flushed'), sleep(20_000).then(() => 'still waiting')]);
    assert.equal(outcome, 'flushed', events.join(' | '));
    assert.ok(!(await store.chunks(volumeId)).some((r) => r.blobId === old), 'the map no longer names it');
    await until('the background collection', () => events.includes(`delete ${old}`));
    assert.ok(!events.includes(`deleted ${old}`));
    assert.ok(Buffer.concat(await device.read(0, second.length)).equals(second));
    const closing = device.close();
    await sleep(200);
    assert.ok(!events.includes('closed (claim given up)'), `the claim was given up before the collection finished: ${events.join(' | ')}`);
    releaseDeletes();
    await closing;
    assert.ok(events.indexOf(`deleted ${old}`) < events.indexOf('closed (claim given up)'), events.join(' | '));
    await assert.rejects(files.size(old), 'the superseded segment file is gone');
  });
});

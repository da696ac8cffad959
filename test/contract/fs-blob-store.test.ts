import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BlobNotFoundError, InvalidBlobIdError } from '../../src/store/blob/blob-store.js';
import { writevAll } from '../../src/store/blob/fs/durable-fs.js';
import { BLOBS_DIR, FsBlobStore, INCOMING_DIR } from '../../src/store/blob/fs/fs-blob-store.js';
import { FsBlobWriter } from '../../src/store/blob/fs/fs-blob-writer.js';
import { blobStoreContract } from './blob-store.contract.js';

/**
 * Runs `fn` and returns the paths fsynced meanwhile, in order: FileHandle.prototype.sync traced, each handle's
 * path read from /proc/self/fd (files and directories alike: fsyncDir syncs a handle of the directory).
 */
async function fsyncsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const probe = await open(tmpdir(), 'r');
  const proto = Object.getPrototypeOf(probe) as { sync: (this: FileHandle) => Promise<void> };
  await probe.close();
  const original = proto.sync;
  const synced: string[] = [];
  proto.sync = function (this: FileHandle) {
    synced.push(readlinkSync(`/proc/self/fd/${this.fd}`));
    return original.call(this);
  };
  try {
    await fn();
  } finally {
    proto.sync = original;
  }
  return synced;
}

/** `count` pieces of random sizes, every fifth one empty. */
function pieces(count: number, maxBytes: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => (i % 5 === 2 ? Buffer.alloc(0) : randomBytes(randomInt(1, maxBytes))));
}

/**
 * A FileHandle whose writev writes only part of what it is given, as the kernel may (a full pipe, a signal, a
 * disk filling up): at most `limit()` bytes per call, through the real handle. writevAll is a loop over
 * handle.writev, so this is all it sees.
 */
function stingy(real: FileHandle, limit: () => number): { handle: FileHandle; calls: Buffer[][] } {
  const calls: Buffer[][] = [];
  const writev = async (bufs: Buffer[]) => {
    calls.push(bufs);
    const parts: Buffer[] = [];
    let left = limit();
    for (const b of bufs) {
      if (left === 0) break;
      parts.push(b.subarray(0, Math.min(left, b.length)));
      left -= parts.at(-1)!.length;
    }
    const { bytesWritten } = await real.writev(parts);
    return { bytesWritten, buffers: bufs };
  };
  const handle = { writev, write: real.write.bind(real), sync: real.sync.bind(real), close: real.close.bind(real), fd: real.fd } as unknown as FileHandle;
  return { handle, calls };
}

describe('filesystem blob store', () => {
  const dirs: string[] = [];
  const newDir = () => {
    const d = realpathSync(mkdtempSync(join(tmpdir(), 'sr-blobs-')));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  // The contract's crash is a reopen in the same instant: what the dead writer left counts as stale at once.
  blobStoreContract(async () => {
    const dir = newDir();
    return { store: await FsBlobStore.open(dir, { staleAfterMs: 0 }), reopen: () => FsBlobStore.open(dir, { staleAfterMs: 0 }) };
  });

  it('sweepIncomplete leaves another process\'s upload in progress alone and removes only what nobody wrote to for staleAfterMs', async () => {
    const dir = newDir();
    let now = Date.now();
    const other = await FsBlobStore.open(dir); // another worker on the same data dir
    const sweeper = await FsBlobStore.open(dir, { staleAfterMs: 60_000, now: () => now });
    const inFlight = await other.create();
    await new Promise<void>((r) => inFlight.stream.write(Buffer.from('first part of a body'), () => r()));
    assert.equal(await sweeper.sweepIncomplete(), 0, 'a file written to just now is somebody\'s upload');
    now += 61_000;
    assert.equal(await sweeper.sweepIncomplete(), 1, 'untouched for longer than staleAfterMs: its writer died');
    assert.deepEqual(readdirSync(join(dir, BLOBS_DIR, INCOMING_DIR)), []);
    await inFlight.abort();
  });

  it('keeps committed blobs at blobs/<first two hex>/<id>, files 0600 in directories 0700', async () => {
    const dir = newDir();
    const store = await FsBlobStore.open(dir);
    const w = await store.create();
    w.stream.end(Buffer.from('body'));
    await w.commit();
    const file = join(dir, BLOBS_DIR, w.id.slice(0, 2), w.id);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    for (const d of [join(dir, BLOBS_DIR), join(dir, BLOBS_DIR, INCOMING_DIR), join(dir, BLOBS_DIR, w.id.slice(0, 2))]) {
      assert.equal(statSync(d).mode & 0o777, 0o700, d);
    }
    assert.deepEqual(readdirSync(join(dir, BLOBS_DIR, INCOMING_DIR)), []);
  });

  it('writes in blobs/.incoming until commit, and abort leaves it empty', async () => {
    const dir = newDir();
    const store = await FsBlobStore.open(dir);
    const incoming = join(dir, BLOBS_DIR, INCOMING_DIR);
    const w = await store.create();
    assert.deepEqual(readdirSync(incoming), [w.id]);
    assert.equal(statSync(join(incoming, w.id)).mode & 0o777, 0o600);
    await w.abort();
    assert.deepEqual(readdirSync(incoming), []);
  });

  it('sweeps any leftover in .incoming and ignores strays beside the shards when listing', async () => {
    const dir = newDir();
    // A second on: a file's mtime has sub-millisecond precision, Date.now() not (the same millisecond is "newer").
    const store = await FsBlobStore.open(dir, { staleAfterMs: 0, now: () => Date.now() + 1000 });
    writeFileSync(join(dir, BLOBS_DIR, INCOMING_DIR, 'partial.tmp'), 'x');
    writeFileSync(join(dir, BLOBS_DIR, 'README'), 'x');
    assert.equal(await store.sweepIncomplete(), 1);
    const ids: string[] = [];
    for await (const id of store.list()) ids.push(id);
    assert.deepEqual(ids, []);
  });

  it('commit({ durable: false }) publishes the blob at blobs/<ab>/<id>, readable at once, without fsyncing it or its directory; sync([id]) fsyncs the file, then its directory', async () => {
    const dir = newDir();
    const store = await FsBlobStore.open(dir);
    const body = randomBytes(200_000);
    const w = await store.create();
    const shard = join(dir, BLOBS_DIR, w.id.slice(0, 2));
    const file = join(shard, w.id);
    w.stream.write(body);
    const atCommit = await fsyncsDuring(() => w.commit({ durable: false }));
    assert.deepEqual(atCommit.filter((p) => p.endsWith(w.id) || p === shard), [], 'neither the file nor its directory fsynced');
    assert.ok(readFileSync(file).equals(body), 'already where a durable commit puts it');
    assert.deepEqual(readdirSync(join(dir, BLOBS_DIR, INCOMING_DIR)), []);
    assert.equal(await store.size(w.id), body.length);
    assert.deepEqual(await fsyncsDuring(() => store.sync([w.id])), [file, shard]);
    assert.ok(readFileSync(file).equals(body));
    assert.equal(statSync(file).mode & 0o777, 0o600);

    // The durable commit it stands in for: the file (in .incoming, before the rename), then the directory.
    const d = await store.create();
    d.stream.write(body);
    const durable = await fsyncsDuring(() => d.commit());
    assert.deepEqual(durable.filter((p) => p !== join(dir, BLOBS_DIR)), [join(dir, BLOBS_DIR, INCOMING_DIR, d.id), join(dir, BLOBS_DIR, d.id.slice(0, 2))]);
  });

  it('sync of many blobs fsyncs every file, then each of their directories once', async () => {
    const dir = newDir();
    const store = await FsBlobStore.open(dir);
    // Blobs until two share a directory (256 directories: 257 blobs at most).
    const byShard = new Map<string, string[]>();
    for (;;) {
      const w = await store.create();
      w.stream.end(Buffer.from(w.id));
      await w.commit({ durable: false });
      const ids = byShard.get(w.id.slice(0, 2)) ?? [];
      ids.push(w.id);
      byShard.set(w.id.slice(0, 2), ids);
      if (ids.length === 2) break;
    }
    const ids = [...byShard.values()].flat();
    const synced = await fsyncsDuring(() => store.sync(ids));
    const files = ids.map((id) => join(dir, BLOBS_DIR, id.slice(0, 2), id));
    const shards = [...byShard.keys()].map((s) => join(dir, BLOBS_DIR, s));
    assert.deepEqual(synced.slice(0, files.length).sort(), [...files].sort(), 'the files first');
    assert.deepEqual(synced.slice(files.length).sort(), [...shards].sort(), 'then each directory once');
  });

  it('sync of a blob that is not there rejects with BlobNotFoundError; a malformed id is refused before anything is fsynced', async () => {
    const dir = newDir();
    const store = await FsBlobStore.open(dir);
    const w = await store.create();
    w.stream.end(Buffer.from('kept'));
    await w.commit({ durable: false });
    const missing = '0123abcd-0000-4000-8000-000000000000';
    await assert.rejects(store.sync([missing]), (err: unknown) => err instanceof BlobNotFoundError && err.id === missing);
    let refused: unknown;
    const synced = await fsyncsDuring(() => store.sync([w.id, '../../etc/passwd']).catch((err: unknown) => void (refused = err)));
    assert.ok(refused instanceof InvalidBlobIdError);
    assert.deepEqual(synced, [], 'validated before touching storage');
    // An uncommitted blob (still in .incoming) is not there yet either.
    const pending = await store.create();
    await assert.rejects(store.sync([pending.id]), BlobNotFoundError);
    await pending.abort();
  });

  it('writevAll writes every piece, in order, when each writev writes only part (inside a piece, at a boundary, across several)', async () => {
    const dir = newDir();
    const bufs = pieces(400, 3000);
    const copy = bufs.map((b) => Buffer.from(b));
    const real = await open(join(dir, 'out'), 'w');
    const limits = [1, 7, 0, 4096, 1, 12_345];
    let n = 0;
    const { handle, calls } = stingy(real, () => {
      // 0: exactly the rest of the first piece (a boundary); else the next of the fixed sizes.
      const k = limits[n++ % limits.length]!;
      return k === 0 ? calls.at(-1)![0]!.length : k;
    });
    await writevAll(handle, bufs);
    await real.close();
    assert.ok(readFileSync(join(dir, 'out')).equals(Buffer.concat(copy)));
    assert.ok(calls.length > 100, `${calls.length} writev calls: the partial path ran`);
    assert.ok(calls.every((c) => c.length > 0 && c.every((b) => b.length > 0)), 'never an empty writev or an empty piece');
    assert.equal(bufs.length, copy.length);
    bufs.forEach((b, i) => assert.ok(b.equals(copy[i]!), `the caller's piece ${i} is untouched`));
    // Nothing to write: no call at all.
    const idle = stingy(real, () => 1);
    await writevAll(idle.handle, [Buffer.alloc(0), Buffer.alloc(0)]);
    assert.equal(idle.calls.length, 0);
  });

  it('a blob written as many pieces (empty ones among them) through the writer stream holds them in order, also when writev is partial', async () => {
    const dir = newDir();
    const store = await FsBlobStore.open(dir);
    // Corked: the stream hands the pieces to one _writev (the segment writer's gathered records).
    const bufs = pieces(2000, 500);
    const w = await store.create();
    w.stream.cork();
    for (const b of bufs) w.stream.write(b);
    w.stream.uncork();
    await w.commit({ durable: false });
    assert.ok(readFileSync(join(dir, BLOBS_DIR, w.id.slice(0, 2), w.id)).equals(Buffer.concat(bufs)));

    // The same through a writer whose file writes only 1000 bytes per writev.
    const id = '0badc0de-0000-4000-8000-000000000000';
    const incomingPath = join(dir, BLOBS_DIR, INCOMING_DIR, id);
    const { handle, calls } = stingy(await open(incomingPath, 'wx', 0o600), () => 1000);
    const blobsDir = join(dir, BLOBS_DIR);
    const writer = new FsBlobWriter({ id, handle, incomingPath, finalPath: join(blobsDir, '0b', id), blobsDir, settled: () => undefined });
    writer.stream.cork();
    for (const b of bufs) writer.stream.write(b);
    writer.stream.uncork();
    writer.stream.write(Buffer.alloc(0));
    writer.stream.write(Buffer.from('tail'));
    await writer.commit();
    assert.ok(calls.length > 10, `${calls.length} writev calls`);
    assert.ok((await store.size(id)) > 0);
    assert.ok(readFileSync(join(blobsDir, '0b', id)).equals(Buffer.concat([...bufs, Buffer.from('tail')])));
  });
});

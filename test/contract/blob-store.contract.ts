import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { it } from 'node:test';
import { BlobNotFoundError, BlobStore, InvalidBlobIdError } from '../../src/store/blob/blob-store.js';

export interface BlobStoreHarness {
  readonly store: BlobStore;
  /** Another store over the same storage, as after a restart. */
  reopen(): Promise<BlobStore>;
}

export interface BlobStoreTraits {
  /** The largest blob the store takes, when it has a limit (the database's small-blob store keeps blobs in memory until commit). */
  readonly maxBlobBytes?: number;
}

async function put(store: BlobStore, body: Buffer, chunk = 10_000): Promise<string> {
  const w = await store.create();
  for (let i = 0; i < body.length; i += chunk) {
    if (!w.stream.write(body.subarray(i, i + chunk))) await new Promise((r) => w.stream.once('drain', r));
  }
  await w.commit();
  return w.id;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function listAll(store: BlobStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of store.list()) ids.push(id);
  return ids.sort();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The behaviour every blob store must have; each implementation's test file runs it. */
export function blobStoreContract(make: () => Promise<BlobStoreHarness>, traits: BlobStoreTraits = {}): void {
  it('commits a blob and reads it back whole, with its size, and lists it', async () => {
    const { store } = await make();
    const body = randomBytes(100_000);
    const id = await put(store, body);
    assert.match(id, UUID);
    assert.ok((await readAll(store.read(id))).equals(body));
    assert.equal(await store.size(id), body.length);
    assert.deepEqual(await listAll(store), [id]);
  });

  it('gives every blob a fresh random UUID', async () => {
    const { store } = await make();
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const w = await store.create();
      ids.add(w.id);
      await w.abort();
    }
    assert.equal(ids.size, 20);
  });

  it('stores an empty blob', async () => {
    const { store } = await make();
    const w = await store.create();
    await w.commit(); // commit ends the stream itself
    assert.equal(await store.size(w.id), 0);
    assert.equal((await readAll(store.read(w.id))).length, 0);
  });

  it('reads inclusive byte ranges: first byte, last byte, middle, whole', async () => {
    const { store } = await make();
    const body = randomBytes(200_000);
    const id = await put(store, body);
    for (const [start, end] of [[0, 0], [body.length - 1, body.length - 1], [65_535, 65_536], [10, 150_000], [0, body.length - 1]] as const) {
      assert.ok((await readAll(store.read(id, { start, end }))).equals(body.subarray(start, end + 1)), `${start}-${end}`);
    }
  });

  it('refuses malformed ranges at once and ranges past the end on the stream', async () => {
    const { store } = await make();
    const id = await put(store, randomBytes(10));
    for (const r of [{ start: 5, end: 4 }, { start: -1, end: 3 }, { start: 0, end: 1.5 }]) assert.throws(() => store.read(id, r), RangeError);
    await assert.rejects(readAll(store.read(id, { start: 0, end: 10 })), RangeError);
    await assert.rejects(readAll(store.read(id, { start: 10, end: 10 })), RangeError);
  });

  it('keeps an uncommitted blob invisible to read, size and list', async () => {
    const { store } = await make();
    const w = await store.create();
    await new Promise<void>((r) => w.stream.write(randomBytes(1000), () => r()));
    await assert.rejects(readAll(store.read(w.id)), BlobNotFoundError);
    await assert.rejects(store.size(w.id), BlobNotFoundError);
    assert.deepEqual(await listAll(store), []);
    await w.commit();
    assert.equal(await store.size(w.id), 1000);
  });

  it('abort discards the blob, is idempotent, and a commit after it fails', async () => {
    const { store } = await make();
    const w = await store.create();
    w.stream.write(randomBytes(5000));
    await w.abort();
    await w.abort();
    await assert.rejects(w.commit());
    await assert.rejects(store.size(w.id), BlobNotFoundError);
    assert.deepEqual(await listAll(store), []);
    assert.equal(await store.sweepIncomplete(), 0, 'nothing left behind');
  });

  it('abort after a commit leaves the blob; commit twice is one commit', async () => {
    const { store } = await make();
    const w = await store.create();
    w.stream.end(Buffer.from('kept'));
    await Promise.all([w.commit(), w.commit()]);
    await w.abort();
    assert.equal((await readAll(store.read(w.id))).toString(), 'kept');
  });

  it('a blob committed with durable: false is readable at once under its id; sync (where the store has it) resolves, a missing blob is BlobNotFoundError, a malformed id InvalidBlobIdError', async () => {
    const { store } = await make();
    const body = randomBytes(traits.maxBlobBytes === undefined ? 300_000 : Math.min(300_000, traits.maxBlobBytes));
    const w = await store.create();
    w.stream.end(body);
    await w.commit({ durable: false });
    assert.ok((await readAll(store.read(w.id))).equals(body), 'readable before any sync');
    assert.equal(await store.size(w.id), body.length);
    assert.deepEqual(await listAll(store), [w.id]);
    if (!store.sync) return; // a store without sync commits durably whatever it is told
    await store.sync([w.id]);
    await store.sync([]);
    assert.ok((await readAll(store.read(w.id))).equals(body), 'unchanged by the sync');
    const missing = '00000000-0000-4000-8000-000000000000';
    await assert.rejects(store.sync([w.id, missing]), (err: unknown) => err instanceof BlobNotFoundError && err.id === missing);
    await store.delete(w.id);
    await assert.rejects(store.sync([w.id]), BlobNotFoundError, 'a blob deleted meanwhile');
    for (const bad of ['../../etc/passwd', '.incoming', 'ABCDEF00-0000-4000-8000-000000000000']) await assert.rejects(store.sync([bad]), InvalidBlobIdError);
  });

  it('a commit of a failed stream throws and leaves nothing behind', async () => {
    const { store } = await make();
    const w = await store.create();
    w.stream.on('error', () => undefined);
    w.stream.destroy(new Error('client went away'));
    await assert.rejects(w.commit(), /client went away/);
    await assert.rejects(store.size(w.id), BlobNotFoundError);
    assert.equal(await store.sweepIncomplete(), 0);
  });

  it('deletes idempotently; a missing blob is BlobNotFoundError', async () => {
    const { store } = await make();
    const id = await put(store, Buffer.from('x'));
    await store.delete(id);
    await store.delete(id);
    await store.delete('00000000-0000-4000-8000-000000000000');
    await assert.rejects(store.size(id), BlobNotFoundError);
    await assert.rejects(readAll(store.read(id)), (err: unknown) => err instanceof BlobNotFoundError && err.id === id);
    assert.deepEqual(await listAll(store), []);
  });

  it('lets a reader that already opened a blob finish after it is deleted', async () => {
    const { store } = await make();
    const body = randomBytes(300_000);
    const id = await put(store, body);
    const chunks = store.read(id)[Symbol.asyncIterator]();
    const parts = [(await chunks.next()).value as Buffer];
    await store.delete(id);
    for (let r = await chunks.next(); !r.done; r = await chunks.next()) parts.push(r.value as Buffer);
    assert.ok(Buffer.concat(parts).equals(body));
    await assert.rejects(store.size(id), BlobNotFoundError);
  });

  it('refuses every id that is not a lowercase UUID, before touching storage', async () => {
    const { store } = await make();
    const bad = ['', '..', '../../etc/passwd', '00/../../x', 'ABCDEF00-0000-4000-8000-000000000000', '00000000-0000-4000-8000-000000000000\n',
      '00000000-0000-4000-8000-00000000000', '00000000000040008000000000000000', '/tmp/00000000-0000-4000-8000-000000000000', '.incoming'];
    for (const id of bad) {
      assert.throws(() => store.read(id), InvalidBlobIdError, JSON.stringify(id));
      await assert.rejects(store.size(id), InvalidBlobIdError);
      await assert.rejects(store.delete(id), InvalidBlobIdError);
    }
  });

  it('runs concurrent writers without mixing their bytes', async () => {
    const { store } = await make();
    const bodies = Array.from({ length: 16 }, () => randomBytes(randomInt(0, 300_000)));
    const writers = await Promise.all(bodies.map(() => store.create()));
    // Interleave the writes, then commit in a shuffled order.
    for (let off = 0; off < 300_000; off += 7_000) {
      await Promise.all(writers.map((w, i) => new Promise<void>((r) => w.stream.write(bodies[i]!.subarray(off, off + 7_000), () => r()))));
    }
    const order = writers.map((_, i) => i).sort(() => Math.random() - 0.5);
    await Promise.all(order.map((i) => writers[i]!.commit()));
    for (const [i, w] of writers.entries()) assert.ok((await readAll(store.read(w.id))).equals(bodies[i]!), `writer ${i}`);
    assert.deepEqual(await listAll(store), writers.map((w) => w.id).sort());
  });

  it('after a crash, sweepIncomplete removes the blob that was never committed, and nothing else', async () => {
    const { store, reopen } = await make();
    const kept = await put(store, randomBytes(1000));
    const crashed = await store.create();
    await new Promise<void>((r) => crashed.stream.write(randomBytes(70_000), () => r()));
    // The process "dies" here: crashed is never committed nor aborted. A new store starts on the same storage.
    const restarted = await reopen();
    // A store that leaves partial blobs behind (files) removes exactly that one; a transactional one has none.
    assert.ok((await restarted.sweepIncomplete()) <= 1);
    assert.equal(await restarted.sweepIncomplete(), 0);
    assert.deepEqual(await listAll(restarted), [kept]);
    await assert.rejects(restarted.size(crashed.id), BlobNotFoundError);
    await crashed.abort(); // the dead writer's handle, in this test's one process
  });

  it('sweepIncomplete leaves the writers of the same store alone', async () => {
    const { store } = await make();
    const w = await store.create();
    w.stream.write(Buffer.from('in flight'));
    assert.equal(await store.sweepIncomplete(), 0);
    await w.commit();
    assert.equal((await readAll(store.read(w.id))).toString(), 'in flight');
  });

  // Only for stores without a size limit: a limited one buffers by design (and is only given small blobs).
  if (traits.maxBlobBytes === undefined) it('streams a large blob in and out in flat memory', async () => {
    const { store } = await make();
    // Large enough that buffering it would show above the garbage a streaming copy leaves for the GC.
    const total = 128 * 1024 * 1024;
    const chunk = 1024 * 1024;
    const hashIn = createHash('sha256');
    async function* source() {
      for (let sent = 0; sent < total; sent += chunk) {
        const b = randomBytes(chunk);
        hashIn.update(b);
        yield b;
      }
    }
    const before = process.memoryUsage().rss;
    let peak = before;
    const w = await store.create();
    await pipeline(Readable.from(source()), w.stream);
    peak = Math.max(peak, process.memoryUsage().rss);
    await w.commit();
    assert.equal(await store.size(w.id), total);
    const hashOut = createHash('sha256');
    let n = 0;
    for await (const c of store.read(w.id)) {
      hashOut.update(c as Buffer);
      if (++n % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    assert.equal(hashOut.digest('hex'), hashIn.digest('hex'));
    // A store that buffered the blob would grow by its whole 128 MiB.
    assert.ok(peak - before < 64 * 1024 * 1024, `RSS grew by ${Math.round((peak - before) / 1024 / 1024)} MiB`);
    await store.delete(w.id);
  });
}

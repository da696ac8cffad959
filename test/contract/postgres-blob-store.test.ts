import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { BlobNotFoundError } from '../../src/store/blob/blob-store.js';
import { PostgresBlobStore, PostgresBlobStoreOptions } from '../../src/store/blob/postgres/postgres-blob-store.js';
import { PostgresDatabase } from '../../src/store/metadata/postgres/database.js';
import { postgresCluster, postgresSkip } from '../helpers/postgres.js';
import { blobStoreContract } from './blob-store.contract.js';

const opened: PostgresDatabase[] = [];
after(async () => {
  for (const d of opened) await d.close();
});

async function open(url: string): Promise<PostgresDatabase> {
  const db = await PostgresDatabase.open(url);
  opened.push(db);
  return db;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function put(store: PostgresBlobStore, body: Buffer): Promise<string> {
  const w = await store.create();
  w.stream.end(body);
  await w.commit();
  return w.id;
}

const CHUNK = 64 * 1024;

describe('PostgreSQL blob store', { skip: postgresSkip() }, () => {
  // 64 KiB chunks, so that the contract's bodies and ranges span several (the default is 1 MiB). A writer
  // of another store is stale at once: the "restart" finds the crashed one dead, as after staleAfterMs.
  const options: PostgresBlobStoreOptions = { chunkBytes: CHUNK, staleAfterMs: 0 };
  blobStoreContract(async () => {
    const url = await (await postgresCluster()).createDatabase();
    return { store: new PostgresBlobStore(await open(url), options), reopen: async () => new PostgresBlobStore(await open(url), options) };
  });
});

describe('PostgreSQL blob store: chunks, nodes, sweeps', { skip: postgresSkip() }, () => {
  async function twoNodes(options: PostgresBlobStoreOptions = { chunkBytes: CHUNK }) {
    const url = await (await postgresCluster()).createDatabase();
    const [a, b] = [await open(url), await open(url)];
    return { a: new PostgresBlobStore(a, options), b: new PostgresBlobStore(b, options), db: a };
  }
  const chunkRows = async (db: PostgresDatabase) => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM blob_chunks')).rows[0]!.n);

  it('stores a blob as rows of at most one chunk each, and a blob written on one node is read whole and in ranges on another', async () => {
    const { a, b, db } = await twoNodes();
    const body = randomBytes(5 * CHUNK + 123);
    const id = await put(a, body);
    assert.equal(await chunkRows(db), 6);
    const max = (await db.query<{ m: number }>('SELECT max(length(data)) AS m FROM blob_chunks')).rows[0]!.m;
    assert.equal(max, CHUNK);
    assert.ok((await readAll(b.read(id))).equals(body));
    assert.ok((await readAll(b.read(id, { start: CHUNK - 1, end: 3 * CHUNK }))).equals(body.subarray(CHUNK - 1, 3 * CHUNK + 1)));
    assert.equal(await b.size(id), body.length);
  });

  it('a ranged read fetches only the chunks the range covers', async () => {
    const { a, db } = await twoNodes();
    const body = randomBytes(5 * CHUNK);
    const id = await put(a, body);
    // Chunks 0, 1 and 4 gone: a range inside chunks 2–3 still reads, so it never asked for them.
    await db.query('DELETE FROM blob_chunks WHERE blob_id = $1 AND n IN (0, 1, 4)', [id]);
    assert.ok((await readAll(a.read(id, { start: 2 * CHUNK + 5, end: 4 * CHUNK - 1 }))).equals(body.subarray(2 * CHUNK + 5, 4 * CHUNK)));
    // …and a read that needs a missing chunk fails rather than returning the blob short.
    await assert.rejects(readAll(a.read(id)), /missing bytes/);
  });

  it('the chunks of an uncommitted blob are invisible to every node; a dead writer’s are swept, a live one on another node is not', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const db = await open(url);
    let clock = 1_000_000;
    const now = () => clock;
    const a = new PostgresBlobStore(db, { chunkBytes: CHUNK, staleAfterMs: 60_000, now });
    const b = new PostgresBlobStore(await open(url), { chunkBytes: CHUNK, staleAfterMs: 60_000, now });
    const w = await a.create();
    await new Promise<void>((r) => w.stream.write(randomBytes(3 * CHUNK), () => r()));
    assert.equal(await chunkRows(db), 3);
    await assert.rejects(b.size(w.id), BlobNotFoundError);
    await assert.rejects(readAll(b.read(w.id)), BlobNotFoundError);
    // On another node, a writer touched within staleAfterMs is alive: left alone.
    assert.equal(await b.sweepIncomplete(), 0);
    assert.equal(await chunkRows(db), 3);
    // Untouched past staleAfterMs: its node died. Swept, chunks and all; its commit then fails.
    clock += 60_001;
    assert.equal(await b.sweepIncomplete(), 1);
    assert.equal(await chunkRows(db), 0);
    await assert.rejects(w.commit());
    assert.equal(await chunkRows(db), 0);
  });

  it('a deleted blob stays readable for readers that opened it until its grace period ends, then its chunks are purged', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const db = await open(url);
    let clock = 1_000_000;
    const store = new PostgresBlobStore(db, { chunkBytes: CHUNK, deletedGraceMs: 1000, now: () => clock });
    const id = await put(store, randomBytes(2 * CHUNK));
    await store.delete(id);
    await assert.rejects(store.size(id), BlobNotFoundError);
    assert.equal(await chunkRows(db), 2);
    clock += 1000;
    assert.equal(await store.sweepIncomplete(), 0);
    assert.equal(await chunkRows(db), 0);
  });
});

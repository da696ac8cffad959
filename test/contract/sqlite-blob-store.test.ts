import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BlobNotFoundError } from '../../src/store/blob/blob-store.js';
import { FsBlobStore } from '../../src/store/blob/fs/fs-blob-store.js';
import { SqliteBlobStore } from '../../src/store/blob/sqlite/sqlite-blob-store.js';
import { TieredBlobStore } from '../../src/store/blob/tiered-blob-store.js';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { blobStoreContract } from './blob-store.contract.js';

describe('small-blob store in the metadata database', () => {
  const dirs: string[] = [];
  const dbs: SqliteDatabase[] = [];
  const open = (dir: string) => {
    const db = SqliteDatabase.inDataDir(dir);
    dbs.push(db);
    return db;
  };
  after(() => {
    for (const db of dbs) db.db.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const MAX = 1024 * 1024;

  blobStoreContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-small-'));
    dirs.push(dir);
    return { store: new SqliteBlobStore(open(dir), MAX), reopen: async () => new SqliteBlobStore(open(dir), MAX) };
  }, { maxBlobBytes: MAX });

  it('refuses a blob over its limit, committing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-small-'));
    dirs.push(dir);
    const store = new SqliteBlobStore(open(dir), 10);
    const w = await store.create();
    w.stream.write(Buffer.alloc(11));
    await assert.rejects(w.commit(), RangeError);
    const ids: string[] = [];
    for await (const id of store.list()) ids.push(id);
    assert.deepEqual(ids, []);
  });

  it('the tiered store puts blobs whose size fits in the database and the others in files; reads find either', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-tiered-'));
    dirs.push(dir);
    const small = new SqliteBlobStore(open(dir), 100);
    const tiered = new TieredBlobStore(small, await FsBlobStore.open(dir));
    const a = await tiered.create(50);
    a.stream.end(Buffer.alloc(50, 1));
    await a.commit();
    const b = await tiered.create(5000);
    b.stream.end(Buffer.alloc(5000, 2));
    await b.commit();
    assert.ok(small.has(a.id));
    assert.ok(!small.has(b.id));
    assert.equal(await tiered.size(a.id), 50);
    assert.equal(await tiered.size(b.id), 5000);
    // Write-behind (volume segments): a blob committed with durable: false is read at once from either tier, and
    // sync makes the file durable (the database's blobs are durable with the database); a missing one is refused.
    const c = await tiered.create(5000);
    c.stream.end(Buffer.alloc(5000, 3));
    await c.commit({ durable: false });
    assert.equal(await tiered.size(c.id), 5000);
    await tiered.sync([a.id, b.id, c.id]);
    await assert.rejects(tiered.sync([c.id, '00000000-0000-4000-8000-000000000000']), BlobNotFoundError);
    await tiered.delete(c.id);
    await tiered.delete(a.id);
    await tiered.delete(b.id);
    const ids: string[] = [];
    for await (const id of tiered.list()) ids.push(id);
    assert.deepEqual(ids, []);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BLOBS_DIR, FsBlobStore, INCOMING_DIR } from '../../src/store/blob/fs/fs-blob-store.js';
import { blobStoreContract } from './blob-store.contract.js';

describe('filesystem blob store', () => {
  const dirs: string[] = [];
  const newDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'sr-blobs-'));
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
    const store = await FsBlobStore.open(dir, { staleAfterMs: 0 });
    writeFileSync(join(dir, BLOBS_DIR, INCOMING_DIR, 'partial.tmp'), 'x');
    writeFileSync(join(dir, BLOBS_DIR, 'README'), 'x');
    assert.equal(await store.sweepIncomplete(), 1);
    const ids: string[] = [];
    for await (const id of store.list()) ids.push(id);
    assert.deepEqual(ids, []);
  });
});

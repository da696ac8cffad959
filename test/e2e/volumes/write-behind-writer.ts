// A child process for the write-behind kill -9 tests (write-behind-crash.test.ts): opens an attached volume of
// the data dir given on the command line and writes as the mode says, printing what it did; the parent kills it
// with SIGKILL once it has printed "ready".
//   unflushed: chunks 0..767 ('A', 3 segments), flush; then chunks 0..1279 ('B', 5 segments) and a small
//              unaligned write, not flushed — waits until the 5 segments are written behind (files in place,
//              none committed).
//   many:      chunks 0..253 ('Z'), flush; then 40 times: two chunks from 1000 ('M') and a zero of chunks
//              0..253 — 256 dirty entries, so each makes a segment of its two chunks: more than
//              MAX_UNCOMMITTED_SEGMENTS (32) segments written between two flushes for 5 MiB of data, without
//              changing the constant; then flush.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHUNK_BYTES } from '../../../src/core/volumes/chunks.js';
import { EncryptedBlockDevice } from '../../../src/core/volumes/encrypted-device.js';
import { startServer } from '../../helpers/server.js';
import { attachedVolume, openDevice } from '../../helpers/volumes.js';
import { chunksOf } from './write-behind-patterns.js';

const [dataDir, mode] = process.argv.slice(2) as [string, string];
const server = await startServer({ dataDir, volumes: { leaseTtlMs: 500 } });
const v = await attachedVolume(server, { sizeGiB: 1 });
process.stdout.write(`volume ${v.volumeId}\n`);
const dev = await openDevice(server, v.volumeId);
const store = server.app.volumes.store;
// 1 MiB writes, as a client's (each a fresh buffer: the device keeps views of it until sealed).
const writeChunks = async (tag: string, first: number, count: number) => {
  for (let i = first; i < first + count; i += 16) await dev.write(i * CHUNK_BYTES, chunksOf(tag, i, Math.min(16, first + count - i)), false);
};

if (mode === 'unflushed') {
  await writeChunks('A', 0, 768);
  await dev.flush();
  process.stdout.write('flushed\n');
  await writeChunks('B', 0, 1280);
  await dev.write(2000 * CHUNK_BYTES + 5, Buffer.alloc(100, 0xbb), false);
  // Written behind: five segments recorded and out of .incoming (renamed into place), none in the chunk map.
  for (;;) {
    const orphans = await store.orphanSegments(v.volumeId);
    if (orphans.length >= 5 && readdirSync(join(dataDir, 'blobs', '.incoming')).length === 0) break;
    await sleep(50);
  }
  process.stdout.write(`ready ${(await store.orphanSegments(v.volumeId)).length}\n`);
} else if (mode === 'many') {
  await writeChunks('Z', 0, 254);
  await dev.flush();
  for (let k = 0; k < 40; k++) {
    await dev.write((1000 + 2 * k) * CHUNK_BYTES, chunksOf('M', 1000 + 2 * k, 2), false);
    await dev.zero(0, 254 * CHUNK_BYTES, false);
  }
  // Before the flush: the commit the 32 segments forced has recorded some of them already.
  const early = (await store.chunks(v.volumeId)).filter((r) => r.index >= 1000).length;
  await dev.flush();
  // The segments this flush left unreferenced are deleted after it, in the background: killed before that, the
  // next open would collect them (orphanSegments); the test looks at the state once they are gone.
  if (!(dev instanceof EncryptedBlockDevice)) throw new Error('not an encrypted device');
  await dev.collected();
  process.stdout.write(`committed before the flush ${early}\nready\n`);
} else {
  throw new Error(`unknown mode ${mode}`);
}
await new Promise(() => undefined);

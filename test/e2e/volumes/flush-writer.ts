// A child process for the kill -9 test (crash.test.ts): opens an attached volume of the data dir given on the
// command line, then writes 64 KiB chunk `seq` filled with byte `seq` and flushes, forever, printing
// "flushed <seq>" after each flush resolves — the parent kills it with SIGKILL at some point.
import { CHUNK_BYTES } from '../../../src/core/volumes/chunks.js';
import { startServer } from '../../helpers/server.js';
import { attachedVolume, openDevice } from '../../helpers/volumes.js';

const dataDir = process.argv[2]!;
const server = await startServer({ dataDir, volumes: { leaseTtlMs: 500 } });
const v = await attachedVolume(server, { sizeGiB: 1 });
process.stdout.write(`volume ${v.volumeId}\n`);
const dev = await openDevice(server, v.volumeId);
for (let seq = 1; ; seq++) {
  await dev.write((seq % 200) * CHUNK_BYTES, Buffer.alloc(CHUNK_BYTES, seq % 256), false);
  // An unflushed write beside it, which the crash may or may not keep.
  await dev.write((seq % 200) * CHUNK_BYTES + CHUNK_BYTES * 300, Buffer.alloc(4096, 0xee), false);
  await dev.flush();
  process.stdout.write(`flushed ${seq}\n`);
}

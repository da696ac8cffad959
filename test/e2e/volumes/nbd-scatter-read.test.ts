import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CHUNK_BYTES as C } from '../../../src/core/volumes/chunks.js';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { mustRun, nbdToolsMissing, runTool } from '../../helpers/nbd-tools.js';
import { TestServer, startServer } from '../../helpers/server.js';
import { attachedVolume } from '../../helpers/volumes.js';
import { blobFiles } from './write-behind-patterns.js';

const skip = nbdToolsMissing() ?? false;

// The region the reads span: chunks 100..119 of the volume (20 chunks), modelled byte for byte in `model`.
const FIRST = 100;
const CHUNKS = 20;
/**
 * The reads, each one NBD request (the maximum is 32 MiB), unaligned at both ends: across the whole region
 * (19 chunks and a bit, ends in committed chunks); from a dirty chunk to a dirty one; from a never-written chunk
 * into the written-behind ones; from a written-behind chunk to a dirty one.
 */
const READS: ReadonlyArray<readonly [number, number]> = [
  [FIRST * C + 12345, 119 * C + 777],
  [112 * C + 5000, 115 * C + 20],
  [104 * C + 1, 110 * C + 3],
  [109 * C + 100, 114 * C + 1000],
].map(([from, to]) => [from!, to! - from!] as const);

interface Write {
  readonly offset: number;
  readonly data?: Buffer;
  /** Write zeroes of this length instead of data. */
  readonly zero?: number;
}

/**
 * The state the reads cross, chunk by chunk:
 *   100-103 committed (written unaligned, flushed by the first connection), 104-107 never written,
 *   108-111 written behind in the second connection (one segment with 252 chunks elsewhere: 256 dirty chunks
 *   start a segment write; not flushed), 112-113 committed then partly rewritten (dirty, read-modify-write),
 *   114 dirty over never-written, 115-117 committed then zeroed in the middle (two chunks in part, 116 whole:
 *   dropped), 118-119 committed.
 */
const FIRST_CONNECTION: Write[] = [
  { offset: 100 * C + 1000, data: randomBytes(4 * C - 1005) },
  { offset: 112 * C, data: randomBytes(2 * C) },
  { offset: 115 * C + 3, data: randomBytes(3 * C - 3) },
  { offset: 118 * C + 7, data: randomBytes(2 * C - 7) },
];
const WRITTEN_BEHIND: Write[] = [
  { offset: 108 * C, data: randomBytes(4 * C) },
  { offset: 2000 * C, data: randomBytes(252 * C) },
];
const DIRTY: Write[] = [
  { offset: 112 * C + 300, data: randomBytes(70_000) },
  { offset: 114 * C + 999, data: randomBytes(5) },
  { offset: 115 * C + 10, zero: 3 * C - 13 },
];

/** What the volume holds in the region after `writes`. */
function modelOf(writes: Write[]): Buffer {
  const model = Buffer.alloc(CHUNKS * C);
  for (const w of writes) {
    const at = w.offset - FIRST * C;
    const len = w.zero ?? w.data!.length;
    const from = Math.max(0, at);
    const to = Math.min(model.length, at + len);
    if (to <= from) continue;
    if (w.zero !== undefined) model.fill(0, from, to);
    else w.data!.copy(model, from, from - at, to - at);
  }
  return model;
}

/** qemu-io -c arguments for `writes` (data from files written to `dir`). */
function qemuWrites(dir: string, writes: Write[]): string[] {
  return writes.flatMap((w, i) => {
    if (w.zero !== undefined) return ['-c', `write -z ${w.offset} ${w.zero}`];
    const file = join(dir, `w-${w.offset}-${i}`);
    writeFileSync(file, w.data!);
    return ['-c', `write -s ${file} ${w.offset} ${w.data!.length}`];
  });
}

/** The buffers of every `read -v` in qemu-io's output (a hex dump per read, each ended by its "read N/N bytes" line). */
function hexDumps(out: string): Buffer[] {
  const reads: Buffer[] = [];
  let bytes: number[] = [];
  for (const line of out.split('\n')) {
    const m = /^[0-9a-f]{8,}:  (.*)$/.exec(line);
    if (m) {
      for (const t of m[1]!.split(' ').slice(0, 16)) {
        if (!/^[0-9a-f]{2}$/.test(t)) break;
        bytes.push(parseInt(t, 16));
      }
    } else if (/^read \d+\/\d+ bytes/.test(line)) {
      reads.push(Buffer.from(bytes));
      bytes = [];
    }
  }
  return reads;
}

/** Where a read at `offset` first differs from what it should have returned, as the chunk and offset. */
function firstDifference(offset: number, got: Buffer, want: Buffer): string {
  if (got.length !== want.length) return `length ${got.length}, want ${want.length}`;
  const i = got.findIndex((b, k) => b !== want[k]);
  const at = offset + i;
  return `the read at ${offset}: byte ${i} (chunk ${Math.floor(at / C)} + ${at % C})`;
}

/** What each of READS should return after `writes`. */
function wanted(writes: Write[]): Buffer[] {
  const model = modelOf(writes);
  return READS.map(([at, len]) => model.subarray(at - FIRST * C, at - FIRST * C + len));
}

describe('NBD reads spanning chunks in every state (committed, never written, written behind, dirty, zeroed)', { skip }, () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sr-nbd-scatter-'));
    server = await startServer({ nbd: { host: '127.0.0.1', port: 0 } });
  });
  after(async () => {
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh attached volume whose chunks FIRST_CONNECTION wrote and flushed (qemu-io, closed: the close flushes). */
  async function preparedVolume(): Promise<string> {
    const volumeId = (await attachedVolume(server)).volumeId;
    await mustRun('qemu-io', ['-f', 'raw', ...qemuWrites(dir, FIRST_CONNECTION), '-c', 'flush', `${server.nbdUrl}/${volumeId}`]);
    return volumeId;
  }

  it('qemu-io (structured replies): unaligned reads across them return exactly the bytes written — before the segment write lands, after it, after a flush, and in a new connection', async () => {
    const volumeId = await preparedVolume();
    const url = `${server.nbdUrl}/${volumeId}`;
    const read = READS.flatMap(([at, len]) => ['-c', `read -v ${at} ${len}`]);
    // One connection: the writes behind and the dirty ones, then the read at once (the segment may still be in
    // flight), again once it has been written (uncommitted: no flush yet), and after a flush (all committed).
    // Writeback: qemu-io's default (writethrough) sends every write with FUA, which commits it at once.
    // Traced: the requests qemu sent, and that its NBD client negotiated structured replies, each read coming back
    // as one data chunk.
    const run = await runTool('qemu-io', ['-t', 'writeback', '--trace', 'nbd_send_request', '--trace', 'nbd_receive_structured_reply_chunk', '-f', 'raw', ...qemuWrites(dir, [...WRITTEN_BEHIND, ...DIRTY]), ...read, '-c', 'sleep 1500', ...read, '-c', 'flush', ...read, url], 120_000);
    assert.equal(run.code, 0, run.stderr);
    const sent = [...run.stderr.matchAll(/Sending request to server: \{ .*\.flags = 0x([0-9a-f]+), \.type = (\d+)/g)].map((m) => ({ flags: parseInt(m[1]!, 16), type: Number(m[2]) }));
    // Four writes and a write-zeroes, none FUA, then the reads, the reads, a flush, the reads (then whatever the close sends).
    const reading = READS.map(() => 0);
    assert.deepEqual(sent.slice(0, 6 + 3 * READS.length).map((r) => r.type), [1, 1, 1, 1, 6, ...reading, ...reading, 3, ...reading], JSON.stringify(sent));
    assert.ok(sent.slice(0, 5).every((r) => (r.flags & 1) === 0), 'no write with FUA');
    const chunks = [...run.stderr.matchAll(/Got structured reply chunk: \{ flags = 0x1, type = 1 \(data\), handle = \d+, length = (\d+) \}/g)];
    const lengths = READS.map(([, len]) => len + 8);
    assert.deepEqual(chunks.map((m) => Number(m[1])), [...lengths, ...lengths, ...lengths], 'each read one NBD_REPLY_TYPE_OFFSET_DATA chunk (offset + data)');
    const want = wanted([...FIRST_CONNECTION, ...WRITTEN_BEHIND, ...DIRTY]);
    const reads = hexDumps(run.stdout);
    assert.equal(reads.length, 3 * READS.length);
    for (const [k, got] of reads.entries()) {
      const r = k % READS.length;
      assert.ok(got.equals(want[r]!), `pass ${Math.floor(k / READS.length) + 1}, ${firstDifference(READS[r]![0], got, want[r]!)}`);
    }
    // A new connection: everything from segments, nothing cached.
    const again = hexDumps(await mustRun('qemu-io', ['-f', 'raw', '-r', ...read, url], 120_000));
    assert.equal(again.length, READS.length);
    again.forEach((got, r) => assert.ok(got.equals(want[r]!), `new connection: ${firstDifference(READS[r]![0], got, want[r]!)}`));
  });

  for (const structured of [false, true]) {
    it(`a raw client (${structured ? 'structured' : 'simple'} replies) reads the same spans exactly, each in one reply`, async () => {
      const volumeId = await preparedVolume();
      const c = await RawNbdClient.connect(Number(new URL(server.nbdUrl!).port));
      try {
        await c.open(volumeId, { structured });
        let handle = 1n;
        for (const w of [...WRITTEN_BEHIND, ...DIRTY]) {
          if (w.zero !== undefined) c.request(6, handle, w.offset, w.zero);
          else c.request(1, handle, w.offset, w.data!.length, { data: w.data! });
          assert.deepEqual(await c.reply(), { handle, error: 0, kind: 'simple' });
          handle++;
        }
        const want = wanted([...FIRST_CONNECTION, ...WRITTEN_BEHIND, ...DIRTY]);
        const store = server.app.volumes.store;
        for (const pass of ['at once', 'once the segment is written']) {
          if (pass !== 'at once') {
            // The premise: the segment of 108-111 written behind (recorded, its file in place), not committed.
            const written = async () => {
              const orphans = await store.orphanSegments(volumeId);
              const files = blobFiles(server.dataDir);
              return orphans.length > 0 && orphans.every((id) => files.includes(id));
            };
            for (let i = 0; !(await written()); i++) {
              if (i > 600) throw new Error('the segment was never written');
              await sleep(50);
            }
            assert.ok(!(await store.chunks(volumeId)).some((r) => r.index >= 108 && r.index <= 111), 'chunks 108-111 not committed');
          }
          for (const [k, [at, len]] of READS.entries()) {
            c.request(0, handle, at, len);
            const r = await c.reply(new Map([[handle, len]]));
            assert.equal(r.error, 0);
            assert.equal(r.kind, structured ? 1 : 'simple', 'NBD_REPLY_TYPE_OFFSET_DATA, or a simple reply');
            assert.ok(r.data!.equals(want[k]!), `${pass}: ${firstDifference(at, r.data!, want[k]!)}`);
            handle++;
          }
        }
      } finally {
        c.destroy();
      }
    });
  }
});

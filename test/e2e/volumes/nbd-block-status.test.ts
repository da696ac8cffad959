import { CreateKeyCommand } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CHUNK_BYTES } from '../../../src/core/volumes/chunks.js';
import { mustRun, nbdToolsMissing } from '../../helpers/nbd-tools.js';
import { TestServer, startServer } from '../../helpers/server.js';
import { attachedVolume, openDevice } from '../../helpers/volumes.js';

const skip = nbdToolsMissing() ?? false;
const MiB = 1 << 20;
const GiB = 2 ** 30;

interface MapEntry {
  offset: number;
  length: number;
  type: number;
}

/** `nbdinfo --map --json` of an export: its base:allocation extents (type: 0 data, 3 hole and zero). */
async function allocationMap(url: string): Promise<MapEntry[]> {
  return (JSON.parse(await mustRun('nbdinfo', ['--map', '--json', url])) as MapEntry[]).map(({ offset, length, type }) => ({ offset, length, type }));
}

/** The map a volume of `size` bytes written (at 64 KiB chunk granularity) on `data` ranges should have. */
function expectedMap(size: number, data: Array<[number, number]>): MapEntry[] {
  const out: MapEntry[] = [];
  let at = 0;
  for (const [start, end] of data) {
    if (start > at) out.push({ offset: at, length: start - at, type: 3 });
    out.push({ offset: start, length: end - start, type: 0 });
    at = end;
  }
  if (at < size) out.push({ offset: at, length: size - at, type: 3 });
  return out;
}

describe('NBD block status (base:allocation) with real clients: holes are skipped, not read', { skip }, () => {
  let server: TestServer;
  let dir: string;
  let keyId: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sr-nbd-map-'));
    server = await startServer({ nbd: { host: '127.0.0.1', port: 0 } });
    keyId = (await server.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  });
  after(async () => {
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('nbdinfo --map and qemu-img map of an encrypted volume written at a few places show exactly the written chunks as data, the rest as hole and zero', async () => {
    const { volumeId } = await attachedVolume(server, { encrypted: true, kmsKeyId: keyId });
    const url = `${server.nbdUrl}/${volumeId}`;
    const fresh = await allocationMap(url);
    assert.deepEqual(fresh, [{ offset: 0, length: GiB, type: 3 }], 'a new volume is one hole');
    // Whole chunks, a byte inside one, an unaligned range over three, the last chunk; then one zeroed again.
    await mustRun('qemu-io', [
      '-f', 'raw',
      '-c', `write -P 0x11 0 ${CHUNK_BYTES}`,
      '-c', `write -P 0x22 ${5 * MiB + 100} 1`,
      '-c', `write -P 0x33 ${512 * MiB - 10} ${CHUNK_BYTES + 20}`,
      '-c', `write -P 0x44 ${GiB - CHUNK_BYTES} ${CHUNK_BYTES}`,
      '-c', `write -P 0x55 ${700 * MiB} ${2 * CHUNK_BYTES}`,
      '-c', `write -z ${700 * MiB} ${CHUNK_BYTES}`,
      url,
    ]);
    const written: Array<[number, number]> = [
      [0, CHUNK_BYTES],
      [5 * MiB, 5 * MiB + CHUNK_BYTES],
      [512 * MiB - CHUNK_BYTES, 512 * MiB + 2 * CHUNK_BYTES],
      [700 * MiB + CHUNK_BYTES, 700 * MiB + 2 * CHUNK_BYTES],
      [GiB - CHUNK_BYTES, GiB],
    ];
    assert.deepEqual(await allocationMap(url), expectedMap(GiB, written));
    const qemu = JSON.parse(await mustRun('qemu-img', ['map', '--output=json', '-f', 'raw', url])) as Array<{ start: number; length: number; data: boolean; zero: boolean }>;
    const runs = qemu.map((e) => ({ offset: e.start, length: e.length, type: e.data ? 0 : 3 })).reduce<MapEntry[]>((acc, e) => {
      const last = acc.at(-1);
      if (last && last.type === e.type) last.length += e.length;
      else acc.push({ ...e });
      return acc;
    }, []);
    assert.deepEqual(runs, expectedMap(GiB, written));
    assert.ok(qemu.every((e) => e.data || e.zero), 'holes read as zeroes');
  });

  it('nbdcopy of a sparse volume reads only the written chunks: the copy keeps the holes as holes, and a 1 TiB volume copies in seconds', async () => {
    const { volumeId } = await attachedVolume(server, { encrypted: true, kmsKeyId: keyId });
    const url = `${server.nbdUrl}/${volumeId}`;
    await mustRun('qemu-io', ['-f', 'raw', '-c', `write -P 0x61 ${3 * MiB} ${2 * MiB}`, '-c', `write -P 0x62 ${900 * MiB + 7} 5`, url]);
    const out = join(dir, 'copy.img');
    await mustRun('nbdcopy', [url, out]);
    assert.equal(statSync(out).size, GiB);
    // What the file system allocated for the copy: the written chunks, not 1 GiB of zeroes.
    const allocated = statSync(out).blocks * 512;
    assert.ok(allocated <= 4 * MiB, `the copy allocated ${allocated} bytes`);
    const fileMap = JSON.parse(await mustRun('qemu-img', ['map', '--output=json', '-f', 'raw', out])) as Array<{ start: number; length: number; data: boolean }>;
    const dataBytes = fileMap.filter((e) => e.data).reduce((n, e) => n + e.length, 0);
    assert.ok(dataBytes >= 2 * MiB && dataBytes <= 4 * MiB, `${dataBytes} data bytes in the copy`);
    const copy = readFileSync(out);
    assert.ok(copy.subarray(3 * MiB, 5 * MiB).equals(Buffer.alloc(2 * MiB, 0x61)));
    assert.ok(copy.subarray(900 * MiB + 7, 900 * MiB + 12).equals(Buffer.alloc(5, 0x62)));
    assert.ok(copy.subarray(5 * MiB, 900 * MiB).equals(Buffer.alloc(895 * MiB)));

    // 1 TiB written at two places: without block status nbdcopy would read (and decrypt) 2^40 bytes of zeroes.
    const big = await attachedVolume(server, { sizeGiB: 1024, encrypted: true, kmsKeyId: keyId });
    const bigUrl = `${server.nbdUrl}/${big.volumeId}`;
    await mustRun('qemu-io', ['-f', 'raw', '-c', `write -P 0x71 ${2 ** 39} 4096`, '-c', `write -P 0x72 ${2 ** 40 - 4096} 4096`, bigUrl]);
    // Reading 2^40 bytes would take hours here: the copy finishing within mustRun's limit is what shows the holes were skipped.
    await mustRun('nbdcopy', [bigUrl, 'null:'], 120_000);
    assert.deepEqual(await allocationMap(bigUrl), expectedMap(2 ** 40, [[2 ** 39, 2 ** 39 + CHUNK_BYTES], [2 ** 40 - CHUNK_BYTES, 2 ** 40]]));
  });

  it('the encrypted device reports writes as data whether dirty, written behind or committed, and chunks zeroed whole as holes at once', async () => {
    const { volumeId } = await attachedVolume(server, { encrypted: true, kmsKeyId: keyId });
    const dev = await openDevice(server, volumeId);
    try {
      const C = CHUNK_BYTES;
      await dev.write(C + 5, Buffer.from('dirty'), false);
      assert.deepEqual(await dev.extents(0, 4 * C, 100), [{ length: C, hole: true }, { length: C, hole: false }, { length: 2 * C, hole: true }], 'dirty');
      // A write of 16 MiB+ hands chunks to a write-behind segment write (in flight, then #written).
      await dev.write(8 * MiB, Buffer.alloc(17 * MiB, 1), false);
      assert.deepEqual(await dev.extents(8 * MiB - C, 17 * MiB + 2 * C, 100), [{ length: C, hole: true }, { length: 17 * MiB, hole: false }, { length: C, hole: true }], 'written behind');
      await dev.flush();
      assert.deepEqual(await dev.extents(8 * MiB, 17 * MiB, 100), [{ length: 17 * MiB, hole: false }], 'committed');
      await dev.zero(9 * MiB, 2 * C, false);
      assert.deepEqual(await dev.extents(9 * MiB - 1, 2 * C + 2, 100), [{ length: 1, hole: false }, { length: 2 * C, hole: true }, { length: 1, hole: false }], 'zeroed, not yet flushed');
      await dev.flush();
      assert.deepEqual(await dev.extents(9 * MiB - 1, 2 * C + 2, 100), [{ length: 1, hole: false }, { length: 2 * C, hole: true }, { length: 1, hole: false }], 'zeroed and flushed');
      // Part of a chunk zeroed: still data (reported allocated, which is always safe).
      await dev.zero(C, 10, false);
      assert.deepEqual(await dev.extents(C, C, 100), [{ length: C, hole: false }]);
      // The cap: at most maxExtents, consecutive from the offset, stopping short of the range.
      const capped = await dev.extents(0, 26 * MiB, 2);
      assert.deepEqual(capped, [{ length: C, hole: true }, { length: C, hole: false }]);
      assert.deepEqual(await dev.extents(0, 26 * MiB, 1), [{ length: C, hole: true }]);
    } finally {
      await dev.close();
    }
  });

  it('block status over a 1 TiB volume written at one place answers the whole range at once, from the written chunks', async () => {
    const { volumeId } = await attachedVolume(server, { sizeGiB: 1024 });
    const dev = await openDevice(server, volumeId);
    try {
      const T = 2 ** 40;
      await dev.write(2 ** 39, Buffer.from('x'), false);
      // One answer for the whole 1 TiB (three extents), not 2^16 chunks' worth: answered from the written chunks.
      assert.deepEqual(await dev.extents(0, T, 10), [{ length: 2 ** 39, hole: true }, { length: CHUNK_BYTES, hole: false }, { length: T - 2 ** 39 - CHUNK_BYTES, hole: true }]);
      // A range with fewer chunks than are written is looked at chunk by chunk: the same answer.
      await dev.write(2 ** 39 + 2 * CHUNK_BYTES, Buffer.from('y'), true);
      assert.deepEqual(await dev.extents(2 ** 39 + 1, 2 * CHUNK_BYTES, 10), [{ length: CHUNK_BYTES - 1, hole: false }, { length: CHUNK_BYTES, hole: true }, { length: 1, hole: false }]);
    } finally {
      await dev.close();
    }
  });
});

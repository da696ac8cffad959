import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkAllocation, MAX_SCANNED_CHUNKS, chunkExtents } from '../../src/core/volumes/chunk-extents.js';

const C = 65536;
const TiB = 2 ** 40;

/** A device of 64 KiB chunks where `isData` says which are written; counts how many chunks were looked at. */
function device(isData: (i: number) => boolean, known: () => Iterable<number>, knownCount: number): ChunkAllocation & { looked: number } {
  const d = {
    chunkBytes: C,
    looked: 0,
    knownCount,
    known,
    allocated: (i: number) => {
      d.looked++;
      return isData(i);
    },
  };
  return d;
}

describe('chunk extents (BlockDevice.extents for chunked devices: NBD base:allocation)', () => {
  it('runs of data and holes, clipped to an unaligned range, merged, never empty', () => {
    const data = new Set([1, 2, 5]);
    const d = device((i) => data.has(i), () => data, data.size);
    // Sparse path (3 known chunks, a range of 8): the same answer as looking at each chunk.
    const want = [{ length: C - 10, hole: true }, { length: 2 * C, hole: false }, { length: 2 * C, hole: true }, { length: C, hole: false }, { length: 7, hole: true }];
    assert.deepEqual(chunkExtents(10, 6 * C - 3, 100, d), want);
    const dense = device((i) => data.has(i), () => data, 1000);
    assert.deepEqual(chunkExtents(10, 6 * C - 3, 100, dense), want);
    assert.deepEqual(chunkExtents(C + 1, 1, 100, d), [{ length: 1, hole: false }]);
    assert.deepEqual(chunkExtents(0, 0, 100, d), []);
  });

  it('at most maxExtents, consecutive from the offset (the rest is asked for again); REQ_ONE is one', () => {
    const data = new Set([1, 3, 5, 7]);
    for (const count of [data.size, 10_000]) {
      const d = device((i) => data.has(i), () => data, count);
      assert.deepEqual(chunkExtents(0, 9 * C, 3, d), [{ length: C, hole: true }, { length: C, hole: false }, { length: C, hole: true }]);
      assert.deepEqual(chunkExtents(C + 5, 9 * C, 1, d), [{ length: C - 5, hole: false }]);
    }
  });

  it('1 TiB written at three chunks: the whole range in one answer, looking at the written chunks only', () => {
    const data = [7, 2 ** 23, 2 ** 24 - 1];
    const d = device((i) => data.includes(i), () => [...data, 7], 4);
    assert.deepEqual(chunkExtents(0, TiB, 100, d), [
      { length: 7 * C, hole: true },
      { length: C, hole: false },
      { length: (2 ** 23 - 8) * C, hole: true },
      { length: C, hole: false },
      { length: (2 ** 24 - 2 ** 23 - 2) * C, hole: true },
      { length: C, hole: false },
    ]);
    assert.ok(d.looked <= 4, `${d.looked} chunks looked at`);
  });

  it('1 TiB written whole (2^24 chunks known): at most 2^16 chunks looked at per call, the answer stops there', () => {
    const d = device(() => true, () => {
      throw new Error('not listed when dense');
    }, 2 ** 24);
    assert.deepEqual(chunkExtents(0, TiB, 2048, d), [{ length: MAX_SCANNED_CHUNKS * C, hole: false }]);
    assert.ok(d.looked <= MAX_SCANNED_CHUNKS, `${d.looked} chunks looked at`);
    const alternating = device((i) => i % 2 === 0, () => [], 2 ** 24);
    const capped = chunkExtents(3, TiB - 3, 2048, alternating);
    assert.equal(capped.length, 2048);
    assert.equal(capped[0]!.length, C - 3);
    assert.ok(alternating.looked <= 2050, `${alternating.looked} chunks looked at once the cap was reached`);
  });
});

import { Extent } from './block-device.js';

/**
 * Chunks looked at per call at most: 2^16 (4 GiB of 64 KiB chunks, an NBD request's largest length), so that
 * block status over a 1 TiB volume (2^24 chunks) is bounded work per request — the client asks again from
 * where the answer stopped.
 */
export const MAX_SCANNED_CHUNKS = 1 << 16;

export interface ChunkAllocation {
  readonly chunkBytes: number;
  /** Whether chunk i holds data (false: a hole, reads as zeroes). */
  allocated(i: number): boolean;
  /** How many chunk indices `known` yields at most (an upper bound is enough). */
  readonly knownCount: number;
  /** Every index that may be allocated, in any order, repeats allowed (all others are holes). */
  known(): Iterable<number>;
}

/**
 * BlockDevice.extents for a device made of fixed-size chunks: [offset, offset+length) as runs of allocated
 * chunks and holes, at most `maxExtents` (at least one), clipped to the range (unaligned ends included).
 * A sparse device — fewer known chunks than the range has — is answered from its known chunks, whatever the
 * range's size; otherwise chunk by chunk, at most MAX_SCANNED_CHUNKS (the answer then stops there).
 */
export function chunkExtents(offset: number, length: number, maxExtents: number, a: ChunkAllocation): Extent[] {
  if (length <= 0) return [];
  const cb = a.chunkBytes;
  const end = offset + length;
  const first = Math.floor(offset / cb);
  const lastEnd = Math.ceil(end / cb);
  const extents: Array<{ length: number; hole: boolean }> = [];
  let full = false;
  /** Adds chunks [from, to) in one state; false once maxExtents is reached and the next run is another state. */
  const add = (from: number, to: number, hole: boolean): boolean => {
    const bytes = Math.min(end, to * cb) - Math.max(offset, from * cb);
    const last = extents.at(-1);
    if (last && last.hole === hole) last.length += bytes;
    else if (extents.length >= maxExtents) return !(full = true);
    else extents.push({ length: bytes, hole });
    return true;
  };
  const scan = Math.min(lastEnd - first, MAX_SCANNED_CHUNKS);
  if (a.knownCount < scan) {
    const inRange = new Set<number>();
    for (const i of a.known()) if (i >= first && i < lastEnd && a.allocated(i)) inRange.add(i);
    let at = first;
    for (const i of [...inRange].sort((x, y) => x - y)) {
      if (i > at && !add(at, i, true)) break;
      if (!add(i, i + 1, false)) break;
      at = i + 1;
    }
    if (!full && at < lastEnd) add(at, lastEnd, true);
  } else {
    let runStart = first;
    let runHole = !a.allocated(first);
    for (let i = first + 1; i < first + scan && !full; i++) {
      const hole = !a.allocated(i);
      if (hole === runHole) continue;
      add(runStart, i, runHole);
      runStart = i;
      runHole = hole;
    }
    if (!full) add(runStart, first + scan, runHole);
  }
  return extents;
}

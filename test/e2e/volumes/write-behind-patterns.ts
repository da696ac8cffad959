import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CHUNK_BYTES } from '../../../src/core/volumes/chunks.js';

/** Chunk `index` as the write-behind tests write it with `tag`: its own content, so a chunk moved, swapped or mixed shows. */
export function chunkOf(tag: string, index: number): Buffer {
  return Buffer.alloc(CHUNK_BYTES).fill(`${tag}${index}.`);
}

/** `count` chunks from `first`, each chunkOf(tag, its index), as one buffer (one write). */
export function chunksOf(tag: string, first: number, count: number): Buffer {
  return Buffer.concat(Array.from({ length: count }, (_, k) => chunkOf(tag, first + k)));
}

/** The blob files of a data dir (blobs/<2 hex>/<id>): committed blobs, segments among them. */
export function blobFiles(dataDir: string): string[] {
  const root = join(dataDir, 'blobs');
  return readdirSync(root)
    .filter((d) => /^[0-9a-f]{2}$/.test(d))
    .flatMap((d) => readdirSync(join(root, d)))
    .sort();
}

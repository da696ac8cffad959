import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file below `dir` (recursively): a data dir holds the database, the root key and blobs/. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_KEY_FILE } from './core/crypto/root-of-trust/file.js';
import { RootOfTrustError } from './core/crypto/root-of-trust/root-of-trust.js';
import { BLOBS_DIR } from './store/blob/fs/fs-blob-store.js';
import { SQLITE_FILE } from './store/metadata/sqlite/database.js';
import { CREDENTIALS_FILE } from './bootstrap.js';

/** A data dir whose parts do not belong together: the server refuses to start (one line, no stack). */
export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

/**
 * Refuses, before anything is created or written, a data dir that is part of a deployment but not all of it:
 *
 * - a database without its root-of-trust.key: every key in the database is wrapped by that key, so a new
 *   random one would open none of them (and would be written next to them, hiding what went wrong);
 * - object bodies (blobs/) or a credentials file without the database: the deployment they belong to is gone,
 *   and starting a new, empty one over them would look like a successful start with every object missing.
 *
 * A root-of-trust.key alone is accepted: it is made first on a first start, so a start that died before making
 * the database leaves one, and a new deployment may use it.
 */
export function checkDataDirParts(dataDir: string): void {
  const has = (name: string) => existsSync(join(dataDir, name));
  if (!existsSync(dataDir)) return;
  if (has(SQLITE_FILE) && !has(ROOT_KEY_FILE)) {
    throw new DataDirError(
      `data dir ${dataDir} has a database (${SQLITE_FILE}) but no ${ROOT_KEY_FILE}: restore the key file it was made with ` +
        `(every key in the database is wrapped by it) — refusing to create a new one`,
    );
  }
  if (!has(SQLITE_FILE)) {
    const leftovers = [BLOBS_DIR + '/', CREDENTIALS_FILE].filter(has);
    if (leftovers.length > 0) {
      throw new DataDirError(
        `data dir ${dataDir} has ${leftovers.join(' and ')} but no database (${SQLITE_FILE}): restore the database, ` +
          `or use an empty data dir for a new deployment — refusing to start a new, empty one over them`,
      );
    }
  }
}

/**
 * Offline commands (explain, account create) work on a deployment that exists: a data dir with its database and
 * its root-of-trust.key. Opening the stores of anything else would create an empty database there — which
 * `serve` would then refuse as a database without its key. Returns the message to print, or undefined.
 */
export function notADataDir(dataDir: string): string | undefined {
  if (existsSync(join(dataDir, SQLITE_FILE)) && existsSync(join(dataDir, ROOT_KEY_FILE))) return undefined;
  return `${dataDir} is not a Strongroom data dir (no ${SQLITE_FILE} and ${ROOT_KEY_FILE}; start \`strongroom serve\` on it once first)`;
}

/** The error for a root-of-trust.key that does not open what the database holds wrapped (see app.ts). */
export function wrongRootKey(dataDir: string, err: RootOfTrustError): DataDirError {
  return new DataDirError(
    `${ROOT_KEY_FILE} of data dir ${dataDir} does not open the keys wrapped in its database (${SQLITE_FILE}: ${err.message}): ` +
      `it is not the key this database was made with — restore the original key file`,
  );
}

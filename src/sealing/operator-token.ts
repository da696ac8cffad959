import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFile } from '../private-file.js';

/**
 * The operator token (README "Sealed start"): a random token in `<data-dir>/operator-token` (mode 0600), made by
 * the server on its first sealed start. `operator unseal` and `operator seal` send it; with the loopback-only
 * rule it means: whoever unseals or seals is on the machine and can read the data dir (the server's user or root).
 * It authorises giving shares, never reveals anything: the shares are the secret.
 */
export const OPERATOR_TOKEN_FILE = 'operator-token';
export const OPERATOR_TOKEN_HEADER = 'x-strongroom-operator-token';

export function operatorTokenPath(dataDir: string): string {
  return join(dataDir, OPERATOR_TOKEN_FILE);
}

/** The token, made (exclusively: of workers racing, one wins) if missing. */
export function openOrCreateOperatorToken(dataDir: string): string {
  const path = operatorTokenPath(dataDir);
  try {
    const token = randomBytes(32).toString('base64url');
    writePrivateFile(path, token + '\n', 'exclusive');
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readOperatorToken(dataDir);
}

export function readOperatorToken(dataDir: string): string {
  return readFileSync(operatorTokenPath(dataDir), 'utf8').trim();
}

/** Constant-time comparison (of digests, so lengths do not leak either). */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(given), h(expected));
}

import { closeSync, constants, fsyncSync, openSync, writeSync } from 'node:fs';

/**
 * Writes `text` to `path` as a file of mode 0600 (secrets: keys, credentials, tokens) and fsyncs it before closing.
 * `exclusive`: O_EXCL — throws EEXIST if the file exists, so of processes racing to make it one wins; `replace`:
 * O_TRUNC over an existing file (whose mode is kept).
 */
export function writePrivateFile(path: string, text: string, how: 'exclusive' | 'replace'): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | (how === 'exclusive' ? constants.O_EXCL : constants.O_TRUNC), 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

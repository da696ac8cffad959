import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileRootOfTrust, ROOT_KEY_FILE } from '../../src/core/crypto/root-of-trust/file.js';
import { RootOfTrustError } from '../../src/core/crypto/root-of-trust/root-of-trust.js';
import { rootOfTrustContract } from './root-of-trust.contract.js';

describe('file root of trust', () => {
  rootOfTrustContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-rot-'));
    return { root: FileRootOfTrust.openOrCreate(dir), reopen: async () => FileRootOfTrust.openOrCreate(dir) };
  });

  it('creates its key file with mode 0600 and refuses to use one readable by others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-rot-'));
    FileRootOfTrust.openOrCreate(dir);
    const file = join(dir, ROOT_KEY_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    chmodSync(file, 0o644);
    assert.throws(() => FileRootOfTrust.openOrCreate(dir), RootOfTrustError);
  });
});

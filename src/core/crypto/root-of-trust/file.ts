import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, writeSync, fsyncSync, constants } from 'node:fs';
import { join } from 'node:path';
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES, open, seal } from '../aes-gcm.js';
import { SecretBytes } from '../secret-bytes.js';
import { RootOfTrust, RootOfTrustError } from './root-of-trust.js';

const FORMAT = 0x01;
export const ROOT_KEY_FILE = 'root-of-trust.key';

/**
 * A 256-bit root key in a 0600 file of the data dir, for a single box. Wrapped blobs are
 * `0x01 ‖ nonce ‖ ciphertext ‖ tag` (AES-256-GCM). The file is created exclusively (O_EXCL) so two
 * processes can never race to different root keys for one data dir.
 */
export class FileRootOfTrust implements RootOfTrust {
  readonly kind = 'file';
  #key: SecretBytes;

  private constructor(key: SecretBytes) {
    this.#key = key;
  }

  /** The data dir's key file (ROOT_KEY_FILE), made if missing. */
  static openOrCreate(dataDir: string): FileRootOfTrust {
    return FileRootOfTrust.openOrCreateAt(join(dataDir, ROOT_KEY_FILE));
  }

  /** The key file at `path`, made if missing (exclusively: of processes racing to make it, one key wins). */
  static openOrCreateAt(path: string): FileRootOfTrust {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        const key = randomBytes(KEY_BYTES);
        writeSync(fd, key);
        fsyncSync(fd);
        return new FileRootOfTrust(SecretBytes.adopt(key));
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return FileRootOfTrust.openAt(path);
  }

  /** The key file at `path`, which must exist. */
  static openAt(path: string): FileRootOfTrust {
    const fd = openSync(path, 'r');
    try {
      const mode = fstatSync(fd).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new RootOfTrustError(`${path} must not be readable by group or others (mode ${mode.toString(8)}); chmod 600 it`);
      }
      const key = readFileSync(fd);
      if (key.length !== KEY_BYTES) throw new RootOfTrustError(`${path} is not a ${KEY_BYTES}-byte key`);
      return new FileRootOfTrust(SecretBytes.adopt(key));
    } finally {
      closeSync(fd);
    }
  }

  async wrap(plaintext: SecretBytes, aad: Buffer): Promise<Buffer> {
    const { nonce, ciphertext, tag } = seal(this.#key.reveal(), plaintext.reveal(), aad);
    return Buffer.concat([Buffer.of(FORMAT), nonce, ciphertext, tag]);
  }

  async unwrap(wrapped: Buffer, aad: Buffer): Promise<SecretBytes> {
    if (wrapped.length < 1 + NONCE_BYTES + TAG_BYTES || wrapped[0] !== FORMAT) {
      throw new RootOfTrustError('wrapped blob is malformed');
    }
    const nonce = wrapped.subarray(1, 1 + NONCE_BYTES);
    const ciphertext = wrapped.subarray(1 + NONCE_BYTES, wrapped.length - TAG_BYTES);
    const tag = wrapped.subarray(wrapped.length - TAG_BYTES);
    const plain = open(this.#key.reveal(), nonce, ciphertext, tag, aad);
    if (!plain) throw new RootOfTrustError('wrapped blob does not authenticate');
    return SecretBytes.adopt(plain);
  }

  async close(): Promise<void> {
    this.#key.wipe();
  }
}

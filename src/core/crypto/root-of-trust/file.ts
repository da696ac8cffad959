import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, writeSync, fsyncSync, constants, existsSync, unlinkSync } from 'node:fs';
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
  readonly description = 'the root-of-trust key file';
  #key: SecretBytes;

  private constructor(
    key: SecretBytes,
    /** Whether this process made the file (a new deployment) rather than found it. */
    readonly created: boolean = false,
  ) {
    this.#key = key;
  }

  /**
   * A copy of the key itself. Before the keyring, this key wrapped every stored secret directly (blobs
   * `0x01 ‖ nonce ‖ ct ‖ tag`, no keyring header): a deployment made then keeps it as keyring key 0, so its
   * blobs still unwrap after the keyring moves to another root (keyring.ts).
   */
  keyForUpgrade(): SecretBytes {
    return SecretBytes.adopt(Buffer.from(this.#key.reveal()));
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
        return new FileRootOfTrust(SecretBytes.adopt(key), true);
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

/**
 * Overwrites a key file with zeros, makes that durable and removes it: what `operator rotate-root` does with the
 * file root it moved the keyring away from (on a journalling or copy-on-write filesystem the old blocks may
 * survive; the README says to keep the data dir on an encrypted volume).
 */
export function eraseKeyFile(path: string): void {
  if (!existsSync(path)) return;
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.alloc(fstatSync(fd).size));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(path);
}

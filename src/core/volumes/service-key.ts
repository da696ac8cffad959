import { randomBytes } from 'node:crypto';
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES, open, seal } from '../crypto/aes-gcm.js';
import { KeyWrapper } from '../crypto/root-of-trust/root-of-trust.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { VolumeStore } from '../../store/metadata/volume-types.js';

/**
 * The EBS service key: what seals the data keys of volumes and snapshots that the API calls "not encrypted"
 * (no KMS key), as SSE-S3's service key does for objects — so their blocks are never plaintext on disk either.
 * Made on first use, stored wrapped by the root of trust, unwrapped once per process.
 */
export class EbsServiceKey {
  #key: Promise<Buffer> | undefined;

  constructor(
    private readonly root: KeyWrapper,
    private readonly store: VolumeStore,
  ) {}

  /** `operator seal`: drops the unwrapped service key (unwrapped again on first use after the next unseal). */
  forget(): void {
    const key = this.#key;
    this.#key = undefined;
    void key?.then((k) => k.fill(0), () => undefined);
  }

  async seal(dataKey: Buffer, ownerId: string): Promise<string> {
    const s = seal(await this.#service(), dataKey, aad(ownerId));
    return Buffer.concat([s.nonce, s.ciphertext, s.tag]).toString('base64');
  }

  async open(sealed: string, ownerId: string): Promise<SecretBytes> {
    const b = Buffer.from(sealed, 'base64');
    const key =
      b.length === NONCE_BYTES + KEY_BYTES + TAG_BYTES
        ? open(await this.#service(), b.subarray(0, NONCE_BYTES), b.subarray(NONCE_BYTES, NONCE_BYTES + KEY_BYTES), b.subarray(NONCE_BYTES + KEY_BYTES), aad(ownerId))
        : undefined;
    if (!key) throw new Error(`the data key of ${ownerId} could not be unsealed`);
    return SecretBytes.adopt(key);
  }

  #service(): Promise<Buffer> {
    this.#key ??= (async () => {
      const aadBytes = Buffer.from('strongroom ebs service key');
      let wrapped = await this.store.getServiceKey();
      if (!wrapped) wrapped = await this.store.putServiceKey(await this.root.wrap(SecretBytes.adopt(randomBytes(KEY_BYTES)), aadBytes));
      return (await this.root.unwrap(wrapped, aadBytes)).reveal();
    })().catch((err: unknown) => {
      this.#key = undefined;
      throw err;
    });
    return this.#key;
  }
}

function aad(ownerId: string): Buffer {
  return Buffer.from(`strongroom ebs data key\0${ownerId}`, 'utf8');
}

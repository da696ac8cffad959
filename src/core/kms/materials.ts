import { randomBytes } from 'node:crypto';
import { KEY_BYTES } from '../crypto/aes-gcm.js';
import { MATERIAL_ID_BYTES } from '../crypto/ciphertext.js';
import { KeyWrapper } from '../crypto/root-of-trust/root-of-trust.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { KmsErrors } from '../errors/kms.js';
import { AwsError } from '../errors/aws-error.js';
import { KeyRecord, MaterialRecord, MetadataStore, RotationType } from '../../store/metadata/types.js';
import { MaterialCache } from './material-cache.js';

function materialAad(keyArn: string, materialId: string): Buffer {
  return Buffer.from(`strongroom:kms-material:v1\0${keyArn}\0${materialId}`, 'utf8');
}

/** Key materials: made from randomBytes, stored only wrapped by the root of trust, cached unwrapped in memory. */
export class Materials {
  constructor(
    private readonly store: MetadataStore,
    private readonly root: KeyWrapper,
    private readonly cache: MaterialCache,
  ) {}

  /**
   * A new material for `keyArn`, wrapped and ready to store; the plaintext goes straight to the cache.
   * `generate` makes it as the key's spec says (key-specs/); a 256-bit symmetric key by default.
   */
  async create(
    keyId: string,
    keyArn: string,
    createdAt: number,
    rotationType: RotationType | null,
    generate: () => Promise<SecretBytes> = async () => SecretBytes.adopt(randomBytes(KEY_BYTES)),
  ): Promise<MaterialRecord> {
    const materialId = randomBytes(MATERIAL_ID_BYTES).toString('hex');
    const material = await generate();
    const wrapped = await this.root.wrap(material, materialAad(keyArn, materialId));
    this.cache.set(MaterialCache.key(keyId, materialId), material);
    return { keyId, materialId, wrapped, createdAt, rotationType };
  }

  /**
   * Imported key material, wrapped by the root of trust bound to the key and material id as every material is,
   * and cached unwrapped like them.
   */
  async seal(keyId: string, keyArn: string, materialId: string, material: SecretBytes): Promise<Buffer> {
    const wrapped = await this.root.wrap(material, materialAad(keyArn, materialId));
    this.cache.set(MaterialCache.key(keyId, materialId), material);
    return wrapped;
  }

  /** The key's current material; a key without it is damage (KMSInternalException), never a silent miss. */
  async current(key: KeyRecord): Promise<SecretBytes> {
    const material = await this.get(key, key.currentMaterialId);
    if (!material) throw new AwsError(KmsErrors.KMSInternalException, 'The current key material of the key is missing.');
    return material;
  }

  /** The unwrapped material, or undefined when this key has no such material (or it is no longer imported). */
  async get(key: KeyRecord, materialId: string): Promise<SecretBytes | undefined> {
    const ck = MaterialCache.key(key.keyId, materialId);
    const hit = this.cache.get(ck);
    if (hit) return hit;
    const rec = await this.store.getMaterial(key.keyId, materialId);
    // Imported material that was deleted or expired is kept as a record without its material.
    if (!rec || rec.imported?.importState === 'PENDING_IMPORT') return undefined;
    let material: SecretBytes;
    try {
      material = await this.root.unwrap(rec.wrapped, materialAad(key.arn, materialId));
    } catch {
      // A stored material that does not unwrap is damage at rest, not a client error.
      throw new AwsError(KmsErrors.KMSInternalException, 'The key material could not be unwrapped by the root of trust.');
    }
    this.cache.set(ck, material);
    return material;
  }

  forget(keyId: string): void {
    this.cache.dropKey(keyId);
  }

  forgetAll(): void {
    this.cache.clear();
  }
}

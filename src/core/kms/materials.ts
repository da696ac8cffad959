import { randomBytes } from 'node:crypto';
import { KEY_BYTES } from '../crypto/aes-gcm.js';
import { MATERIAL_ID_BYTES } from '../crypto/ciphertext.js';
import { KeyWrapper } from '../crypto/root-of-trust/root-of-trust.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { KmsErrors } from '../errors/kms.js';
import { AwsError } from '../errors/aws-error.js';
import { KeyRecord, MaterialRecord, MetadataStore, RotationType, keyRowId } from '../../store/metadata/types.js';
import { PARTITION } from '../identity/principal.js';
import { MaterialCache } from './material-cache.js';

/** What a material belongs to, as materials.ts binds it. */
export type MaterialOwner = Pick<KeyRecord, 'keyId' | 'region' | 'accountId' | 'arn' | 'multiRegion'>;

/**
 * The name a material is wrapped under: the key's ARN; for a multi-Region key, whose materials every related
 * key shares in every Region, the ARN without its Region (still its account and key id).
 */
function ownerName(key: MaterialOwner): string {
  return key.multiRegion ? `arn:${PARTITION}:kms::${key.accountId}:key/${key.keyId}` : key.arn;
}

function materialAad(key: MaterialOwner, materialId: string): Buffer {
  return Buffer.from(`strongroom:kms-material:v1\0${ownerName(key)}\0${materialId}`, 'utf8');
}

/** Key materials: made from randomBytes, stored only wrapped by the root of trust, cached unwrapped in memory. */
export class Materials {
  constructor(
    private readonly store: MetadataStore,
    private readonly root: KeyWrapper,
    private readonly cache: MaterialCache,
  ) {}

  /**
   * A new material for `key`, wrapped and ready to store; the plaintext goes straight to the cache.
   * `generate` makes it as the key's spec says (key-specs/); a 256-bit symmetric key by default.
   */
  async create(
    key: MaterialOwner,
    createdAt: number,
    rotationType: RotationType | null,
    generate: () => Promise<SecretBytes> = async () => SecretBytes.adopt(randomBytes(KEY_BYTES)),
  ): Promise<MaterialRecord> {
    const materialId = randomBytes(MATERIAL_ID_BYTES).toString('hex');
    const material = await generate();
    const wrapped = await this.root.wrap(material, materialAad(key, materialId));
    this.cache.set(MaterialCache.key(key.keyId, materialId), material);
    return { keyId: keyRowId(key), materialId, wrapped, createdAt, rotationType };
  }

  /**
   * Imported key material, wrapped by the root of trust bound to the key and material id as every material is,
   * and cached unwrapped like them.
   */
  async seal(key: MaterialOwner, materialId: string, material: SecretBytes): Promise<Buffer> {
    const wrapped = await this.root.wrap(material, materialAad(key, materialId));
    this.cache.set(MaterialCache.key(key.keyId, materialId), material);
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
    const rec = await this.store.getMaterial(keyRowId(key), materialId);
    // Imported material that was deleted or expired is kept as a record without its material.
    if (!rec || rec.imported?.importState === 'PENDING_IMPORT') return undefined;
    let material: SecretBytes;
    try {
      material = await this.root.unwrap(rec.wrapped, materialAad(key, materialId));
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

  /** `operator seal`: wipes and drops every unwrapped material of this process. */
  wipeAll(): void {
    this.cache.clear(true);
  }
}

import { createHmac, createPrivateKey, randomBytes } from 'node:crypto';
import { DAY_MS } from '../../clock.js';
import { SecretBytes } from '../../crypto/secret-bytes.js';
import { AwsError, needs } from '../../errors/aws-error.js';
import { CommonErrors } from '../../errors/common.js';
import { KmsErrors } from '../../errors/kms.js';
import { ExpirationModel, KeyRecord, MaterialRecord } from '../../../store/metadata/types.js';
import { KmsDeps } from '../context.js';
import { rulesOf } from '../key-specs/index.js';
import { needsNotPendingDeletion } from '../key-state.js';
import { openImportToken, sealImportToken } from './import-token.js';
import { importedKeyPatch, withoutMaterial } from './material-state.js';
import { checkWrapping, newWrappingKeyPair, unwrapKeyMaterial } from './wrapping.js';

/** "The import token and public key are valid for 24 hours" (GetParametersForImport). */
export const IMPORT_PARAMETERS_VALID_MS = DAY_MS;
/** ValidTo: "The maximum value is 365 days from the request date" (ImportKeyMaterial). */
export const MAX_VALID_TO_DAYS = 365;

export interface ImportInput {
  readonly importToken: Buffer;
  readonly encryptedKeyMaterial: Buffer;
  readonly expirationModel?: ExpirationModel | undefined;
  readonly validTo?: number | undefined;
  readonly importType?: 'NEW_KEY_MATERIAL' | 'EXISTING_KEY_MATERIAL' | undefined;
  readonly keyMaterialDescription?: string | undefined;
  readonly keyMaterialId?: string | undefined;
}

/** All materials of a key (an imported key has at most 26: the first and 25 rotations). */
export async function allMaterials(deps: KmsDeps, keyId: string): Promise<MaterialRecord[]> {
  const out: MaterialRecord[] = [];
  let after: string | undefined;
  do {
    const page = await deps.store.listMaterials(keyId, after, 100);
    out.push(...page.items);
    after = page.next;
  } while (after !== undefined);
  return out;
}

/** Only keys created with Origin EXTERNAL take imported material. */
export function needsExternal(key: KeyRecord): void {
  needs(
    key.origin === 'EXTERNAL',
    KmsErrors.UnsupportedOperationException,
    `${key.arn} origin is ${key.origin} which is not valid for this operation.`,
  );
}

function wrappingKeyAad(keyArn: string, tokenId: string): Buffer {
  return Buffer.from(`strongroom:kms-import-wrapping-key:v1\0${keyArn}\0${tokenId}`, 'utf8');
}

/**
 * The KeyMaterialId of imported material: "KMS assigns a unique identifier to the key material based on the
 * KMS key ID and the imported key material" (ImportKeyMaterial's KeyMaterialId), so importing the same
 * material again finds the same id. An HMAC keyed by the material itself: the id says nothing about it.
 */
export function importedMaterialId(keyId: string, material: Buffer): string {
  return createHmac('sha256', material).update(`strongroom:kms-imported-material-id:v1\0${keyId}`, 'utf8').digest('hex');
}

const invalidToken = () =>
  new AwsError(KmsErrors.InvalidImportTokenException, 'The import token is invalid or is not associated with the specified KMS key.');
const incorrectMaterial = (why: string) => new AwsError(KmsErrors.IncorrectKeyMaterialException, why);

/**
 * Imported key material (https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html):
 * GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial, and the expiry of imported material.
 * Everything lives in the store (wrapping keys wrapped by the root of trust, materials likewise), so any node
 * sharing the database completes an import another node's GetParametersForImport began.
 */
export class Imports {
  constructor(private readonly deps: KmsDeps) {}

  async parameters(key: KeyRecord, wrappingAlgorithm: string, wrappingKeySpec: string): Promise<{ importToken: Buffer; publicKey: Buffer; validTo: number }> {
    needsExternal(key);
    needsNotPendingDeletion(key);
    checkWrapping(wrappingAlgorithm, wrappingKeySpec);
    const pair = await newWrappingKeyPair(wrappingKeySpec);
    const tokenId = randomBytes(16).toString('hex');
    const now = this.deps.clock.now();
    const validTo = now + IMPORT_PARAMETERS_VALID_MS;
    const privateKeyWrapped = await this.deps.root.wrap(pair.privateKey, wrappingKeyAad(key.arn, tokenId));
    pair.privateKey.wipe();
    await this.deps.store.putImportParameters({ keyId: key.keyId, tokenId, wrappingAlgorithm, wrappingKeySpec, privateKeyWrapped, createdAt: now, validTo });
    const importToken = await sealImportToken(this.deps.root, key.arn, { tokenId, wrappingAlgorithm, wrappingKeySpec, validTo });
    return { importToken, publicKey: pair.publicKey, validTo };
  }

  async importMaterial(key: KeyRecord, input: ImportInput): Promise<{ materialId: string; key: KeyRecord }> {
    needsExternal(key);
    needsNotPendingDeletion(key);
    const symmetric = key.keySpec === 'SYMMETRIC_DEFAULT';
    needs(
      symmetric || (input.importType === undefined && input.keyMaterialDescription === undefined && input.keyMaterialId === undefined),
      CommonErrors.ValidationException,
      'ImportType, KeyMaterialDescription and KeyMaterialId are valid only for symmetric encryption KMS keys.',
    );
    const now = this.deps.clock.now();
    const expirationModel = input.expirationModel ?? 'KEY_MATERIAL_EXPIRES';
    const validTo = this.#checkExpiration(expirationModel, input.validTo, now);

    // The token first: it must be this server's, for this key, of the key's latest parameters, and in time.
    const token = await openImportToken(this.deps.root, key.arn, input.importToken);
    if (!token) throw invalidToken();
    const params = await this.deps.store.getImportParameters(key.keyId);
    if (!params || params.tokenId !== token.tokenId) throw invalidToken();
    needs(now < token.validTo, KmsErrors.ExpiredImportTokenException, 'The import token has expired. Use GetParametersForImport to get a new one.');

    let wrappingKey: SecretBytes;
    try {
      wrappingKey = await this.deps.root.unwrap(params.privateKeyWrapped, wrappingKeyAad(key.arn, params.tokenId));
    } catch {
      throw new AwsError(KmsErrors.KMSInternalException, 'The wrapping key could not be unwrapped by the root of trust.');
    }
    const privateKey = createPrivateKey({ key: wrappingKey.reveal(), format: 'der', type: 'pkcs8' });
    wrappingKey.wipe();
    const raw = unwrapKeyMaterial(privateKey, params.wrappingAlgorithm, input.encryptedKeyMaterial);
    const normalized = rulesOf(key).importable?.(raw.reveal());
    // The spec may hand back the very buffer it was given (secret-key specs): only a copy is wiped.
    if (normalized !== raw.reveal()) raw.wipe();
    if (!normalized) throw incorrectMaterial(`The key material is not valid key material for a KMS key with key spec ${key.keySpec}.`);
    const material = SecretBytes.adopt(normalized);
    const materialId = importedMaterialId(key.keyId, normalized);

    const materials = await allMaterials(this.deps, key.keyId);
    const existing = materials.find((m) => m.materialId === materialId);
    const importType = input.importType ?? (materials.length === 0 ? 'NEW_KEY_MATERIAL' : 'EXISTING_KEY_MATERIAL');
    let record: MaterialRecord;
    if (importType === 'NEW_KEY_MATERIAL') {
      needs(input.keyMaterialId === undefined, CommonErrors.ValidationException, 'You cannot specify a KeyMaterialId with ImportType NEW_KEY_MATERIAL.');
      if (existing) throw incorrectMaterial('The key material is already associated with this KMS key. Use ImportType EXISTING_KEY_MATERIAL to reimport it.');
      const pending = materials.find((m) => m.imported?.pendingRotation);
      needs(
        pending === undefined,
        KmsErrors.KMSInvalidStateException,
        `${key.arn} already has key material ${pending?.materialId} pending rotation. Rotate the key or delete that key material first.`,
      );
      record = {
        keyId: key.keyId,
        materialId,
        wrapped: Buffer.alloc(0),
        createdAt: now,
        rotationType: null,
        // The first material is current at once; a later one waits for RotateKeyOnDemand.
        imported: { importState: 'IMPORTED', pendingRotation: materials.length > 0, expirationModel, validTo, description: input.keyMaterialDescription ?? '' },
      };
    } else {
      if (input.keyMaterialId !== undefined && input.keyMaterialId !== materialId) {
        throw incorrectMaterial('The key material does not match the specified KeyMaterialId.');
      }
      if (!existing) {
        throw incorrectMaterial(
          materials.length === 0
            ? 'No key material has been imported into this KMS key yet. Use ImportType NEW_KEY_MATERIAL.'
            : 'The key material is not the same key material that was previously imported into this KMS key.',
        );
      }
      record = {
        ...existing,
        imported: {
          importState: 'IMPORTED',
          pendingRotation: existing.imported?.pendingRotation ?? false,
          expirationModel,
          validTo,
          description: input.keyMaterialDescription ?? existing.imported?.description ?? '',
        },
      };
    }
    record = { ...record, wrapped: await this.deps.materials.seal(key, materialId, material) };
    const after = materials.filter((m) => m.materialId !== materialId).concat(record);
    const updated = await this.deps.store.putMaterials(key.keyId, [record], [], importedKeyPatch(key, after));
    return { materialId, key: updated };
  }

  /**
   * DeleteImportedKeyMaterial: the current material unless `materialId` names another. Material pending
   * rotation is not permanently associated with the key, so it goes entirely; any other keeps its record
   * (ImportState PENDING_IMPORT) without the material, and the key waits for it (PendingImport).
   */
  async deleteMaterial(key: KeyRecord, materialId: string | undefined): Promise<string> {
    needsExternal(key);
    const materials = await allMaterials(this.deps, key.keyId);
    const id = materialId ?? key.currentMaterialId;
    const target = materials.find((m) => m.materialId === id);
    if (!target) {
      throw materialId === undefined
        ? new AwsError(KmsErrors.KMSInvalidStateException, `${key.arn} has no imported key material.`)
        : new AwsError(KmsErrors.NotFoundException, `Key material ${materialId} is not associated with ${key.arn}.`);
    }
    await this.#remove(key, materials, [target]);
    return target.materialId;
  }

  /**
   * Deletes every imported material whose ValidTo has passed: "When the key material expires, KMS deletes the
   * key material from the KMS key." Called by the lifecycle under its transition claim (one node does it).
   */
  async expire(key: KeyRecord, before: (materialIds: readonly string[]) => Promise<void> = async () => {}): Promise<KeyRecord> {
    const now = this.deps.clock.now();
    const materials = await allMaterials(this.deps, key.keyId);
    const due = materials.filter((m) => m.imported?.importState === 'IMPORTED' && m.imported.validTo !== null && m.imported.validTo <= now);
    await before(due.map((m) => m.materialId));
    return this.#remove(key, materials, due);
  }

  async #remove(key: KeyRecord, materials: readonly MaterialRecord[], targets: readonly MaterialRecord[]): Promise<KeyRecord> {
    const ids = new Set(targets.map((t) => t.materialId));
    const drop = targets.filter((t) => t.imported?.pendingRotation).map((t) => t.materialId);
    const keep = targets.filter((t) => !t.imported?.pendingRotation).map(withoutMaterial);
    const after = materials.filter((m) => !ids.has(m.materialId)).concat(keep);
    const updated = await this.deps.store.putMaterials(key.keyId, keep, drop, importedKeyPatch(key, after));
    this.deps.materials.forget(key.keyId);
    return updated;
  }

  /**
   * RotateKeyOnDemand of a key with imported material: the material imported with NEW_KEY_MATERIAL
   * (PENDING_ROTATION) becomes current; "you must have already imported new key material and that key
   * material's state should be PENDING_ROTATION".
   */
  async rotate(key: KeyRecord, now: number): Promise<KeyRecord> {
    const materials = await allMaterials(this.deps, key.keyId);
    const pending = this.#pending(key, materials);
    const rotated: MaterialRecord = { ...pending, createdAt: now, rotationType: 'ON_DEMAND', imported: { ...pending.imported!, pendingRotation: false } };
    const after = materials.filter((m) => m.materialId !== pending.materialId).concat(rotated);
    return this.deps.store.putMaterials(key.keyId, [rotated], [], importedKeyPatch(key, after, rotated.materialId));
  }

  /** Checks that the key has material waiting for RotateKeyOnDemand (before the rotation is recorded). */
  async pendingRotation(key: KeyRecord): Promise<void> {
    this.#pending(key, await allMaterials(this.deps, key.keyId));
  }

  #pending(key: KeyRecord, materials: readonly MaterialRecord[]): MaterialRecord {
    const pending = materials.find((m) => m.imported?.pendingRotation);
    if (!pending || pending.imported!.importState !== 'IMPORTED') {
      throw new AwsError(
        KmsErrors.KMSInvalidStateException,
        `${key.arn} has no imported key material in PENDING_ROTATION state. Import new key material with ImportType NEW_KEY_MATERIAL first.`,
      );
    }
    return pending;
  }

  #checkExpiration(model: ExpirationModel, validTo: number | undefined, now: number): number | null {
    if (model === 'KEY_MATERIAL_DOES_NOT_EXPIRE') {
      needs(validTo === undefined, CommonErrors.ValidationException, 'ValidTo is not valid when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE.');
      return null;
    }
    needs(validTo !== undefined, CommonErrors.ValidationException, 'A ValidTo date is required when ExpirationModel is KEY_MATERIAL_EXPIRES.');
    needs(validTo > now, CommonErrors.ValidationException, 'ValidTo must be a date and time in the future.');
    needs(
      validTo <= now + MAX_VALID_TO_DAYS * DAY_MS,
      CommonErrors.ValidationException,
      `ValidTo must be at most ${MAX_VALID_TO_DAYS} days from the request date.`,
    );
    return validTo;
  }
}

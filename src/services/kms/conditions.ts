import { EncryptionContext } from '../../core/crypto/encryption-context.js';
import { ContextValue } from '../../core/policy/index.js';
import { KeyRecord, MetadataStore, keyRowId } from '../../store/metadata/types.js';
import { KmsAccess } from './call.js';
import { multiRegionKeyType } from '../../core/kms/keys.js';

type Conditions = Record<string, ContextValue>;

/**
 * KMS's own condition keys of a key and a request (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html);
 * the request's global keys and kms:CallerAccount / kms:ViaService come from services/request-conditions.ts.
 */

/**
 * What the key is: kms:KeySpec, kms:KeyUsage, kms:KeyOrigin, kms:MultiRegion and (of a multi-Region key)
 * kms:MultiRegionKeyType, from its record.
 */
export function keyConditions(key: KeyRecord): Conditions {
  // Literal objects, not a spread: this runs for every access of every KMS call (see kmsConditions).
  const type = multiRegionKeyType(key);
  return type === undefined
    ? { 'kms:KeySpec': key.keySpec, 'kms:KeyUsage': key.keyUsage, 'kms:KeyOrigin': key.origin, 'kms:MultiRegion': 'false' }
    : { 'kms:KeySpec': key.keySpec, 'kms:KeyUsage': key.keyUsage, 'kms:KeyOrigin': key.origin, 'kms:MultiRegion': 'true', 'kms:MultiRegionKeyType': type };
}

const SINGLE_REGION: Conditions = { 'kms:MultiRegion': 'false' };
const PRIMARY: Conditions = { 'kms:MultiRegion': 'true', 'kms:MultiRegionKeyType': 'PRIMARY' };
const REPLICA: Conditions = { 'kms:MultiRegion': 'true', 'kms:MultiRegionKeyType': 'REPLICA' };

/**
 * kms:MultiRegion (Bool) and kms:MultiRegionKeyType (PRIMARY or REPLICA, only for multi-Region keys) of a key
 * or of the key CreateKey/ReplicateKey would make
 * (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-multiregion-key-type).
 */
export function multiRegionConditions(type: 'PRIMARY' | 'REPLICA' | undefined): Conditions {
  return type === 'PRIMARY' ? PRIMARY : type === 'REPLICA' ? REPLICA : SINGLE_REGION;
}

/** kms:EncryptionContext:<key> for each pair and kms:EncryptionContextKeys (absent when there is no context). */
export function encryptionContextConditions(context: EncryptionContext | undefined): Conditions {
  if (context === undefined) return {};
  const out: Conditions = Object.create(null) as Conditions;
  const keys = Object.keys(context);
  for (const k of keys) out[`kms:EncryptionContext:${k}`] = context[k];
  if (keys.length > 0) out['kms:EncryptionContextKeys'] = keys;
  return out;
}

/** kms:RequestAlias: the alias the request named the key by (alias name, or the name in an alias ARN). */
export function requestAliasCondition(keyRef: string | undefined): Conditions {
  if (keyRef === undefined) return {};
  const m = /^(?:arn:[^:]+:kms:[^:]*:\d{12}:)?(alias\/.+)$/.exec(keyRef);
  return m ? { 'kms:RequestAlias': m[1] } : {};
}

/** aws:ResourceTag/<key> for each tag of the key and kms:ResourceAliases (its alias names). */
export async function keyResourceConditions(store: MetadataStore, key: KeyRecord): Promise<Conditions> {
  const out: Conditions = Object.create(null) as Conditions;
  for (const t of (await store.listTags(keyRowId(key), undefined, 50)).items) out[`aws:ResourceTag/${t.TagKey}`] = t.TagValue;
  const aliases = (await store.listAliases(key.accountId, key.region, key.keyId, undefined, 100)).items.map((a) => a.aliasName);
  if (aliases.length > 0) out['kms:ResourceAliases'] = aliases;
  return out;
}

/**
 * Operations that encrypt or decrypt with the key: kms:EncryptionAlgorithm applies, SYMMETRIC_DEFAULT unless
 * the operation names another (Encrypt and Decrypt with an asymmetric key pass the request's).
 */
const CRYPTO_ACTIONS = new Set([
  'kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext',
  'kms:GenerateDataKeyPair', 'kms:GenerateDataKeyPairWithoutPlaintext',
]);
const SYMMETRIC: Conditions = { 'kms:EncryptionAlgorithm': 'SYMMETRIC_DEFAULT' };

/** kms:EncryptionAlgorithm for cryptographic operations (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-algorithm). */
export function encryptionAlgorithmCondition(action: string): Conditions {
  return CRYPTO_ACTIONS.has(action) ? SYMMETRIC : {};
}

/**
 * Every condition key of one KMS access: the request's (`base`), the key's, the encryption context's, the
 * operation's — later ones replacing earlier ones of the same name, as spreading them in that order would.
 * Copied key by key into one object: an object spread followed by more members is a slow path of V8 11 (Node
 * 20), ~1.5 µs each on the bench machine, and this runs for every access of every KMS call.
 */
export function kmsConditions(base: Conditions, a: Pick<KmsAccess, 'action' | 'key' | 'encryptionContext' | 'conditions'>): Conditions {
  const out: Conditions = {};
  copyInto(out, base);
  if (a.key) copyInto(out, keyConditions(a.key));
  if (a.encryptionContext !== undefined) {
    const keys = Object.keys(a.encryptionContext);
    for (const k of keys) out[`kms:EncryptionContext:${k}`] = a.encryptionContext[k];
    if (keys.length > 0) out['kms:EncryptionContextKeys'] = keys;
  }
  if (CRYPTO_ACTIONS.has(a.action)) copyInto(out, SYMMETRIC);
  copyInto(out, a.conditions);
  return out;
}

/** `Object.assign` that defines an own `__proto__` member (as a spread does) instead of setting the prototype. */
function copyInto(out: Conditions, from: Readonly<Conditions> | undefined): void {
  if (from === undefined) return;
  for (const k of Object.keys(from)) {
    if (k === '__proto__') Object.defineProperty(out, k, { value: from[k], enumerable: true, writable: true, configurable: true });
    else out[k] = from[k];
  }
}

import { Kms } from '../../core/kms/kms.js';
import { KmsScope } from '../../core/kms/context.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { EncryptionContext } from '../../core/crypto/encryption-context.js';
import { KmsAccessControl } from '../../core/kms/access-control.js';
import { ContextValue } from '../../core/policy/index.js';
import { GrantQuery } from '../../core/policy/sources.js';
import { Operation, RequestContext, ResourceAccess } from '../operation.js';
import { requestAliasCondition } from './conditions.js';

/** What a KMS operation handler gets: the domain, its access control, the caller's scope and the request. */
export interface KmsCall {
  readonly kms: Kms;
  readonly access: KmsAccessControl;
  readonly scope: KmsScope;
  readonly request: RequestContext;
}

/** A KMS authorization question: the key (whose policy decides) and what the request says about it. */
export interface KmsAccess extends ResourceAccess {
  readonly key?: KeyRecord;
  /** The encryption context this access is for (kms:EncryptionContext:* and grant constraints). */
  readonly encryptionContext?: EncryptionContext;
  /** Further condition keys (kms:RequestAlias, kms:GrantOperations, …). */
  readonly conditions?: Readonly<Record<string, ContextValue>>;
  /** For CreateGrant: the grant it would create (a grant used for CreateGrant must bound it). */
  readonly createGrant?: GrantQuery['createGrant'];
}

/**
 * A row of the KMS operation table. `crossAccount` is AWS's "Cross-account use" of the operation's API reference
 * page: true only for the operations that act on another account's key when its key policy allows (Encrypt,
 * Decrypt, Sign, DescribeKey, CreateGrant, …). Absent means No — a key ARN of another account is refused
 * before any lookup (foreign-keys.ts), so a new operation is same-account unless it says otherwise.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
 */
export interface KmsOperation extends Operation<KmsCall, any, any, KmsAccess> {
  readonly crossAccount?: boolean;
}

/** defineOperation for KMS, with the operation's `crossAccount` (see KmsOperation). */
export function defineKmsOperation<I, S>(op: Operation<KmsCall, I, S, KmsAccess> & { readonly crossAccount?: boolean }): typeof op {
  return op;
}

export function onKey(
  key: KeyRecord,
  action: string,
  extra: { encryptionContext?: EncryptionContext | undefined; keyRef?: string | undefined; conditions?: Record<string, ContextValue> } = {},
): KmsAccess {
  return {
    action,
    resource: key.arn,
    ownerAccountId: key.accountId,
    key,
    ...(extra.encryptionContext !== undefined ? { encryptionContext: extra.encryptionContext } : {}),
    // Object.assign, not two spreads (a slow path of V8 11, see conditions.ts#kmsConditions); the keys are
    // kms:RequestAlias and the operation's own kms:* keys, never `__proto__`.
    conditions: Object.assign(requestAliasCondition(extra.keyRef), extra.conditions),
  };
}

export function onAccount(action: string): KmsAccess {
  return { action, resource: '*' };
}

/**
 * The common case: an operation on the one key its `KeyId` names. `aliases` says whether AWS accepts
 * alias names and alias ARNs for this operation (its API reference says "key ID or key ARN" when not).
 */
export function keyOperation<I extends { KeyId: string; EncryptionContext?: EncryptionContext }>(spec: {
  name: string;
  action: string;
  readOnly: boolean;
  aliases: boolean;
  /** AWS's "Cross-account use: Yes" (see KmsOperation); absent: No. */
  crossAccount?: boolean;
  /** The operation's own condition keys from its request (kms:SigningAlgorithm, kms:EncryptionAlgorithm, …). */
  conditions?: (input: I) => Record<string, ContextValue>;
  handle: (input: I, call: KmsCall, key: KeyRecord) => Promise<Record<string, unknown>>;
}): KmsOperation {
  return defineKmsOperation<I, KeyRecord>({
    name: spec.name,
    action: spec.action,
    readOnly: spec.readOnly,
    ...(spec.crossAccount ? { crossAccount: true } : {}),
    resolve: async (input, call) => {
      const key = await call.kms.resolver.resolve(call.scope, input.KeyId, { aliases: spec.aliases });
      const conditions = spec.conditions?.(input);
      return {
        access: [onKey(key, spec.action, { encryptionContext: input.EncryptionContext, keyRef: input.KeyId, ...(conditions ? { conditions } : {}) })],
        state: key,
      };
    },
    handle: spec.handle,
  });
}

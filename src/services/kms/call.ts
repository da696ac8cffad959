import { Kms } from '../../core/kms/kms.js';
import { KmsScope } from '../../core/kms/context.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { Operation, RequestContext, ResourceAccess, defineOperation } from '../operation.js';

/** What a KMS operation handler gets: the domain, the caller's scope and the request. */
export interface KmsCall {
  readonly kms: Kms;
  readonly scope: KmsScope;
  readonly request: RequestContext;
}

export type KmsOperation = Operation<KmsCall>;

export function onKey(key: KeyRecord, action: string): ResourceAccess {
  return { action, resource: key.arn, ownerAccountId: key.accountId };
}

export function onAccount(action: string): ResourceAccess {
  return { action, resource: '*' };
}

/**
 * The common case: an operation on the one key its `KeyId` names. `aliases` says whether AWS accepts
 * alias names and alias ARNs for this operation (its API reference says "key ID or key ARN" when not).
 */
export function keyOperation<I extends { KeyId: string }>(spec: {
  name: string;
  action: string;
  readOnly: boolean;
  aliases: boolean;
  handle: (input: I, call: KmsCall, key: KeyRecord) => Promise<Record<string, unknown>>;
}): KmsOperation {
  return defineOperation<KmsCall, I, KeyRecord>({
    name: spec.name,
    action: spec.action,
    readOnly: spec.readOnly,
    resolve: async (input, call) => {
      const key = await call.kms.resolver.resolve(call.scope, input.KeyId, { aliases: spec.aliases });
      return { access: [onKey(key, spec.action)], state: key };
    },
    handle: spec.handle,
  });
}

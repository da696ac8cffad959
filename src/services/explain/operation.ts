import { AwsError } from '../../core/errors/aws-error.js';
import { CommonErrors } from '../../core/errors/common.js';
import { EncryptionContext } from '../../core/crypto/encryption-context.js';
import { Principal } from '../../core/identity/principal.js';
import { KmsAccessControl } from '../../core/kms/access-control.js';
import { explainKmsAccess, principalFromArn } from '../../core/kms/explain.js';
import { Kms } from '../../core/kms/kms.js';
import { ForeignKeyNotFound } from '../../core/kms/resolver.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { KmsAccess, onKey } from '../kms/call.js';
import { kmsConditions } from '../kms/conditions.js';
import { foreignKeyDenial } from '../kms/foreign-keys.js';
import { Operation, RequestContext, defineOperation } from '../operation.js';
import { SuppliedFacts, explainConditions, howToSupply } from './facts.js';

/** What the Explain operation works with: the caller's request, KMS (to find the key) and KMS's access control. */
export interface ExplainCall {
  readonly request: RequestContext;
  readonly kms: Kms;
  readonly access: KmsAccessControl;
  readonly now: () => number;
}

export interface ExplainInput extends SuppliedFacts {
  readonly principal: string;
  readonly action: string;
  readonly key: string;
  readonly context?: EncryptionContext;
}

/**
 * What reading an explanation needs — the rights AWS asks for to read what it shows:
 * - kms:GetKeyPolicy on the key (the answer carries the key policy), decided exactly as GetKeyPolicy is;
 * - kms:ListGrants on the key (the answer says whether a grant allows);
 * - iam:SimulatePrincipalPolicy on the subject's IAM user or role, the action of AWS's own "what would this
 *   principal's policies decide" (the answer names the subject's policies and statements). Not asked for an
 *   account root subject, which has no identity-based policies.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
 */
export const EXPLAIN_ACTIONS = ['kms:GetKeyPolicy', 'kms:ListGrants', 'iam:SimulatePrincipalPolicy'] as const;

export const Explain: Operation<ExplainCall, ExplainInput, { key: KeyRecord; subject: Principal }, KmsAccess> = defineOperation({
  name: 'Explain',
  action: 'kms:GetKeyPolicy',
  readOnly: true,
  resolve: async (input: ExplainInput, call: ExplainCall) => {
    const subject = principalFromArn(input.principal);
    const key = await findKey(call, input.key);
    const access: KmsAccess[] = [onKey(key, 'kms:GetKeyPolicy'), onKey(key, 'kms:ListGrants')];
    const entity = subject.type === 'Root' ? undefined : (subject.roleArn ?? subject.arn);
    // No ownerAccountId: the subject is named, not reached — explaining an ARN of another account (which IAM
    // refuses, as AWS does) must not file a record in that account, which may not even exist; the key's owner
    // gets its copy through onKey.
    if (entity !== undefined) access.push({ action: 'iam:SimulatePrincipalPolicy', resource: entity });
    return { access, state: { key, subject } };
  },
  handle: async (input, call, { key, subject }) => {
    const { conditions, unknownKeys } = explainConditions(subject, key.region, input, call.now());
    const explanation = await explainKmsAccess(call.access, {
      principal: subject,
      action: input.action,
      key,
      conditions: kmsConditions(conditions, { action: input.action, key, encryptionContext: input.context }),
      unknownKeys,
      ...(input.context ? { encryptionContext: input.context } : {}),
    });
    // Which body field supplies each key the answer depends on.
    const notSupplied = Object.fromEntries(
      [...new Set(explanation.dependsOn?.flatMap((d) => d.keys) ?? [])].map((k) => [k, howToSupply(k)?.field ?? null]),
    );
    return { ...explanation, ...(Object.keys(notSupplied).length > 0 ? { notSupplied } : {}) } as unknown as Record<string, unknown>;
  },
});

/**
 * The key as GetKeyPolicy finds it: a key of the caller's own account only (GetKeyPolicy is "Cross-account use:
 * No", services/kms/foreign-keys.ts) — another account's key ARN or alias ARN is refused whatever that key's
 * policy says, and alike whether or not it exists, so the answer does not tell.
 */
async function findKey(call: ExplainCall, ref: string): Promise<KeyRecord> {
  const scope = { accountId: call.request.principal.accountId, region: call.request.region, ownAccountOnly: true };
  try {
    return await call.kms.resolver.resolve(scope, ref, { aliases: true });
  } catch (err) {
    if (err instanceof ForeignKeyNotFound) throw new AwsError(CommonErrors.AccessDeniedException, foreignKeyDenial(call.request.principal.arn, 'kms:GetKeyPolicy', err.keyArn));
    throw err;
  }
}

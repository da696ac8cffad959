import { EncryptionContext } from '../crypto/encryption-context.js';
import { AwsError } from '../errors/aws-error.js';
import { CommonErrors } from '../errors/common.js';
import { KmsErrors } from '../errors/kms.js';
import { Principal } from '../identity/principal.js';
import { ContextValue, StatementRef } from '../policy/index.js';
import { KeyRecord, MetadataStore } from '../../store/metadata/types.js';
import { KmsAccessControl } from './access-control.js';
import { keyArn, parseKmsArn } from './arn.js';

/**
 * "Why was I denied?" — the decision KMS would make for a principal, an action and a key, with the
 * statements that made it. No AWS tool answers this; `strongroom explain` and POST /_strongroom/explain do.
 * Read-only: the key is looked up as it is stored, nothing is rotated or deleted on the way.
 */
export interface ExplainQuery {
  readonly principal: Principal;
  readonly action: string;
  readonly key: KeyRecord;
  readonly encryptionContext?: EncryptionContext;
  /** The request's condition keys, as the KMS service builds them (services/kms/conditions.ts#kmsConditions). */
  readonly conditions: Readonly<Record<string, ContextValue>>;
}

export interface Explanation {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly decision: 'Allow' | 'Deny' | 'ImplicitDeny';
  readonly basis?: string;
  readonly reason?: string;
  readonly statements: readonly StatementRef[];
  /** The key policy, so the statement indexes can be read against it. */
  readonly keyPolicy: unknown;
}

const PRINCIPAL_ARN =
  /^arn:aws:(iam|sts)::(\d{12}):(root|user\/(?:[^/]+\/)*([^/]+)|assumed-role\/([^/]+)\/([^/]+)|role\/((?:[^/]+\/)*)([^/]+))$/;

/**
 * The principal an ARN names: the account root, an IAM user, a role session
 * (arn:aws:sts::…:assumed-role/Role/session — the role at path /), or a role ARN (any session of it).
 */
export function principalFromArn(arn: string): Principal {
  const m = PRINCIPAL_ARN.exec(arn);
  if (!m) throw new AwsError(CommonErrors.ValidationException, `Not a principal ARN this server knows: ${arn.slice(0, 200)}`);
  const accountId = m[2]!;
  const base = { accountId, principalId: '', accessKeyId: '' };
  if (m[3] === 'root') return { ...base, type: 'Root', arn, principalId: accountId };
  if (m[4] !== undefined) return { ...base, type: 'IAMUser', arn, userName: m[4] };
  if (m[5] !== undefined) {
    return { ...base, type: 'AssumedRole', arn, roleArn: `arn:aws:iam::${accountId}:role/${m[5]}`, sessionName: m[6]! };
  }
  const roleArn = `arn:aws:iam::${accountId}:role/${m[7] ?? ''}${m[8]!}`;
  return { ...base, type: 'AssumedRole', arn: `arn:aws:sts::${accountId}:assumed-role/${m[8]!}/explain`, roleArn, sessionName: 'explain' };
}

export async function explainKmsAccess(access: KmsAccessControl, q: ExplainQuery): Promise<Explanation> {
  const { principal, key } = q;
  const result = await access.decide({
    principal,
    action: q.action,
    resource: key.arn,
    key,
    conditions: q.conditions,
    ...(q.encryptionContext ? { encryptionContext: q.encryptionContext } : {}),
  });
  return {
    principal: principal.arn,
    action: q.action,
    resource: key.arn,
    decision: result.decision,
    ...(result.basis ? { basis: result.basis } : {}),
    ...(result.reason ? { reason: result.reason } : {}),
    statements: result.matched,
    keyPolicy: JSON.parse(key.policy) as unknown,
  };
}

/** The key a reference names, read straight from the store (the CLI's offline path: it has the data dir). */
export async function findKey(store: MetadataStore, ref: string, accountId: string, region: string): Promise<KeyRecord> {
  const notFound = () => new AwsError(KmsErrors.NotFoundException, `Key '${ref}' does not exist`);
  const arn = ref.startsWith('arn:') ? parseKmsArn(ref) : undefined;
  if (ref.startsWith('arn:') && !arn) throw notFound();
  const account = arn?.accountId ?? accountId;
  const where = arn?.region ?? region;
  const aliasName = arn?.resourceType === 'alias' ? arn.resource : ref.startsWith('alias/') ? ref : undefined;
  const keyId = aliasName ? (await store.getAlias(account, where, aliasName))?.targetKeyId : (arn?.resource ?? ref);
  const key = keyId === undefined ? undefined : await store.getKey(keyId);
  if (!key || key.arn !== keyArn(where, account, key.keyId)) throw notFound();
  return key;
}

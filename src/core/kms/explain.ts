import { EncryptionContext } from '../crypto/encryption-context.js';
import { AwsError } from '../errors/aws-error.js';
import { CommonErrors } from '../errors/common.js';
import { KmsErrors } from '../errors/kms.js';
import { Principal } from '../identity/principal.js';
import { ContextValue, StatementRef, UnknownKeys } from '../policy/index.js';
import { KeyRecord, MetadataStore, keyRowId } from '../../store/metadata/types.js';
import { KmsAccessControl, KmsAccessResult } from './access-control.js';
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
  /**
   * Condition keys the asker did not supply (no --source-ip: aws:SourceIp). A condition on one is not
   * guessed: when the decision depends on it the answer is Undetermined, naming the statements and keys.
   */
  readonly unknownKeys?: readonly string[];
}

/** A statement whose applying depends on condition keys that were not supplied. */
export interface DependentStatement extends Omit<StatementRef, 'assumed' | 'via'> {
  readonly keys: readonly string[];
}

export interface Explanation {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly decision: 'Allow' | 'Deny' | 'ImplicitDeny' | 'Undetermined';
  readonly basis?: string;
  readonly reason?: string;
  /** The statements that apply whatever the unsupplied keys' values. */
  readonly statements: readonly StatementRef[];
  /** Statements that apply or not depending on unsupplied keys (whether or not that changes the decision). */
  readonly dependsOn?: readonly DependentStatement[];
  /** For Undetermined: the decisions the unsupplied values could lead to. */
  readonly possibleDecisions?: readonly ('Allow' | 'Deny' | 'ImplicitDeny')[];
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
  const ask = (unknown?: UnknownKeys) =>
    access.decide({
      principal,
      action: q.action,
      resource: key.arn,
      key,
      conditions: q.conditions,
      ...(q.encryptionContext ? { encryptionContext: q.encryptionContext } : {}),
      ...(unknown ? { unknown } : {}),
    });
  const common = { principal: principal.arn, action: q.action, resource: key.arn, keyPolicy: JSON.parse(key.policy) as unknown };
  const unknownKeys = new Set((q.unknownKeys ?? []).map((k) => k.toLowerCase()));
  if (unknownKeys.size === 0) {
    const result = await ask();
    return { ...common, ...decisionOf(result), statements: result.matched };
  }
  // The most and the least permissive answers the unknown values could give: when they agree, so does
  // every value in between; when not, the answer is Undetermined.
  const permissive = await ask({ keys: unknownKeys, assume: 'allow' });
  const restrictive = await ask({ keys: unknownKeys, assume: 'deny' });
  const id = (m: StatementRef) => `${m.policy}#${m.index}`;
  const inBoth = new Set(permissive.matched.filter((m) => m.assumed === undefined).map(id));
  const dependsOn: DependentStatement[] = [...permissive.matched, ...restrictive.matched]
    .filter((m) => m.assumed !== undefined)
    .map(({ assumed, via: _via, ...ref }) => ({ ...ref, keys: [...new Set(assumed)] }));
  const statements = restrictive.matched.filter((m) => m.assumed === undefined && inBoth.has(id(m)));
  if (permissive.decision === restrictive.decision && permissive.basis === restrictive.basis) {
    return { ...common, ...decisionOf(restrictive), statements, dependsOn };
  }
  return { ...common, decision: 'Undetermined', statements, dependsOn, possibleDecisions: [...new Set([permissive.decision, restrictive.decision])] };
}

function decisionOf(result: KmsAccessResult): Pick<Explanation, 'decision' | 'basis' | 'reason'> {
  return { decision: result.decision, ...(result.basis ? { basis: result.basis } : {}), ...(result.reason ? { reason: result.reason } : {}) };
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
  const key = keyId === undefined ? undefined : await store.getKey(keyRowId({ keyId, region: where }));
  if (!key || key.arn !== keyArn(where, account, key.keyId)) throw notFound();
  return key;
}

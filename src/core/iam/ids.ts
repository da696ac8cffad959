import { randomBytes } from 'node:crypto';
import { PARTITION } from '../identity/principal.js';

/**
 * IAM unique ids and ARNs, as AWS forms them.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
 */
export type UniqueIdPrefix = 'AIDA' | 'AGPA' | 'AROA' | 'ANPA';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A user (AIDA…), group (AGPA…), role (AROA…) or managed policy (ANPA…) id: the prefix and 17 characters. */
export function newUniqueId(prefix: UniqueIdPrefix): string {
  return prefix + [...randomBytes(17)].map((b) => ALPHABET[b % 32]).join('');
}

/** arn:aws:iam::111122223333:user/division/alice for kind "user", path "/division/", name "alice". */
export function iamArn(accountId: string, kind: 'user' | 'group' | 'role' | 'policy', path: string, name: string): string {
  return `arn:${PARTITION}:iam::${accountId}:${kind}${path}${name}`;
}

/** The ARN of a role session: arn:aws:sts::111122223333:assumed-role/Admin/alice (the role's path is not part of it). */
export function assumedRoleArn(accountId: string, roleName: string, sessionName: string): string {
  return `arn:${PARTITION}:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
}

/** The account and name a role ARN names (arn:aws:iam::111122223333:role/path/Name), or undefined. */
export function parseRoleArn(arn: string): { accountId: string; roleName: string } | undefined {
  const m = /^arn:[a-z-]+:iam::(\d{12}):role\/(?:[\u0021-\u007E]*\/)?([\w+=,.@-]{1,64})$/.exec(arn);
  return m ? { accountId: m[1]!, roleName: m[2]! } : undefined;
}

/** The account and name a customer managed policy ARN names, or undefined (AWS managed policies have account "aws"). */
export function parsePolicyArn(arn: string): { accountId: string; policyName: string } | undefined {
  const m = /^arn:[a-z-]+:iam::(\d{12}|aws):policy\/(?:[\u0021-\u007E]*\/)?([\w+=,.@-]{1,128})$/.exec(arn);
  return m ? { accountId: m[1]!, policyName: m[2]! } : undefined;
}

import { EncryptionContext } from '../crypto/encryption-context.js';
import { GrantConstraintsRecord } from '../../store/metadata/grant-types.js';

/**
 * Grant constraints against a request's encryption context.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GrantConstraints.html
 * - EncryptionContextEquals: the request's context is exactly the constraint's pairs (any order).
 * - EncryptionContextSubset: the request's context includes every pair of the constraint, and may have more.
 * "In a grant constraint, the key in each key-value pair is not case sensitive, but the value is case
 * sensitive." An absent request context is the empty one.
 */
export function constraintsHold(constraints: GrantConstraintsRecord, context: EncryptionContext | undefined): boolean {
  const request = context ?? {};
  if (constraints.encryptionContextEquals !== undefined) {
    const wanted = constraints.encryptionContextEquals;
    return includesPairs(request, wanted) && includesPairs(wanted, request);
  }
  if (constraints.encryptionContextSubset !== undefined) return includesPairs(request, constraints.encryptionContextSubset);
  return true;
}

/**
 * Whether a grant created through a parent grant's CreateGrant permission is "equally restrictive or more
 * restrictive": no constraint on the parent allows any; a parent Subset needs a child Subset or Equals that
 * keeps every parent pair (adding pairs is fine); a parent Equals needs the same Equals. "The child grant can
 * change an EncryptionContextSubset constraint to an EncryptionContextEquals constraint, but not the reverse."
 * https://docs.aws.amazon.com/kms/latest/developerguide/create-grant-overview.html#grant-creategrant
 */
export function atLeastAsStrict(child: GrantConstraintsRecord | null, parent: GrantConstraintsRecord | null): boolean {
  if (parent === null || (parent.encryptionContextEquals === undefined && parent.encryptionContextSubset === undefined)) return true;
  if (child === null) return false;
  if (parent.encryptionContextEquals !== undefined) {
    const equals = child.encryptionContextEquals;
    return equals !== undefined && includesPairs(equals, parent.encryptionContextEquals) && includesPairs(parent.encryptionContextEquals, equals);
  }
  const childPairs = child.encryptionContextEquals ?? child.encryptionContextSubset;
  return childPairs !== undefined && includesPairs(childPairs, parent.encryptionContextSubset!);
}

/** Whether every pair of `pairs` is in `context` (keys compared without case, values exactly). */
function includesPairs(context: EncryptionContext, pairs: EncryptionContext): boolean {
  const byKey = new Map<string, string[]>();
  for (const [k, v] of Object.entries(context)) {
    const folded = k.toLowerCase();
    const values = byKey.get(folded);
    if (values) values.push(v);
    else byKey.set(folded, [v]);
  }
  return Object.entries(pairs).every(([k, v]) => byKey.get(k.toLowerCase())?.includes(v) === true);
}

import { GrantConstraintsRecord, GrantRecord } from '../grant-types.js';
import { Page } from '../types.js';
import { Row, RowDialect, textOrNull } from './row.js';

/** The grants' query: toGrant reads its rows (the key's arn joined in as key_arn). */
export const GRANT_SELECT = 'SELECT g.*, k.arn AS key_arn FROM kms_grants g JOIN kms_keys k ON k.key_id = g.key_id';

/** Rows of kms_grants (joined with the key's arn as key_arn) as records, on either backend. */
export function grantRows(d: RowDialect) {
  function toGrant(r: Row): GrantRecord {
    return {
      grantId: String(r.grant_id),
      keyId: String(r.key_id),
      keyArn: String(r.key_arn),
      name: textOrNull(r.name),
      granteePrincipal: String(r.grantee_principal),
      retiringPrincipal: textOrNull(r.retiring_principal),
      issuingAccountId: String(r.issuing_account_id),
      operations: d.json(r.operations) as string[],
      constraints: r.constraints === null ? null : toConstraints(d.json(r.constraints) as GrantConstraintsRecord),
      createdAt: Number(r.created_at),
    };
  }

  return {
    toGrant,
    /** A page of grants from `limit + 1` rows in seq order: the marker is the last returned grant's seq. */
    page(rows: Row[], limit: number): Page<GrantRecord> {
      const items = rows.slice(0, limit).map(toGrant);
      if (rows.length <= limit) return { items };
      return { items, next: String(rows[limit - 1]!.seq) };
    },
  };
}

/** Maps as null-prototype objects, as the codec decodes them: a context key named "__proto__" stays data. */
function toConstraints(c: GrantConstraintsRecord): GrantConstraintsRecord {
  const map = (m: Readonly<Record<string, string>>) => {
    const out = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(m)) out[k] = v;
    return out;
  };
  return {
    ...(c.encryptionContextEquals ? { encryptionContextEquals: map(c.encryptionContextEquals) } : {}),
    ...(c.encryptionContextSubset ? { encryptionContextSubset: map(c.encryptionContextSubset) } : {}),
  };
}

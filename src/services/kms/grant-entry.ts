import { rootArn } from '../../core/identity/principal.js';
import { GrantRecord } from '../../store/metadata/grant-types.js';

/**
 * A GrantListEntry as ListGrants and ListRetirableGrants answer it: the key as its ARN, the issuing account
 * as its root ARN, Name/RetiringPrincipal/Constraints only when the grant has them.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GrantListEntry.html
 */
export function grantListEntry(g: GrantRecord): Record<string, unknown> {
  const c = g.constraints;
  return {
    KeyId: g.keyArn,
    GrantId: g.grantId,
    Name: g.name ?? undefined,
    CreationDate: new Date(g.createdAt),
    GranteePrincipal: g.granteePrincipal,
    RetiringPrincipal: g.retiringPrincipal ?? undefined,
    IssuingAccount: rootArn(g.issuingAccountId),
    Operations: g.operations,
    Constraints:
      c === null
        ? undefined
        : {
            ...(c.encryptionContextEquals !== undefined ? { EncryptionContextEquals: c.encryptionContextEquals } : {}),
            ...(c.encryptionContextSubset !== undefined ? { EncryptionContextSubset: c.encryptionContextSubset } : {}),
          },
  };
}

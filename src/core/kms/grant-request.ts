import { needs } from '../errors/aws-error.js';
import { CommonErrors } from '../errors/common.js';
import { GrantConstraintsRecord } from '../../store/metadata/grant-types.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { grantOperationsFor } from './grant-operations.js';
import { checkGrantPrincipal } from './grant-principals.js';

/**
 * CreateGrant's parameters as they come off the wire (already checked against the model: GrantOperation
 * enum, PrincipalIdType and GrantNameType patterns, at most 10 grant tokens).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html
 */
export interface CreateGrantParams {
  readonly KeyId: string;
  readonly GranteePrincipal: string;
  readonly RetiringPrincipal?: string;
  readonly Operations: readonly string[];
  readonly Constraints?: {
    readonly EncryptionContextEquals?: Readonly<Record<string, string>>;
    readonly EncryptionContextSubset?: Readonly<Record<string, string>>;
  };
  readonly GrantTokens?: readonly string[];
  readonly Name?: string;
}

/** What a new grant would allow, in domain form. */
export interface GrantRequest {
  readonly granteePrincipal: string;
  readonly retiringPrincipal: string | null;
  /** In the order given, without repeats. */
  readonly operations: readonly string[];
  readonly constraints: GrantConstraintsRecord | null;
  readonly name: string | null;
}

/** "Each constraint value can include up to 8 encryption context pairs. The encryption context value in each
 * constraint cannot exceed 384 characters." (CreateGrant, Constraints) */
export const MAX_CONSTRAINT_PAIRS = 8;
export const MAX_CONSTRAINT_VALUE_CHARS = 384;

const invalid = CommonErrors.ValidationException;

/**
 * Checks what the model cannot: the operations a grant on a symmetric encryption key may allow (others are
 * a ValidationException, as AWS answers), at most one constraint type, the constraint limits, and principal
 * ARNs (InvalidArnException). Messages name operations and principals, never constraint values.
 */
export function grantRequestOf(
  params: CreateGrantParams,
  key: Pick<KeyRecord, 'keySpec' | 'keyUsage'> = { keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT' },
): GrantRequest {
  const operations = [...new Set(params.Operations)];
  needs(operations.length > 0, invalid, "1 validation error detected: Value '[]' at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1");
  const allowed = grantOperationsFor(key);
  const unsupported = operations.filter((op) => !allowed.has(op));
  needs(
    unsupported.length === 0,
    invalid,
    key.keySpec === 'SYMMETRIC_DEFAULT'
      ? `Grant operations [${unsupported.join(', ')}] are not supported for a symmetric encryption KMS key (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT).`
      : `Grant operations [${unsupported.join(', ')}] are not supported for a KMS key with KeySpec ${key.keySpec} and KeyUsage ${key.keyUsage}.`,
  );
  // The wording AWS answers with (the operation alone would let the grantee only pass on a grant it cannot use).
  needs(!(operations.length === 1 && operations[0] === 'CreateGrant'), invalid, 'Grants must not contain only the CreateGrant operation.');
  checkGrantPrincipal(params.GranteePrincipal, 'GranteePrincipal');
  if (params.RetiringPrincipal !== undefined) checkGrantPrincipal(params.RetiringPrincipal, 'RetiringPrincipal');
  return {
    granteePrincipal: params.GranteePrincipal,
    retiringPrincipal: params.RetiringPrincipal ?? null,
    operations,
    constraints: constraintsOf(params.Constraints),
    name: params.Name ?? null,
  };
}

function constraintsOf(c: CreateGrantParams['Constraints']): GrantConstraintsRecord | null {
  if (c === undefined) return null;
  const { EncryptionContextEquals: equals, EncryptionContextSubset: subset } = c;
  // AWS: "More than one constraint supplied" (ValidationException) when both are present, even if one is empty.
  needs(equals === undefined || subset === undefined, invalid, 'More than one constraint supplied');
  const pairs = equals ?? subset;
  if (pairs === undefined) return null;
  const name = equals !== undefined ? 'EncryptionContextEquals' : 'EncryptionContextSubset';
  const entries = Object.entries(pairs);
  needs(entries.length <= MAX_CONSTRAINT_PAIRS, invalid, `The ${name} grant constraint can include at most ${MAX_CONSTRAINT_PAIRS} encryption context pairs.`);
  needs(
    entries.every(([, v]) => v.length <= MAX_CONSTRAINT_VALUE_CHARS),
    invalid,
    `An encryption context value in the ${name} grant constraint cannot exceed ${MAX_CONSTRAINT_VALUE_CHARS} characters.`,
  );
  return equals !== undefined ? { encryptionContextEquals: pairs } : { encryptionContextSubset: pairs };
}

/**
 * The grant-related condition keys of a request, for the authorizer to merge into the request context of
 * CreateGrant (all of them), ListGrants and RevokeGrant (kms:GrantIsForAWSResource only; pass their input, it
 * has none of the CreateGrant members). Values are strings as condition operators compare them; absent
 * members give absent keys. `viaService` set (an integrated service calling for the user) makes
 * kms:GrantIsForAWSResource true. Never throws: it reads the input before anything validated it further.
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
 */
export function grantConditionContext(
  input: Partial<Pick<CreateGrantParams, 'GranteePrincipal' | 'RetiringPrincipal' | 'Operations' | 'Constraints'>>,
  options: { readonly viaService?: string } = {},
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { 'kms:GrantIsForAWSResource': options.viaService !== undefined ? 'true' : 'false' };
  if (input.Operations !== undefined) out['kms:GrantOperations'] = [...new Set(input.Operations)];
  if (input.GranteePrincipal !== undefined) out['kms:GranteePrincipal'] = input.GranteePrincipal;
  if (input.RetiringPrincipal !== undefined) out['kms:RetiringPrincipal'] = input.RetiringPrincipal;
  const c = input.Constraints;
  if (c?.EncryptionContextEquals !== undefined) out['kms:GrantConstraintType'] = 'EncryptionContextEquals';
  else if (c?.EncryptionContextSubset !== undefined) out['kms:GrantConstraintType'] = 'EncryptionContextSubset';
  return out;
}

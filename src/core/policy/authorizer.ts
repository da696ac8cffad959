import { AwsError } from '../errors/aws-error.js';
import { CommonErrors } from '../errors/common.js';
import { Principal } from '../identity/principal.js';

export interface AccessRequest {
  readonly principal: Principal;
  readonly action: string;
  readonly resource: string;
  readonly ownerAccountId?: string;
}

/**
 * Authorization decisions. Until key policies, IAM policies and grants are evaluated (the access-control
 * issue), the effective rule is the one AWS's default key policy gives: an account's principals may use
 * its own resources and no other account's.
 */
export class Authorizer {
  authorize(req: AccessRequest): void {
    if (req.ownerAccountId === undefined || req.ownerAccountId === req.principal.accountId) return;
    throw new AwsError(
      CommonErrors.AccessDeniedException,
      `User: ${req.principal.arn} is not authorized to perform: ${req.action} on resource: ${req.resource} because no resource-based policy allows the ${req.action} action`,
    );
  }
}

import { AwsError } from '../../core/errors/aws-error.js';
import { IamErrors } from '../../core/errors/iam.js';

/**
 * Permissions boundaries are not evaluated by this server. Accepting one and ignoring it would grant more
 * than its author meant, so a request that sets one is refused.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
 */
export function noPermissionsBoundary(arn: string | undefined): void {
  if (arn !== undefined) throw new AwsError(IamErrors.InvalidInput, 'Permissions boundaries are not supported by this server.');
}

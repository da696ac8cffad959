import { AwsError } from '../../core/errors/aws-error.js';
import { CommonErrors } from '../../core/errors/common.js';
import { ForeignKeyNotFound } from '../../core/kms/resolver.js';
import { KmsOperation } from './call.js';

/**
 * Another account's key ARN that names no key is refused as an existing key its policy does not open would be:
 * AccessDeniedException "User: … is not authorized to perform: kms:<Action> on resource: <arn> because no
 * resource-based policy allows the kms:<Action> action" — never NotFoundException, which would tell a caller
 * which key ids exist in an account it has no access to.
 */
export function foreignKeysDenied(operations: ReadonlyMap<string, KmsOperation>): ReadonlyMap<string, KmsOperation> {
  return new Map(
    [...operations].map(([name, op]) => [
      name,
      {
        ...op,
        resolve: async (input, call) => {
          try {
            return await op.resolve(input, call);
          } catch (err) {
            if (!(err instanceof ForeignKeyNotFound)) throw err;
            throw new AwsError(CommonErrors.AccessDeniedException, foreignKeyDenial(call.request.principal.arn, op.action, err.keyArn));
          }
        },
      } satisfies KmsOperation,
    ]),
  );
}

export function foreignKeyDenial(callerArn: string, action: string, keyArn: string): string {
  return `User: ${callerArn} is not authorized to perform: ${action} on resource: ${keyArn} because no resource-based policy allows the ${action} action`;
}

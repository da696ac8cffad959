import { AwsError } from '../../core/errors/aws-error.js';
import { CommonErrors } from '../../core/errors/common.js';
import { ForeignKeyNotFound } from '../../core/kms/resolver.js';
import { KmsCall, KmsOperation } from './call.js';

/**
 * The account boundary of every KMS operation, applied once to the whole table (service.ts):
 *
 * - An operation whose API reference says "Cross-account use: No" (no `crossAccount` on its row: DisableKey,
 *   ScheduleKeyDeletion, PutKeyPolicy, TagResource, UpdateAlias, ImportKeyMaterial, …) acts only on keys of the
 *   caller's account. Its resolve (where an operation finds its keys) sees a scope that is ownAccountOnly, so the
 *   resolver refuses another account's key ARN or alias ARN without looking it up; a key of another account
 *   that still reaches one of its accesses is refused too. AWS: "If you grant a user in a different account permission to other operations, those
 *   permissions have no effect … attempts by the user to call these operations on your resources will continue
 *   to fail." https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
 * - Any other account's key the operation cannot use — missing, not shared, or shared but the operation is
 *   same-account only — answers alike: AccessDeniedException "User: … is not authorized to perform:
 *   kms:<Action> on resource: <arn> because no resource-based policy allows the kms:<Action> action", the answer
 *   of a key whose policy does not open it to the caller. Never NotFoundException, which would tell a caller
 *   which key ids exist in an account it has no access to.
 */
export function foreignKeysDenied(operations: ReadonlyMap<string, KmsOperation>): ReadonlyMap<string, KmsOperation> {
  return new Map([...operations].map(([name, op]) => [name, withAccountBoundary(op)]));
}

function withAccountBoundary(op: KmsOperation): KmsOperation {
  const own = (call: KmsCall): KmsCall => (op.crossAccount ? call : { ...call, scope: { ...call.scope, ownAccountOnly: true } });
  return {
    ...op,
    resolve: async (input, call) => {
      try {
        const resolved = await op.resolve(input, own(call));
        if (!op.crossAccount) {
          for (const a of resolved.access) {
            if (a.ownerAccountId !== undefined && a.ownerAccountId !== call.scope.accountId) {
              throw new AwsError(CommonErrors.AccessDeniedException, foreignKeyDenial(call.request.principal.arn, op.action, a.resource));
            }
          }
        }
        return resolved;
      } catch (err) {
        if (!(err instanceof ForeignKeyNotFound)) throw err;
        throw new AwsError(CommonErrors.AccessDeniedException, foreignKeyDenial(call.request.principal.arn, op.action, err.keyArn));
      }
    },
  };
}

export function foreignKeyDenial(callerArn: string, action: string, keyArn: string): string {
  return `User: ${callerArn} is not authorized to perform: ${action} on resource: ${keyArn} because no resource-based policy allows the ${action} action`;
}

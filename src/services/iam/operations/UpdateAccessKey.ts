import { AwsError } from '../../../core/errors/aws-error.js';
import { IamErrors } from '../../../core/errors/iam.js';
import { accessKeyOperation } from '../call.js';

/**
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccessKey.html — an Inactive key stops
 * authenticating at once (InvalidClientTokenId); Active brings it back.
 */
export const UpdateAccessKey = accessKeyOperation<{ UserName?: string; AccessKeyId: string; Status: string }>({
  name: 'UpdateAccessKey',
  readOnly: false,
  handle: async (input, call, owner) => {
    if (input.Status !== 'Active' && input.Status !== 'Inactive') {
      throw new AwsError(IamErrors.InvalidInput, `Status must be Active or Inactive, not ${input.Status}.`);
    }
    await call.iam.accessKeys.setStatus(call.accountId, owner.userName, input.AccessKeyId, input.Status);
    return {};
  },
});

import { accessKeyOperation } from '../call.js';
import { accessKeyMetadataShape } from '../output.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAccessKeys.html — at most two keys: one page. */
export const ListAccessKeys = accessKeyOperation<{ UserName?: string; Marker?: string; MaxItems?: number }>({
  name: 'ListAccessKeys',
  readOnly: true,
  handle: async (_input, call, owner) => {
    const keys = await call.iam.accessKeys.list(call.accountId, owner.userName);
    return { AccessKeyMetadata: keys.map(accessKeyMetadataShape), IsTruncated: false };
  },
});

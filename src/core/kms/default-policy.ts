/**
 * The key policy AWS gives a key created without one: the account's root has every kms action, which
 * delegates the decision to IAM policies.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 */
export const DEFAULT_POLICY_NAME = 'default';

export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        {
          Sid: 'Enable IAM User Permissions',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${accountId}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    },
    null,
    2,
  );
}

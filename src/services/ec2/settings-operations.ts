import { ec2Operation } from './call.js';

/**
 * EBS encryption by default and its default KMS key, per account and Region
 * (https://docs.aws.amazon.com/ebs/latest/userguide/work-with-ebs-encr.html#encryption-by-default).
 * The default key is alias/aws/ebs until ModifyEbsDefaultKmsKeyId names another; it is shown as an ARN.
 */
const aliasArn = (scope: { accountId: string; region: string }) => `arn:aws:kms:${scope.region}:${scope.accountId}:alias/aws/ebs`;

export const EnableEbsEncryptionByDefault = ec2Operation<Record<string, never>>({
  name: 'EnableEbsEncryptionByDefault',
  readOnly: false,
  resources: () => ['*'],
  handle: async (_input, call) => ({ EbsEncryptionByDefault: (await call.volumes.putDefaults(call.scope, { encryptionByDefault: true })).encryptionByDefault }),
});

export const DisableEbsEncryptionByDefault = ec2Operation<Record<string, never>>({
  name: 'DisableEbsEncryptionByDefault',
  readOnly: false,
  resources: () => ['*'],
  handle: async (_input, call) => ({ EbsEncryptionByDefault: (await call.volumes.putDefaults(call.scope, { encryptionByDefault: false })).encryptionByDefault }),
});

export const GetEbsEncryptionByDefault = ec2Operation<Record<string, never>>({
  name: 'GetEbsEncryptionByDefault',
  readOnly: true,
  resources: () => ['*'],
  handle: async (_input, call) => ({ EbsEncryptionByDefault: (await call.volumes.getDefaults(call.scope)).encryptionByDefault, SseType: 'none' }),
});

export const GetEbsDefaultKmsKeyId = ec2Operation<Record<string, never>>({
  name: 'GetEbsDefaultKmsKeyId',
  readOnly: true,
  resources: () => ['*'],
  handle: async (_input, call) => ({ KmsKeyId: (await call.volumes.getDefaults(call.scope)).defaultKmsKeyId ?? aliasArn(call.scope) }),
});

/** Takes a key id, key ARN, alias name or alias ARN, kept as given (EC2 resolves it when a volume is made). */
export const ModifyEbsDefaultKmsKeyId = ec2Operation<{ KmsKeyId: string }>({
  name: 'ModifyEbsDefaultKmsKeyId',
  readOnly: false,
  resources: () => ['*'],
  handle: async (input, call) => ({ KmsKeyId: (await call.volumes.putDefaults(call.scope, { defaultKmsKeyId: input.KmsKeyId })).defaultKmsKeyId }),
});

export const ResetEbsDefaultKmsKeyId = ec2Operation<Record<string, never>>({
  name: 'ResetEbsDefaultKmsKeyId',
  readOnly: false,
  resources: () => ['*'],
  handle: async (_input, call) => {
    await call.volumes.putDefaults(call.scope, { defaultKmsKeyId: null });
    return { KmsKeyId: aliasArn(call.scope) };
  },
});

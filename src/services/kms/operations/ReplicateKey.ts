import { KeyRecord, Tag } from '../../../store/metadata/types.js';
import { keyArn } from '../../../core/kms/arn.js';
import { checkKeyPolicy } from '../../../core/kms/policy-document.js';
import { defineOperation } from '../../operation.js';
import { KmsAccess, KmsCall, onAccount, onKey } from '../call.js';
import { multiRegionConditions } from '../conditions.js';
import { keyMetadata } from '../key-metadata.js';
import { needsNoLockout } from '../lockout.js';

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_ReplicateKey.html */
interface Input {
  KeyId: string;
  ReplicaRegion: string;
  Policy?: string;
  BypassPolicyLockoutSafetyCheck?: boolean;
  Description?: string;
  Tags?: Tag[];
}

/**
 * Replicates a multi-Region primary key into another Region of this deployment. Required permissions as
 * AWS documents them: kms:ReplicateKey on the primary key (its key policy; kms:ReplicaRegion is the
 * Region asked for), kms:CreateKey in the replica Region (IAM policy; the key it makes is a REPLICA), and
 * kms:TagResource there when Tags are given. The key is named by key id or key ARN, not by alias.
 */
export const ReplicateKey = defineOperation<KmsCall, Input, KeyRecord, KmsAccess>({
  name: 'ReplicateKey',
  action: 'kms:ReplicateKey',
  readOnly: false,
  resolve: async (input, call) => {
    const primary = await call.kms.resolver.resolve(call.scope, input.KeyId, { aliases: false });
    call.kms.multiRegion.needsServedRegion(input.ReplicaRegion);
    const inReplicaRegion = { 'aws:RequestedRegion': input.ReplicaRegion };
    const access: KmsAccess[] = [
      onKey(primary, 'kms:ReplicateKey', { conditions: { 'kms:ReplicaRegion': input.ReplicaRegion } }),
      {
        ...onAccount('kms:CreateKey'),
        conditions: {
          ...inReplicaRegion,
          'kms:KeySpec': primary.keySpec,
          'kms:KeyUsage': primary.keyUsage,
          'kms:KeyOrigin': primary.origin,
          ...multiRegionConditions('REPLICA'),
        },
      },
    ];
    if (input.Tags !== undefined && input.Tags.length > 0) access.push({ ...onAccount('kms:TagResource'), conditions: inReplicaRegion });
    return { access, state: primary };
  },
  handle: async (input, call, primary) => {
    if (input.Policy !== undefined) {
      checkKeyPolicy(input.Policy);
      const replicaArn = keyArn(input.ReplicaRegion, primary.accountId, primary.keyId);
      await needsNoLockout(call, input.Policy, replicaArn, input.BypassPolicyLockoutSafetyCheck);
    }
    const replica = await call.kms.multiRegion.replicate(primary, input.ReplicaRegion, {
      ...(input.Policy !== undefined ? { policy: input.Policy } : {}),
      ...(input.Description !== undefined ? { description: input.Description } : {}),
      ...(input.Tags !== undefined ? { tags: input.Tags } : {}),
    });
    return {
      ReplicaKeyMetadata: keyMetadata(replica, undefined, await call.kms.multiRegion.configuration(replica)),
      ReplicaPolicy: replica.policy,
      ReplicaTags: input.Tags ?? [],
    };
  },
});

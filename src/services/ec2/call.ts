import { AwsError } from '../../core/errors/aws-error.js';
import { Ec2Errors } from '../../core/errors/ec2.js';
import { KmsInRegion, VolumeScope, Volumes } from '../../core/volumes/volumes.js';
import { KmsClient } from '../kms/kms-client.js';
import { Operation, RequestContext, ResourceAccess, defineOperation } from '../operation.js';
import { kmsForEc2 } from './kms-bridge.js';

/** What an EC2 operation handler gets: the volumes, the request, its account and Region, KMS as the caller. */
export interface Ec2Call {
  readonly volumes: Volumes;
  readonly request: RequestContext;
  readonly scope: VolumeScope;
  readonly kms: KmsInRegion;
}

export type Ec2Operation = Operation<Ec2Call>;

export function ec2Call(volumes: Volumes, kmsClient: KmsClient, request: RequestContext): Ec2Call {
  return {
    volumes,
    request,
    scope: { accountId: request.principal.accountId, region: request.region },
    kms: (region) => kmsForEc2(kmsClient, request, region),
  };
}

/**
 * arn:aws:ec2:<region>:<account>:volume|instance/<id>, and arn:aws:ec2:<region>::snapshot/<id> — a snapshot's ARN
 * has no account (snapshots can be shared, so AWS leaves it empty; policies name them `arn:aws:ec2:*::snapshot/*`).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html#amazonec2-resources-for-iam-policies
 */
export function ec2Arn(scope: { accountId: string; region: string }, type: 'volume' | 'snapshot' | 'instance', id: string): string {
  return `arn:aws:ec2:${scope.region}:${type === 'snapshot' ? '' : scope.accountId}:${type}/${id}`;
}

/** An EC2 operation: `resources` are the ARNs ec2:<Name> is authorized on (before anything is looked up, as EC2 does). */
export function ec2Operation<I>(spec: {
  name: string;
  readOnly: boolean;
  resources: (input: I, call: Ec2Call) => string[];
  handle: (input: I, call: Ec2Call) => Promise<Record<string, unknown>>;
}): Ec2Operation {
  return defineOperation<Ec2Call, I, undefined>({
    name: spec.name,
    action: `ec2:${spec.name}`,
    readOnly: spec.readOnly,
    resolve: async (input, call) => ({ access: spec.resources(input, call).map((resource): ResourceAccess => ({ action: `ec2:${spec.name}`, resource })), state: undefined }),
    handle: (input, call) => spec.handle(input, call),
  });
}

/** Tags of TagSpecifications for one resource type (another type is InvalidParameterValue, as EC2 answers). */
export function tagsFor(specs: readonly { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[] | undefined, resourceType: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const spec of specs ?? []) {
    if (spec.ResourceType !== resourceType) {
      throw new AwsError(Ec2Errors.InvalidParameterValue, `'${String(spec.ResourceType ?? '')}' is not a valid taggable resource type for this operation.`);
    }
    for (const t of spec.Tags ?? []) tags[t.Key ?? ''] = t.Value ?? '';
  }
  return tags;
}

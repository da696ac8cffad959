import { AwsError } from '../../core/errors/aws-error.js';
import { EbsError, ebsError } from '../../core/errors/ebs.js';
import { DirectSnapshots } from '../../core/volumes/direct-snapshots.js';
import { VolumeKmsAsCaller } from '../../core/volumes/volume-kms.js';
import { VolumeScope } from '../../core/volumes/volumes.js';
import { kmsForEc2 } from '../ec2/kms-bridge.js';
import { ec2Arn } from '../ec2/call.js';
import { KmsClient } from '../kms/kms-client.js';
import { Operation, RequestContext, ResourceAccess, defineOperation } from '../operation.js';

/** What an EBS direct API handler gets: the snapshots, the request, its account and Region, KMS as the caller. */
export interface EbsCall {
  readonly snapshots: DirectSnapshots;
  readonly request: RequestContext;
  readonly scope: VolumeScope;
  readonly kms: VolumeKmsAsCaller;
}

export type EbsOperation = Operation<EbsCall>;

export function ebsCall(snapshots: DirectSnapshots, kmsClient: KmsClient, request: RequestContext): EbsCall {
  return {
    snapshots,
    request,
    scope: { accountId: request.principal.accountId, region: request.region },
    // EBS is part of EC2: its KMS calls are the volume store's (kms:ViaService ec2.<region>.amazonaws.com,
    // context aws:ebs:id), with KMS's refusals reported as EBS reports them.
    kms: kmsForEc2(kmsClient, request, request.region, ebsErrorOfKms),
  };
}

/**
 * A KMS error as the EBS direct APIs report it: a refusal is AccessDeniedException (DEPENDENCY_ACCESS_DENIED),
 * an unknown, disabled or unusable key ValidationException (INVALID_CUSTOMER_KEY), a KMS fault an
 * InternalServerException.
 */
export function ebsErrorOfKms(err: unknown): unknown {
  if (!(err instanceof AwsError) || err instanceof EbsError) return err;
  if (err.code === 'AccessDeniedException') return ebsError('AccessDeniedException', `The KMS key could not be used: ${err.message}`, 'DEPENDENCY_ACCESS_DENIED');
  if (err.fault === 'server') return ebsError('InternalServerException', 'An internal error occurred in a dependency (KMS).');
  return ebsError('ValidationException', `The KMS key could not be used: ${err.code}: ${err.message}`, 'INVALID_CUSTOMER_KEY');
}

/** ebs:<Action> is authorized on EC2's snapshot ARNs, as AWS's EBS direct APIs are. */
export function snapshotArn(call: EbsCall, snapshotId: string): string {
  return ec2Arn(call.scope, 'snapshot', snapshotId);
}

export function ebsOperation<I>(spec: {
  name: string;
  readOnly: boolean;
  resources: (input: I, call: EbsCall) => string[];
  handle: (input: I, call: EbsCall) => Promise<Record<string, unknown>>;
}): EbsOperation {
  return defineOperation<EbsCall, I, undefined>({
    name: spec.name,
    action: `ebs:${spec.name}`,
    readOnly: spec.readOnly,
    resolve: async (input, call) => ({ access: spec.resources(input, call).map((resource): ResourceAccess => ({ action: `ebs:${spec.name}`, resource })), state: undefined }),
    handle: (input, call) => spec.handle(input, call),
  });
}

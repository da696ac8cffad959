import { Clock } from '../../core/clock.js';
import { DigestSigningKeys } from '../../core/audit/digest-keys.js';
import { AuditReader } from '../../core/audit/lookup.js';
import { ACCEPT_ANY_BUCKET, TrailBucketCheck } from '../../core/audit/trails.js';
import { TrailStore } from '../../store/metadata/trail-types.js';
import { CommonErrors } from '../../core/errors/common.js';
import { authorizeByIdentity } from '../../core/iam/authorize.js';
import { IdentityPolicySource } from '../../core/policy/sources.js';
import { requestConditions } from '../request-conditions.js';
import { ServiceDefinition } from '../service.js';
import { CloudTrailCall } from './call.js';
import { CLOUDTRAIL_CODEC, CLOUDTRAIL_OPERATIONS, CLOUDTRAIL_SIGNING_NAME } from './index.js';

/** What CloudTrail's trail operations need besides the audit log's index. */
export interface CloudTrailDeps {
  readonly trails: TrailStore;
  readonly signingKeys: DigestSigningKeys;
  /** Whether a trail's S3 bucket exists; S3 wires it (until then any name is accepted). */
  readonly bucketCheck?: TrailBucketCheck;
}

/**
 * CloudTrail over AWS JSON 1.1. The root user may do anything in its account; IAM users and role sessions
 * need an identity-based policy allowing the `cloudtrail:<Operation>` action on the trail's ARN (`*` for
 * LookupEvents, DescribeTrails and ListPublicKeys).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudtrail.html
 */
export function cloudTrailService(events: AuditReader, identityPolicies: IdentityPolicySource, clock: Clock, deps: CloudTrailDeps): ServiceDefinition<CloudTrailCall> {
  const bucketCheck = deps.bucketCheck ?? ACCEPT_ANY_BUCKET;
  return {
    signingName: CLOUDTRAIL_SIGNING_NAME,
    operations: CLOUDTRAIL_OPERATIONS,
    codec: CLOUDTRAIL_CODEC,
    internalError: CommonErrors.InternalFailure,
    context: (request) => ({ events, trails: deps.trails, signingKeys: deps.signingKeys, bucketCheck, clock, request }),
    authorize: async (call, accesses) => {
      const context = requestConditions(CLOUDTRAIL_SIGNING_NAME, call.request, clock.now());
      for (const a of accesses) {
        await authorizeByIdentity(identityPolicies, { principal: call.request.principal, action: a.action, resource: a.resource, context }, CommonErrors.AccessDeniedException);
      }
    },
  };
}

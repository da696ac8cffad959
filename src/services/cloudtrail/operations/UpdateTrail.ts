import { findTrail, needsHomeRegion } from '../../../core/audit/trails.js';
import { needs } from '../../../core/errors/aws-error.js';
import { CloudTrailErrors } from '../../../core/errors/cloudtrail.js';
import { TrailPatch, TrailRecord } from '../../../store/metadata/trail-types.js';
import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';
import { TrailSettingsInput, checkBucketName, checkDestination, checkPrefix, checkRegionScope, checkTrailKey, refuseUnsupported } from '../trail-settings.js';
import { trailAccess, trailSettingsView } from '../trail-view.js';

/**
 * UpdateTrail, from the trail's home region: what the request names changes, the rest stays; an empty
 * S3KeyPrefix removes the prefix, an empty KmsKeyId the log files' KMS key. A new bucket or prefix gets
 * CreateTrail's checks (the bucket exists, its policy lets CloudTrail write there), a new key (or the key of
 * a moved trail) CreateTrail's key check. Logging goes on: the delivery loop reads the trail's settings at every
 * interval, so the next log file already goes to the new place (files planned before stay where they were
 * planned: a digest lists them there).
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_UpdateTrail.html
 */
interface Input extends TrailSettingsInput {
  Name: string;
}

export const UpdateTrail = defineOperation<CloudTrailCall, Input, TrailRecord>({
  name: 'UpdateTrail',
  action: 'cloudtrail:UpdateTrail',
  readOnly: false,
  resolve: async (input, call) => {
    const trail = await findTrail(call.trails, input.Name, call.request.principal.accountId, call.request.region);
    return { access: [trailAccess('UpdateTrail', trail.arn)], state: trail };
  },
  handle: async (input, call, trail) => {
    needsHomeRegion(trail, call.request.region);
    refuseUnsupported(input);
    const patch: { -readonly [K in keyof TrailPatch]: TrailPatch[K] } = {};
    if (input.S3BucketName !== undefined) {
      checkBucketName(input.S3BucketName);
      patch.s3BucketName = input.S3BucketName;
    }
    if (input.S3KeyPrefix !== undefined) {
      patch.s3KeyPrefix = input.S3KeyPrefix || null;
      checkPrefix(patch.s3KeyPrefix);
    }
    if (input.IncludeGlobalServiceEvents !== undefined) patch.includeGlobalServiceEvents = input.IncludeGlobalServiceEvents;
    if (input.IsMultiRegionTrail !== undefined) patch.isMultiRegionTrail = input.IsMultiRegionTrail;
    if (input.EnableLogFileValidation !== undefined) patch.logFileValidationEnabled = input.EnableLogFileValidation;
    const next: TrailRecord = { ...trail, ...patch };
    checkRegionScope(next.isMultiRegionTrail, next.includeGlobalServiceEvents);
    if (next.isMultiRegionTrail && !trail.isMultiRegionTrail) {
      // A multi-region trail is seen from every region: no other trail of the account may have its name.
      const { accountId } = call.request.principal;
      needs(
        !(await call.trails.listAccountTrails(accountId)).some((t) => t.name === trail.name && t.arn !== trail.arn),
        CloudTrailErrors.TrailAlreadyExistsException,
        `Trail ${trail.name} already exists for customer: ${accountId}`,
      );
    }
    const moved = input.S3BucketName !== undefined || input.S3KeyPrefix !== undefined;
    if (moved) await checkDestination(call, trail.arn, next.s3BucketName, next.s3KeyPrefix);
    // A new key, or the kept key for a new bucket (it must be in the bucket's region), gets CreateTrail's check;
    // an empty KmsKeyId goes back to SSE-S3 (or the bucket's default).
    if (input.KmsKeyId !== undefined) patch.kmsKeyId = input.KmsKeyId === '' ? null : await checkTrailKey(call, trail.arn, next.s3BucketName, next.s3KeyPrefix, input.KmsKeyId);
    else if (moved && trail.kmsKeyId !== null) await checkTrailKey(call, trail.arn, next.s3BucketName, next.s3KeyPrefix, trail.kmsKeyId);
    await call.trails.updateTrail(trail.arn, patch);
    return trailSettingsView({ ...next, ...patch });
  },
});

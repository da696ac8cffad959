import { TrailRecord } from '../../store/metadata/trail-types.js';

/**
 * A trail as GetTrail, DescribeTrails and CreateTrail show it (the model's Trail shape).
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_Trail.html
 */
export function trailView(t: TrailRecord): Record<string, unknown> {
  return {
    Name: t.name,
    S3BucketName: t.s3BucketName,
    ...(t.s3KeyPrefix !== null ? { S3KeyPrefix: t.s3KeyPrefix } : {}),
    IncludeGlobalServiceEvents: t.includeGlobalServiceEvents,
    IsMultiRegionTrail: t.isMultiRegionTrail,
    HomeRegion: t.region,
    TrailARN: t.arn,
    LogFileValidationEnabled: t.logFileValidationEnabled,
    ...(t.kmsKeyId !== null ? { KmsKeyId: t.kmsKeyId } : {}),
    HasCustomEventSelectors: t.eventSelectors !== null || t.advancedEventSelectors !== null,
    HasInsightSelectors: false,
    IsOrganizationTrail: false,
  };
}

/** A trail as CreateTrail and UpdateTrail answer it (their response shapes: no HomeRegion, no selector flags). */
export function trailSettingsView(t: TrailRecord): Record<string, unknown> {
  const { HasCustomEventSelectors: _h, HasInsightSelectors: _i, HomeRegion: _r, ...shown } = trailView(t);
  return shown;
}

/** The trail's resource for authorization: `cloudtrail:<Action>` on its ARN. */
export function trailAccess(action: string, arn: string) {
  return { action: `cloudtrail:${action}`, resource: arn };
}

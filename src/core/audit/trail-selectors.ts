import { TrailRecord } from '../../store/metadata/trail-types.js';

/** A basic event selector as PutEventSelectors stores it (defaults filled in). */
interface EventSelector {
  readonly ReadWriteType: 'ReadOnly' | 'WriteOnly' | 'All';
  readonly IncludeManagementEvents: boolean;
  readonly DataResources: readonly { readonly Type?: string; readonly Values?: readonly string[] }[];
  readonly ExcludeManagementEventSources: readonly string[];
}

/** What the selectors look at in a record. */
export interface SelectableRecord {
  readonly eventSource: string;
  readonly awsRegion: string;
  readonly readOnly: boolean;
  readonly managementEvent: boolean;
  readonly recipientAccountId: string;
  readonly resources?: readonly { readonly type: string; readonly ARN: string }[];
}

/** Without selectors a trail logs every management event, read and write, and no data event. */
const DEFAULT_SELECTORS: readonly EventSelector[] = [{ ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] }];

/**
 * IAM, STS and other global services record their calls in us-east-1; a trail gets them only when it
 * includes global service events.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-concepts.html#cloudtrail-concepts-global-service-events
 */
const GLOBAL_SOURCES = new Set(['iam.amazonaws.com', 'sts.amazonaws.com']);

/**
 * Whether `trail` delivers `record`: the trail's account, its region (any region for a multi-region trail),
 * global service events only when IncludeGlobalServiceEvents, and then the event selectors — a management
 * event when a selector includes management events of that read/write type and does not exclude its source;
 * a data event when a selector's DataResources of type AWS::S3::Object has a value that is a prefix of the
 * object's ARN ("arn:aws:s3" for every object, "arn:aws:s3:::bucket/" for a bucket, or a key prefix).
 * Advanced event selectors are stored but not evaluated: a trail that has them delivers management events only.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DataResource.html
 */
export function trailWants(trail: TrailRecord, r: SelectableRecord): boolean {
  if (r.recipientAccountId !== trail.accountId) return false;
  const global = GLOBAL_SOURCES.has(r.eventSource);
  if (global && !trail.includeGlobalServiceEvents) return false;
  if (!trail.isMultiRegionTrail && r.awsRegion !== trail.region) return false;
  const selectors: readonly EventSelector[] = trail.eventSelectors ? (JSON.parse(trail.eventSelectors) as EventSelector[]) : DEFAULT_SELECTORS;
  const rwMatches = (s: EventSelector) => s.ReadWriteType === 'All' || (s.ReadWriteType === 'ReadOnly') === r.readOnly;
  if (r.managementEvent) {
    return selectors.some((s) => s.IncludeManagementEvents && rwMatches(s) && !s.ExcludeManagementEventSources.includes(r.eventSource));
  }
  const objects = (r.resources ?? []).filter((res) => res.type === 'AWS::S3::Object').map((res) => res.ARN);
  if (objects.length === 0) return false;
  return selectors.some(
    (s) =>
      rwMatches(s) &&
      s.DataResources.some((d) => d.Type === 'AWS::S3::Object' && (d.Values ?? []).some((v) => objects.some((arn) => v === 'arn:aws:s3' || v === 'arn:aws:s3:::' || arn.startsWith(v)))),
  );
}

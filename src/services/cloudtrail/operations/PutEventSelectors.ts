import { findTrail, needsHomeRegion } from '../../../core/audit/trails.js';
import { needs } from '../../../core/errors/aws-error.js';
import { CloudTrailErrors } from '../../../core/errors/cloudtrail.js';
import { TrailRecord } from '../../../store/metadata/trail-types.js';
import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';
import { trailAccess } from '../trail-view.js';

interface EventSelector {
  ReadWriteType?: 'ReadOnly' | 'WriteOnly' | 'All';
  IncludeManagementEvents?: boolean;
  DataResources?: { Type?: string; Values?: string[] }[];
  ExcludeManagementEventSources?: string[];
}

/** Data event resource types this server can produce events for (S3 objects, once S3 records data events). */
const DATA_RESOURCE_TYPES = new Set(['AWS::S3::Object']);

/**
 * PutEventSelectors: basic selectors (at most 5, S3 object data resources) or advanced selectors, not both;
 * replaces what the trail had.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutEventSelectors.html
 */
export const PutEventSelectors = defineOperation<CloudTrailCall, { TrailName: string; EventSelectors?: EventSelector[]; AdvancedEventSelectors?: unknown[] }, TrailRecord>({
  name: 'PutEventSelectors',
  action: 'cloudtrail:PutEventSelectors',
  readOnly: false,
  resolve: async (input, call) => {
    const trail = await findTrail(call.trails, input.TrailName, call.request.principal.accountId, call.request.region);
    return { access: [trailAccess('PutEventSelectors', trail.arn)], state: trail };
  },
  handle: async (input, call, trail) => {
    needsHomeRegion(trail, call.request.region);
    needs(
      (input.EventSelectors === undefined) !== (input.AdvancedEventSelectors === undefined),
      CloudTrailErrors.InvalidParameterCombinationException,
      'You must specify either EventSelectors or AdvancedEventSelectors, but not both.',
    );
    let basic: EventSelector[] | null = null;
    if (input.EventSelectors) {
      needs(input.EventSelectors.length <= 5, CloudTrailErrors.InvalidEventSelectorsException, 'You can specify at most 5 event selectors.');
      basic = input.EventSelectors.map((s) => {
        for (const r of s.DataResources ?? []) {
          needs(r.Type !== undefined && DATA_RESOURCE_TYPES.has(r.Type), CloudTrailErrors.InvalidEventSelectorsException, `Invalid data resource type: ${String(r.Type).slice(0, 64)}`);
        }
        return { ReadWriteType: s.ReadWriteType ?? 'All', IncludeManagementEvents: s.IncludeManagementEvents ?? true, DataResources: s.DataResources ?? [], ExcludeManagementEventSources: s.ExcludeManagementEventSources ?? [] };
      });
    }
    const eventSelectors = basic ? JSON.stringify(basic) : null;
    const advancedEventSelectors = input.AdvancedEventSelectors ? JSON.stringify(input.AdvancedEventSelectors) : null;
    await call.trails.updateTrail(trail.arn, { eventSelectors, advancedEventSelectors });
    return { TrailARN: trail.arn, ...(basic ? { EventSelectors: basic } : { AdvancedEventSelectors: input.AdvancedEventSelectors }) };
  },
});

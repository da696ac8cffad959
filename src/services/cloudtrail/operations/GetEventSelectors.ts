import { findTrail } from '../../../core/audit/trails.js';
import { TrailRecord } from '../../../store/metadata/trail-types.js';
import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';
import { trailAccess } from '../trail-view.js';

/** What a trail logs when nobody set selectors: every management event, no data events. */
export const DEFAULT_EVENT_SELECTORS = [{ ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] }];

/** GetEventSelectors. https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetEventSelectors.html */
export const GetEventSelectors = defineOperation<CloudTrailCall, { TrailName: string }, TrailRecord>({
  name: 'GetEventSelectors',
  action: 'cloudtrail:GetEventSelectors',
  readOnly: true,
  resolve: async (input, call) => {
    const trail = await findTrail(call.trails, input.TrailName, call.request.principal.accountId, call.request.region);
    return { access: [trailAccess('GetEventSelectors', trail.arn)], state: trail };
  },
  handle: async (_input, _call, trail) => ({
    TrailARN: trail.arn,
    ...(trail.advancedEventSelectors !== null
      ? { AdvancedEventSelectors: JSON.parse(trail.advancedEventSelectors) }
      : { EventSelectors: trail.eventSelectors !== null ? JSON.parse(trail.eventSelectors) : DEFAULT_EVENT_SELECTORS }),
  }),
});

import { findTrail, needsHomeRegion } from '../../../core/audit/trails.js';
import { TrailRecord } from '../../../store/metadata/trail-types.js';
import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';
import { trailAccess } from '../trail-view.js';

/**
 * StopLogging: the trail stops delivering (what was committed before is still delivered). Idempotent.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_StopLogging.html
 */
export const StopLogging = defineOperation<CloudTrailCall, { Name: string }, TrailRecord>({
  name: 'StopLogging',
  action: 'cloudtrail:StopLogging',
  readOnly: false,
  resolve: async (input, call) => {
    const trail = await findTrail(call.trails, input.Name, call.request.principal.accountId, call.request.region);
    return { access: [trailAccess('StopLogging', trail.arn)], state: trail };
  },
  handle: async (_input, call, trail) => {
    needsHomeRegion(trail, call.request.region);
    if (trail.isLogging) await call.trails.updateTrail(trail.arn, { isLogging: false, stopLoggingTime: call.clock.now() });
    return {};
  },
});

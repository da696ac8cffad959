import { findTrail, needsHomeRegion } from '../../../core/audit/trails.js';
import { TrailRecord } from '../../../store/metadata/trail-types.js';
import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';
import { trailAccess } from '../trail-view.js';

/**
 * StartLogging: the trail's delivery starts with the records committed from now on. Idempotent.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_StartLogging.html
 */
export const StartLogging = defineOperation<CloudTrailCall, { Name: string }, TrailRecord>({
  name: 'StartLogging',
  action: 'cloudtrail:StartLogging',
  readOnly: false,
  resolve: async (input, call) => {
    const trail = await findTrail(call.trails, input.Name, call.request.principal.accountId, call.request.region);
    return { access: [trailAccess('StartLogging', trail.arn)], state: trail };
  },
  handle: async (_input, call, trail) => {
    needsHomeRegion(trail, call.request.region);
    if (!trail.isLogging) {
      await call.trails.updateTrail(trail.arn, { isLogging: true, startLoggingTime: call.clock.now() });
      await call.trails.startDelivery(trail.arn);
    }
    return {};
  },
});

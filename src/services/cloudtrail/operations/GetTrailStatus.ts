import { findTrail } from '../../../core/audit/trails.js';
import { TrailRecord } from '../../../store/metadata/trail-types.js';
import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';
import { trailAccess } from '../trail-view.js';

const at = (ms: number | null) => (ms === null ? undefined : new Date(ms));
/** The deprecated string forms of the times, as CloudTrail still sends them. */
const text = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());

/**
 * GetTrailStatus: whether the trail logs, since when, and how its last log and digest deliveries went.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html
 */
export const GetTrailStatus = defineOperation<CloudTrailCall, { Name: string }, TrailRecord>({
  name: 'GetTrailStatus',
  action: 'cloudtrail:GetTrailStatus',
  readOnly: true,
  resolve: async (input, call) => {
    const trail = await findTrail(call.trails, input.Name, call.request.principal.accountId, call.request.region);
    return { access: [trailAccess('GetTrailStatus', trail.arn)], state: trail };
  },
  handle: async (_input, call, trail) => {
    const d = await call.trails.delivery(trail.arn);
    const out: Record<string, unknown> = {
      IsLogging: trail.isLogging,
      StartLoggingTime: at(trail.startLoggingTime),
      StopLoggingTime: at(trail.stopLoggingTime),
      TimeLoggingStarted: text(trail.startLoggingTime),
      TimeLoggingStopped: text(trail.stopLoggingTime),
    };
    if (d) {
      Object.assign(out, {
        LatestDeliveryTime: at(d.lastLogDeliveryTime),
        LatestDeliveryError: d.lastLogDeliveryError ?? undefined,
        LatestDeliveryAttemptTime: text(d.lastLogDeliveryTime),
        LatestDeliveryAttemptSucceeded: d.lastLogDeliveryError === null ? text(d.lastLogDeliveryTime) : undefined,
        LatestDigestDeliveryTime: at(d.lastDigestDeliveryTime),
        LatestDigestDeliveryError: d.lastDigestDeliveryError ?? undefined,
      });
    }
    return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
  },
});

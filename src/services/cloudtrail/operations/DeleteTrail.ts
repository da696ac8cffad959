import { findTrail, needsHomeRegion } from '../../../core/audit/trails.js';
import { TrailRecord } from '../../../store/metadata/trail-types.js';
import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';
import { trailAccess } from '../trail-view.js';

/** DeleteTrail, from the trail's home region. https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DeleteTrail.html */
export const DeleteTrail = defineOperation<CloudTrailCall, { Name: string }, TrailRecord>({
  name: 'DeleteTrail',
  action: 'cloudtrail:DeleteTrail',
  readOnly: false,
  resolve: async (input, call) => {
    const trail = await findTrail(call.trails, input.Name, call.request.principal.accountId, call.request.region);
    return { access: [trailAccess('DeleteTrail', trail.arn)], state: trail };
  },
  handle: async (_input, call, trail) => {
    needsHomeRegion(trail, call.request.region);
    await call.trails.deleteTrail(trail.arn);
    return {};
  },
});

import { findTrail } from '../../../core/audit/trails.js';
import { TrailRecord } from '../../../store/metadata/trail-types.js';
import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';
import { trailAccess, trailView } from '../trail-view.js';

/** GetTrail: one trail by name (this region's, or a multi-region one) or ARN. https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrail.html */
export const GetTrail = defineOperation<CloudTrailCall, { Name: string }, TrailRecord>({
  name: 'GetTrail',
  action: 'cloudtrail:GetTrail',
  readOnly: true,
  resolve: async (input, call) => {
    const trail = await findTrail(call.trails, input.Name, call.request.principal.accountId, call.request.region);
    return { access: [trailAccess('GetTrail', trail.arn)], state: trail };
  },
  handle: async (_input, _call, trail) => ({ Trail: trailView(trail) }),
});

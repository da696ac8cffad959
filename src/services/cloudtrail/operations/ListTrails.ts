import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';

/**
 * ListTrails: name, ARN and home region of every trail of the caller's account, whatever region asks and
 * whatever region the trail lives in. An account has at most five trails per region, so one page holds
 * them all: no NextToken is ever handed out, and a NextToken given (none of ours) has nothing after it.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_ListTrails.html
 */
export const ListTrails = defineOperation<CloudTrailCall, { NextToken?: string }, undefined>({
  name: 'ListTrails',
  action: 'cloudtrail:ListTrails',
  readOnly: true,
  resolve: async () => ({ access: [{ action: 'cloudtrail:ListTrails', resource: '*' }], state: undefined }),
  handle: async (input, call) => {
    if (input.NextToken !== undefined) return { Trails: [] };
    return { Trails: (await call.trails.listAccountTrails(call.request.principal.accountId)).map((t) => ({ TrailARN: t.arn, Name: t.name, HomeRegion: t.region })) };
  },
});

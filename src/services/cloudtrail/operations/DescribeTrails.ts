import { trailRef } from '../../../core/audit/trails.js';
import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';
import { trailView } from '../trail-view.js';

/**
 * DescribeTrails: the account's trails seen from this region — its own and, unless includeShadowTrails is
 * false, multi-region trails homed elsewhere — or those named in trailNameList (names or ARNs; unknown ones
 * are left out, as AWS does).
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DescribeTrails.html
 */
export const DescribeTrails = defineOperation<CloudTrailCall, { trailNameList?: string[]; includeShadowTrails?: boolean }, undefined>({
  name: 'DescribeTrails',
  action: 'cloudtrail:DescribeTrails',
  readOnly: true,
  resolve: async () => ({ access: [{ action: 'cloudtrail:DescribeTrails', resource: '*' }], state: undefined }),
  handle: async (input, call) => {
    const { accountId } = call.request.principal;
    const region = call.request.region;
    let trails = await call.trails.listTrails(accountId, region);
    if (input.includeShadowTrails === false) trails = trails.filter((t) => t.region === region);
    const names = input.trailNameList ?? [];
    if (names.length > 0) {
      const refs = names.map((n) => ({ arn: n.startsWith('arn:'), ref: trailRef(n, accountId, region) }));
      trails = trails.filter((t) => refs.some(({ arn, ref }) => ref.name === t.name && (!arn || (ref.region === t.region && ref.accountId === t.accountId))));
    }
    return { trailList: trails.map(trailView) };
  },
});

import { needs } from '../../../core/errors/aws-error.js';
import { CloudTrailErrors } from '../../../core/errors/cloudtrail.js';
import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';

/**
 * ListPublicKeys: the region's digest signing public keys valid within [StartTime, EndTime] (both default
 * to now: the current key) — Value is the DER PKCS#1 RSAPublicKey, Fingerprint its MD5 in hex, as
 * `aws cloudtrail validate-logs` expects. One page: a region has one key a year.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_ListPublicKeys.html
 */
export const ListPublicKeys = defineOperation<CloudTrailCall, { StartTime?: Date; EndTime?: Date; NextToken?: string }, undefined>({
  name: 'ListPublicKeys',
  action: 'cloudtrail:ListPublicKeys',
  readOnly: true,
  resolve: async () => ({ access: [{ action: 'cloudtrail:ListPublicKeys', resource: '*' }], state: undefined }),
  handle: async (input, call) => {
    const now = call.clock.now();
    const start = input.StartTime?.getTime() ?? now;
    const end = input.EndTime?.getTime() ?? now;
    needs(start <= end, CloudTrailErrors.InvalidTimeRangeException, 'Start time must be before end time.');
    needs(input.NextToken === undefined, CloudTrailErrors.InvalidTokenException, 'Invalid token.');
    await call.signingKeys.current(call.request.region, now);
    return {
      PublicKeyList: (await call.signingKeys.list(call.request.region, start, end)).map((k) => ({
        Value: k.publicKey,
        ValidityStartTime: new Date(k.validFrom),
        ValidityEndTime: new Date(k.validTo),
        Fingerprint: k.fingerprint,
      })),
    };
  },
});

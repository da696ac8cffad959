import { LOOKUP_KEYS, LookupKey } from '../../../core/audit/lookup.js';
import { CloudTrailRecord, lookupAccessKeyId, lookupUsername } from '../../../core/audit/record.js';
import { needs } from '../../../core/errors/aws-error.js';
import { CloudTrailErrors } from '../../../core/errors/cloudtrail.js';
import { defineOperation } from '../../operation.js';
import { CloudTrailCall } from '../call.js';

/**
 * LookupEvents: the caller's account's management events, newest first, by at most one attribute and a
 * time window. https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
 */
interface Input {
  LookupAttributes?: { AttributeKey: LookupKey; AttributeValue: string }[];
  StartTime?: Date;
  EndTime?: Date;
  EventCategory?: string;
  MaxResults?: number;
  NextToken?: string;
}

const MAX_RESULTS = 50;
const TOKEN_PREFIX = 'lookup:';

function decodeToken(token: string | undefined): number | undefined {
  if (token === undefined) return undefined;
  const raw = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  const seq = raw.startsWith(TOKEN_PREFIX) ? Number(raw.slice(TOKEN_PREFIX.length)) : NaN;
  needs(Number.isSafeInteger(seq) && seq > 0, CloudTrailErrors.InvalidNextTokenException, 'Invalid NextToken.');
  return seq;
}

export const LookupEvents = defineOperation<CloudTrailCall, Input, undefined>({
  name: 'LookupEvents',
  action: 'cloudtrail:LookupEvents',
  readOnly: true,
  resolve: async () => ({ access: [{ action: 'cloudtrail:LookupEvents', resource: '*' }], state: undefined }),
  handle: async (input, call) => {
    const attrs = input.LookupAttributes ?? [];
    needs(attrs.length <= 1, CloudTrailErrors.InvalidLookupAttributesException, 'You cannot specify more than one lookup attribute.');
    const attribute = attrs[0];
    if (attribute) needs(LOOKUP_KEYS.includes(attribute.AttributeKey), CloudTrailErrors.InvalidLookupAttributesException, 'Invalid lookup attribute key.');
    needs(input.EventCategory === undefined, CloudTrailErrors.InvalidEventCategoryException, 'Insights events are not recorded.');
    const start = input.StartTime?.getTime();
    const end = input.EndTime?.getTime();
    needs(start === undefined || end === undefined || start <= end, CloudTrailErrors.InvalidTimeRangeException, 'Start time must be before end time.');
    const limit = input.MaxResults ?? MAX_RESULTS;
    const rows = await call.events.lookup({
      accountId: call.request.principal.accountId,
      ...(attribute ? { attribute: { key: attribute.AttributeKey, value: attribute.AttributeValue } } : {}),
      ...(start !== undefined ? { startTime: start } : {}),
      ...(end !== undefined ? { endTime: end } : {}),
      ...(input.NextToken !== undefined ? { beforeSeq: decodeToken(input.NextToken)! } : {}),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const events = page.map(({ record }) => {
      const r = JSON.parse(record) as CloudTrailRecord;
      return {
        EventId: r.eventID,
        EventName: r.eventName,
        ReadOnly: String(r.readOnly),
        AccessKeyId: lookupAccessKeyId(r.userIdentity),
        EventTime: new Date(r.eventTime),
        EventSource: r.eventSource,
        Username: lookupUsername(r.userIdentity),
        Resources: (r.resources ?? []).map((res) => ({ ResourceType: res.type, ResourceName: res.ARN })),
        CloudTrailEvent: record,
      };
    });
    const last = page[page.length - 1];
    return {
      Events: events,
      ...(rows.length > limit && last ? { NextToken: Buffer.from(`${TOKEN_PREFIX}${last.seq}`, 'utf8').toString('base64url') } : {}),
    };
  },
});

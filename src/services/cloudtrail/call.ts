import { AuditReader } from '../../core/audit/lookup.js';
import { Operation, RequestContext } from '../operation.js';

/** What a CloudTrail operation handler gets: the audit log's index and the request. */
export interface CloudTrailCall {
  readonly events: AuditReader;
  readonly request: RequestContext;
}

export type CloudTrailOperation = Operation<CloudTrailCall>;

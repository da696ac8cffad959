import { AuditReader } from '../../core/audit/lookup.js';
import { DigestSigningKeys } from '../../core/audit/digest-keys.js';
import { TrailBucketCheck } from '../../core/audit/trails.js';
import { Clock } from '../../core/clock.js';
import { TrailStore } from '../../store/metadata/trail-types.js';
import { Operation, RequestContext } from '../operation.js';

/** What a CloudTrail operation handler gets: the audit log's index, the trails, the digest keys and the request. */
export interface CloudTrailCall {
  readonly events: AuditReader;
  readonly trails: TrailStore;
  readonly signingKeys: DigestSigningKeys;
  readonly bucketCheck: TrailBucketCheck;
  readonly clock: Clock;
  readonly request: RequestContext;
}

export type CloudTrailOperation = Operation<CloudTrailCall>;

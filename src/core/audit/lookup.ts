/**
 * LookupEvents over the audit log: one attribute at most, a time window, newest first, paged by sequence number.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
 */
export const LOOKUP_KEYS = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'] as const;
export type LookupKey = (typeof LOOKUP_KEYS)[number];

export interface LookupQuery {
  /** Only this account's events (the caller's). */
  readonly accountId: string;
  readonly attribute?: { readonly key: LookupKey; readonly value: string };
  /** Epoch ms, inclusive. */
  readonly startTime?: number;
  readonly endTime?: number;
  /** Only records with a smaller sequence number (the page marker). */
  readonly beforeSeq?: number;
  readonly limit: number;
}

export interface StoredEvent {
  readonly seq: number;
  /** The record's JSON, exactly as hashed. */
  readonly record: string;
}

export interface AuditReader {
  lookup(q: LookupQuery): Promise<StoredEvent[]>;
}

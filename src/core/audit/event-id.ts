import { randomUUID } from 'node:crypto';

/**
 * A record's eventID: a UUID, version 7 (RFC 9562 §5.7): the first 48 bits are the Unix time in ms, the
 * other 74 variable bits random (from a v4 UUID, node's pooled CSPRNG). AWS documents eventID only as a
 * GUID; version 7 is one, and time-ordered: the lookup index on event ids (audit_events_id) then grows at
 * its right edge, one or two pages per commit group, where random (v4) ids dirtied — and wrote to the WAL,
 * and checkpointed — one random page of that index for every record (~15 % of a Decrypt's CPU in
 * `npm run bench:kms`; more as the log grows past the page cache).
 */
export function newEventId(now: number = Date.now()): string {
  const t = now.toString(16).padStart(12, '0');
  // randomUUID(): xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx — keep its variant and random tail, set version 7.
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${randomUUID().slice(15)}`;
}

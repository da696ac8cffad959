import { AuditStore } from '../../src/store/metadata/audit-types.js';
import { ObjectVersionRecord, S3Store } from '../../src/store/metadata/s3-types.js';

/** The stores of one location as the server opens them (its durability mode). */
export interface LocationStores {
  readonly s3: S3Store;
  readonly audit: AuditStore;
  close(): Promise<void>;
}

/**
 * What a backend gives the crash contract: a module (URL) whose `openLocation(location)` export opens the
 * stores of a location, so that a child process can open it, write and die; and fresh empty locations.
 */
export interface CrashBackend {
  readonly module: string;
  fresh(): Promise<string>;
}

export type OpenLocation = (location: string) => Promise<LocationStores>;

export const CRASH_BUCKET = 'crash-bucket';

/** The n-th version the crash writer puts (each its own key, so every acknowledged one must be the latest). */
export function crashVersion(n: number): ObjectVersionRecord {
  return {
    bucket: CRASH_BUCKET,
    key: `k/${String(n).padStart(5, '0')}`,
    versionId: `v${n}`,
    isLatest: true,
    deleteMarker: false,
    lastModified: 1000 + n,
    size: n,
    etag: `etag-${n}`,
    ownerAccountId: '111122223333',
    headers: {},
    metadata: { n: String(n) },
    encryption: { algorithm: 'AES256', key: { kind: 's3', sealed: `sealed-${n}` } },
    parts: [{ partNumber: 1, blobId: `blob-${n}`, size: n, etag: `etag-${n}`, salt: 'c2FsdA==' }],
  };
}

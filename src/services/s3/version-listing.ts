import { ObjectVersionRecord } from '../../store/metadata/s3-types.js';
import { S3Call } from './call.js';
import { owner } from './resources.js';
import { XmlValue, xmlTime } from './xml.js';

export interface VersionPage {
  /** Versions and delete markers, by key (UTF-8 byte order) then newest first. */
  readonly entries: ObjectVersionRecord[];
  readonly prefixes: string[];
  readonly truncated: boolean;
  /** Where the next page starts (NextKeyMarker, NextVersionIdMarker); the version is absent after a common prefix. */
  readonly next: { key: string; versionId: string | undefined } | undefined;
}

/**
 * One page of ListObjectVersions: every version and delete marker with `prefix`, after the key marker
 * (and, with a version-id marker, after that version of the marker key), common prefixes rolled up at
 * `delimiter`; at most `maxKeys` entries, versions, markers and prefixes counted together, as S3 does.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
 */
export async function listVersionsPage(
  call: S3Call,
  bucket: string,
  q: { prefix: string; delimiter: string; keyMarker: string; versionIdMarker: string; maxKeys: number },
): Promise<VersionPage> {
  const entries: ObjectVersionRecord[] = [];
  const prefixes: string[] = [];
  let last: VersionPage['next'];
  if (q.maxKeys === 0) return { entries, prefixes, truncated: false, next: undefined };
  let cursor = { key: q.keyMarker, versionId: q.versionIdMarker };
  for (;;) {
    const batch = await call.deps.store.listVersions(bucket, { prefix: q.prefix, keyMarker: cursor.key, versionIdMarker: cursor.versionId, limit: Math.min(1000, q.maxKeys + 1) });
    if (batch.length === 0) return { entries, prefixes, truncated: false, next: undefined };
    for (const v of batch) {
      cursor = { key: v.key, versionId: v.versionId };
      let rolled: string | undefined;
      if (q.delimiter !== '') {
        const i = v.key.indexOf(q.delimiter, q.prefix.length);
        if (i >= 0) rolled = v.key.slice(0, i + q.delimiter.length);
      }
      if (rolled !== undefined && rolled === prefixes[prefixes.length - 1]) continue;
      // A key marker that is itself a common prefix (the NextKeyMarker of a page ending in one) skips it.
      if (rolled !== undefined && q.keyMarker.startsWith(rolled)) continue;
      if (entries.length + prefixes.length === q.maxKeys) return { entries, prefixes, truncated: true, next: last };
      if (rolled !== undefined) {
        prefixes.push(rolled);
        last = { key: rolled, versionId: undefined };
        // Nothing else under this prefix can appear: continue after its last possible key.
        cursor = { key: rolled + '\u{10FFFF}', versionId: '' };
        break;
      }
      entries.push(v);
      last = { key: v.key, versionId: v.versionId };
    }
  }
}

/** A <Version> or <DeleteMarker> entry (element order as in the API reference's example). */
export function versionEntry(v: ObjectVersionRecord, enc: (s: string) => string): readonly [string, XmlValue] {
  if (v.deleteMarker) {
    return ['DeleteMarker', { Key: enc(v.key), VersionId: v.versionId, IsLatest: v.isLatest, LastModified: xmlTime(v.lastModified), Owner: owner(v.ownerAccountId) }];
  }
  return [
    'Version',
    {
      Key: enc(v.key),
      VersionId: v.versionId,
      IsLatest: v.isLatest,
      LastModified: xmlTime(v.lastModified),
      ETag: `"${v.etag}"`,
      ...(v.checksum ? { ChecksumAlgorithm: v.checksum.algorithm, ChecksumType: v.checksum.type } : {}),
      Size: v.size,
      StorageClass: 'STANDARD',
      Owner: owner(v.ownerAccountId),
    },
  ];
}

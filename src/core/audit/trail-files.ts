import { createHash, randomInt, sign, KeyObject } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { trailTime } from './record.js';

/**
 * What a trail writes into its bucket, byte for byte as CloudTrail does, so that the unchanged
 * `aws cloudtrail validate-logs` (awscli/customizations/cloudtrail/validation.py) accepts it:
 * - log files: gzip'd `{"Records":[…]}` under AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html#cloudtrail-log-filename-format
 * - digest files: gzip'd JSON naming the log files of the last period, their SHA-256 and the previous digest's
 *   signature, signed SHA256withRSA; the signature (hex) in the object's x-amz-meta-signature.
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html
 */

export const DIGEST_SIGNATURE_ALGORITHM = 'SHA256withRSA';
export const HASH_ALGORITHM = 'SHA-256';

const pad = (n: number) => String(n).padStart(2, '0');

/** YYYY/MM/DD of `ms` (UTC): the folder of a log or digest file. */
function dayFolder(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
}

/** 20150817T150131Z — the digest file name's end timestamp (validation.py reads it as key[-24:-8]). */
export function compactTime(ms: number, seconds: boolean): string {
  const d = new Date(ms);
  const base = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
  return `${base}${seconds ? pad(d.getUTCSeconds()) : ''}Z`;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The 16 random alphanumeric characters that make a log file name unique. */
export function uniqueString(): string {
  let s = '';
  for (let i = 0; i < 16; i += 1) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

const withPrefix = (prefix: string | null, key: string) => (prefix ? `${prefix}/${key}` : key);

/** [prefix/]AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz */
export function logFileKey(prefix: string | null, accountId: string, region: string, deliveredAt: number, unique = uniqueString()): string {
  return withPrefix(prefix, `AWSLogs/${accountId}/CloudTrail/${region}/${dayFolder(deliveredAt)}/${accountId}_CloudTrail_${region}_${compactTime(deliveredAt, false)}_${unique}.json.gz`);
}

/**
 * [prefix/]AWSLogs/<acct>/CloudTrail-Digest/<region>/YYYY/MM/DD/<acct>_CloudTrail-Digest_<region>_<trail>_<home region>_<end>.json.gz,
 * the folder being the digest end's day. validation.py lists this prefix and matches exactly this shape.
 */
export function digestFileKey(prefix: string | null, accountId: string, region: string, trailName: string, homeRegion: string, endTime: number): string {
  return withPrefix(
    prefix,
    `AWSLogs/${accountId}/CloudTrail-Digest/${region}/${dayFolder(endTime)}/${accountId}_CloudTrail-Digest_${region}_${trailName}_${homeRegion}_${compactTime(endTime, true)}.json.gz`,
  );
}

const sha256Hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A log file ready to put: the gzip'd bytes and the SHA-256 (hex) of the uncompressed content, which is what digests list and validate-logs recomputes. */
export interface LogFile {
  readonly body: Buffer;
  readonly sha256: string;
  readonly oldestEventTime: number;
  readonly newestEventTime: number;
}

/** `records` are the records' JSON texts, in sequence order; their eventTime bounds the file. */
export function buildLogFile(records: readonly string[]): LogFile {
  const json = `{"Records":[${records.join(',')}]}`;
  let oldest = Infinity;
  let newest = -Infinity;
  for (const r of records) {
    const t = Date.parse((JSON.parse(r) as { eventTime: string }).eventTime);
    oldest = Math.min(oldest, t);
    newest = Math.max(newest, t);
  }
  return { body: gzipSync(json), sha256: sha256Hex(json), oldestEventTime: oldest, newestEventTime: newest };
}

/** A log file as a digest lists it. */
export interface DigestedLogFile {
  readonly bucket: string;
  readonly key: string;
  readonly sha256: string;
  readonly oldestEventTime: number;
  readonly newestEventTime: number;
}

/** The previous digest of the same chain (trail and region); absent for the first. */
export interface PreviousDigest {
  readonly bucket: string;
  readonly key: string;
  /** SHA-256 (hex) of the previous digest's uncompressed content. */
  readonly sha256: string;
  readonly signature: string;
}

export interface DigestInput {
  readonly accountId: string;
  readonly bucket: string;
  readonly key: string;
  readonly startTime: number;
  readonly endTime: number;
  readonly fingerprint: string;
  readonly previous: PreviousDigest | undefined;
  readonly logFiles: readonly DigestedLogFile[];
}

export interface SignedDigest {
  readonly body: Buffer;
  /** SHA-256 (hex) of the uncompressed JSON: the next digest's previousDigestHashValue. */
  readonly sha256: string;
  /** Hex: x-amz-meta-signature, and the next digest's previousDigestSignature. */
  readonly signature: string;
  /** x-amz-meta-* of the digest object. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * The string CloudTrail signs: digestEndTime, bucket/key of the digest, the hex SHA-256 of the uncompressed
 * digest, and the previous digest's signature ("null" for the first), joined by "\n".
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html#cloudtrail-log-file-custom-validation-data-signing-string-summary
 */
export function digestSigningString(endTime: string, bucket: string, key: string, sha256: string, previousSignature: string | null): string {
  return `${endTime}\n${bucket}/${key}\n${sha256}\n${previousSignature ?? 'null'}`;
}

/** The digest's JSON, with the members and formats of AWS's documented sample (times to the second, null links for the first). */
export function digestJson(d: DigestInput): string {
  const times = d.logFiles.flatMap((f) => [f.oldestEventTime, f.newestEventTime]);
  return JSON.stringify({
    awsAccountId: d.accountId,
    digestStartTime: trailTime(d.startTime),
    digestEndTime: trailTime(d.endTime),
    digestS3Bucket: d.bucket,
    digestS3Object: d.key,
    digestPublicKeyFingerprint: d.fingerprint,
    digestSignatureAlgorithm: DIGEST_SIGNATURE_ALGORITHM,
    newestEventTime: times.length > 0 ? trailTime(Math.max(...times)) : null,
    oldestEventTime: times.length > 0 ? trailTime(Math.min(...times)) : null,
    previousDigestS3Bucket: d.previous?.bucket ?? null,
    previousDigestS3Object: d.previous?.key ?? null,
    previousDigestHashValue: d.previous?.sha256 ?? null,
    previousDigestHashAlgorithm: d.previous ? HASH_ALGORITHM : null,
    previousDigestSignature: d.previous?.signature ?? null,
    logFiles: d.logFiles.map((f) => ({
      s3Bucket: f.bucket,
      s3Object: f.key,
      hashValue: f.sha256,
      hashAlgorithm: HASH_ALGORITHM,
      newestEventTime: trailTime(f.newestEventTime),
      oldestEventTime: trailTime(f.oldestEventTime),
    })),
  });
}

/** Builds and signs a digest (RSASSA-PKCS1-v1_5 over SHA-256: Java's SHA256withRSA, python-rsa's verify). */
export function signDigest(d: DigestInput, privateKey: KeyObject): SignedDigest {
  const json = digestJson(d);
  const sha256 = sha256Hex(json);
  const toSign = digestSigningString(trailTime(d.endTime), d.bucket, d.key, sha256, d.previous?.signature ?? null);
  const signature = sign('sha256', Buffer.from(toSign, 'utf8'), privateKey).toString('hex');
  return { body: gzipSync(json), sha256, signature, metadata: { signature, 'signature-algorithm': DIGEST_SIGNATURE_ALGORITHM } };
}

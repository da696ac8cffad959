import { IncomingHttpHeaders } from 'node:http';
import { AwsError, needs } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { BodyTap } from '../../core/s3/bodies.js';
import {
  ChecksumAlgorithm, ChecksumType, UNIMPLEMENTED_ALGORITHMS, badDigest, checksumHeaderName, compositeChecksum, createChecksum,
  decodeChecksumValue, fullObjectCrc, isCrcAlgorithm, parseChecksumHeaders, toChecksumAlgorithm,
} from '../../core/s3/checksums.js';
import { ObjectChecksum, StoredPart, UploadRecord } from '../../store/metadata/s3-types.js';
import { checksumTaps } from './checksum-headers.js';
import { RequestBody } from './call.js';

/**
 * Checksums of multipart uploads: chosen at CreateMultipartUpload (x-amz-checksum-algorithm and
 * x-amz-checksum-type), computed over every part, combined at completion as COMPOSITE (checksum of the
 * parts' checksums, `-N`) or FULL_OBJECT (the CRC of the whole object, from the parts' CRCs).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html#large-object-checksums
 * Messages are the ones S3 answers, as recorded by the S3-compatible servers that test against it.
 */

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);
const ALGORITHM_LIST = '[CRC32, CRC32C, CRC64NVME, MD5, SHA1, SHA256, SHA512, XXHASH128, XXHASH3, XXHASH64]';

export interface UploadChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly type: ChecksumType;
}

/**
 * The checksum an upload asks for. The type defaults to FULL_OBJECT for CRC64NVME and COMPOSITE otherwise;
 * FULL_OBJECT needs a CRC (only CRCs combine without the bytes), and CRC64NVME has no COMPOSITE form
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html, x-amz-checksum-type).
 */
export function uploadChecksumOf(h: IncomingHttpHeaders): UploadChecksum | undefined {
  const algorithmHeader = one(h['x-amz-checksum-algorithm']);
  const typeHeader = one(h['x-amz-checksum-type']);
  if (algorithmHeader === undefined) {
    needs(typeHeader === undefined, S3Errors.InvalidRequest, 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return undefined;
  }
  const algorithm = toChecksumAlgorithm(algorithmHeader);
  if (!algorithm) {
    if ((UNIMPLEMENTED_ALGORITHMS as readonly string[]).includes(algorithmHeader.trim().toUpperCase())) {
      throw new AwsError(S3Errors.NotImplemented, `The ${algorithmHeader.trim().toUpperCase()} checksum algorithm is not implemented by this server.`);
    }
    throw new AwsError(S3Errors.InvalidRequest, `Checksum algorithm provided is unsupported. Please try again with any of the valid types: ${ALGORITHM_LIST}`);
  }
  const type = typeHeader === undefined ? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE') : typeHeader.trim().toUpperCase();
  needs(type === 'COMPOSITE' || type === 'FULL_OBJECT', S3Errors.InvalidRequest, 'Value for x-amz-checksum-type header is invalid.');
  needs(type === 'COMPOSITE' || isCrcAlgorithm(algorithm), S3Errors.InvalidRequest, `The FULL_OBJECT checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  needs(type === 'FULL_OBJECT' || algorithm !== 'CRC64NVME', S3Errors.InvalidRequest, `The COMPOSITE checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  return { algorithm, type };
}

/** x-amz-checksum-algorithm / -type answered by CreateMultipartUpload. */
export function uploadChecksumHeaders(upload: UploadRecord): Record<string, string> {
  if (!upload.checksumAlgorithm) return {};
  return { 'x-amz-checksum-algorithm': upload.checksumAlgorithm, 'x-amz-checksum-type': upload.checksumType ?? 'COMPOSITE' };
}

/**
 * The checksum of one part: the one the request sends (verified, as for PutObject), which must be the
 * upload's algorithm when it has one. A COMPOSITE upload needs it on every part ("Checksum Type mismatch
 * occurred, expected checksum Type: crc32, actual checksum Type: null"); for FULL_OBJECT, and for copied
 * parts (`computeMissing`), the server computes it.
 */
export function partChecksumTaps(h: IncomingHttpHeaders, upload: UploadRecord, computeMissing = false, body?: RequestBody): { taps: BodyTap[]; result(): Record<string, string> | undefined } {
  const requested = parseChecksumHeaders(h);
  const expected = upload.checksumAlgorithm as ChecksumAlgorithm | undefined;
  if (expected !== undefined && requested?.algorithm !== expected) {
    const missingAllowed = requested === undefined && (computeMissing || upload.checksumType === 'FULL_OBJECT');
    needs(missingAllowed, S3Errors.InvalidRequest, `Checksum Type mismatch occurred, expected checksum Type: ${expected.toLowerCase()}, actual checksum Type: ${requested?.algorithm.toLowerCase() ?? 'null'}`);
    const hasher = createChecksum(expected);
    let value: string | undefined;
    return {
      taps: [{ update: (c) => hasher.update(c), verify: () => void (value = hasher.digest()) }],
      result: () => (value === undefined ? undefined : { [expected]: value }),
    };
  }
  const sent = checksumTaps(h, body);
  return {
    taps: sent.taps,
    result: () => {
      const r = sent.result();
      return r ? { [r.algorithm]: r.value } : undefined;
    },
  };
}

/** x-amz-checksum-<alg> of a stored part (UploadPart's answer). */
export function partChecksumHeaders(part: StoredPart): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [algorithm, value] of Object.entries(part.checksum ?? {})) out[checksumHeaderName(algorithm as ChecksumAlgorithm)] = value;
  return out;
}

/** Checksum<ALG> elements of a part (ListParts, CopyPartResult). */
export function partChecksumElements(part: StoredPart): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [algorithm, value] of Object.entries(part.checksum ?? {})) out[`Checksum${algorithm}`] = value;
  return out;
}

/** One <Part> of a CompleteMultipartUpload request. */
export interface RequestedPart {
  readonly partNumber: number;
  readonly etag: string;
  /** Checksum<ALG> elements sent, by algorithm. */
  readonly checksums: Readonly<Record<string, string>>;
}

/**
 * Checks the parts' checksums named in the completion request against the stored ones (InvalidPart on a
 * difference) and combines them into the object's checksum. A COMPOSITE upload's request must name the
 * checksum of every part, as S3 requires.
 */
export function completedChecksum(
  h: IncomingHttpHeaders,
  upload: UploadRecord,
  requested: readonly RequestedPart[],
  parts: readonly StoredPart[],
  invalidPart: (p: RequestedPart) => AwsError,
): ObjectChecksum | undefined {
  const algorithm = upload.checksumAlgorithm as ChecksumAlgorithm | undefined;
  const type = upload.checksumType ?? 'COMPOSITE';
  const typeHeader = one(h['x-amz-checksum-type']);
  if (typeHeader !== undefined) {
    needs(algorithm !== undefined && typeHeader.trim().toUpperCase() === type, S3Errors.InvalidRequest,
      `The upload was created using the ${algorithm ? type : 'null'} checksum mode. The complete request must use the same checksum mode.`);
  }
  requested.forEach((r, i) => {
    const stored = parts[i]!;
    for (const [alg, value] of Object.entries(r.checksums)) {
      const mine = stored.checksum?.[alg];
      const a = toChecksumAlgorithm(alg);
      if (mine === undefined || !a) continue;
      const sent = decodeChecksumValue(a, value.trim());
      if (!sent || sent.toString('base64') !== mine) throw invalidPart(r);
    }
    if (algorithm !== undefined && type === 'COMPOSITE' && r.checksums[algorithm] === undefined) {
      throw new AwsError(S3Errors.InvalidRequest, `The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${r.partNumber} in the request.`);
    }
  });
  if (algorithm === undefined) return undefined;
  const sums = parts.map((p) => p.checksum?.[algorithm]);
  // Parts of an upload with an algorithm always have it (partChecksumTaps); keep the object honest anyway.
  if (sums.some((s) => s === undefined)) return undefined;
  const value = type === 'FULL_OBJECT' && isCrcAlgorithm(algorithm)
    ? fullObjectCrc(algorithm, parts.map((p, i) => ({ checksum: sums[i]!, size: p.size })))
    : compositeChecksum(algorithm, sums as string[]);
  // x-amz-checksum-<alg> on the completion request: the whole object's value, verified like a PUT's.
  const sent = one(h[checksumHeaderName(algorithm)]);
  if (sent !== undefined && sent.trim() !== value && `${sent.trim()}-${parts.length}` !== value) throw badDigest(algorithm);
  return { algorithm, value, type };
}

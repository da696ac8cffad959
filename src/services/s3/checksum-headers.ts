import { IncomingHttpHeaders } from 'node:http';
import { BodyTap } from '../../core/s3/bodies.js';
import { ChecksumAlgorithm, badDigest, checksumHeaderName, createChecksum, parseChecksumHeaders } from '../../core/s3/checksums.js';
import { ObjectChecksum, ObjectVersionRecord } from '../../store/metadata/s3-types.js';
import { RequestBody } from './call.js';

/**
 * The flexible checksum a PUT (or part) asks for. Sent as an x-amz-checksum-<alg> header: computed over the
 * plaintext as it arrives and checked before the object is committed. Sent as the trailer of an aws-chunked
 * body: the chunk decoder already computes and checks it over the same bytes, so its value is taken, not
 * computed twice.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 */
export function checksumTaps(h: IncomingHttpHeaders, body?: RequestBody): { taps: BodyTap[]; result(): ObjectChecksum | undefined } {
  const requested = parseChecksumHeaders(h);
  if (!requested) return { taps: [], result: () => undefined };
  const decoded = requested.trailer ? body?.trailingChecksum : undefined;
  if (decoded) {
    return {
      taps: [],
      result: () => {
        const value = decoded();
        return value === undefined ? undefined : { algorithm: requested.algorithm, value, type: 'FULL_OBJECT' };
      },
    };
  }
  const hasher = createChecksum(requested.algorithm);
  let value: string | undefined;
  const tap: BodyTap = {
    update: (chunk) => hasher.update(chunk),
    verify: () => {
      value = hasher.digest();
      if (requested.expected !== undefined && Buffer.from(requested.expected, 'base64').toString('base64') !== value) throw badDigest(requested.algorithm);
    },
  };
  return { taps: [tap], result: () => (value === undefined ? undefined : { algorithm: requested.algorithm, value, type: 'FULL_OBJECT' }) };
}

/** x-amz-checksum-<alg> (and -type) of a stored object. */
export function checksumOf(v: Pick<ObjectVersionRecord, 'checksum'>): Record<string, string> {
  if (!v.checksum) return {};
  return { [checksumHeaderName(v.checksum.algorithm as ChecksumAlgorithm)]: v.checksum.value, 'x-amz-checksum-type': v.checksum.type };
}

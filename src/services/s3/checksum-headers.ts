import { IncomingHttpHeaders } from 'node:http';
import { BodyTap } from '../../core/s3/bodies.js';
import { ChecksumAlgorithm, badDigest, checksumHeaderName, createChecksum, parseChecksumHeaders, parseTrailingChecksumValue } from '../../core/s3/checksums.js';
import { ObjectChecksum, ObjectVersionRecord } from '../../store/metadata/s3-types.js';

/**
 * The flexible checksum a PUT (or part) asks for: computed over the plaintext as it arrives and checked
 * before the object is committed — against the x-amz-checksum-<alg> header, or against the trailer of an
 * aws-chunked body (`trailers` gives them once the body ended).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 */
export function checksumTaps(
  h: IncomingHttpHeaders,
  trailers: () => ReadonlyMap<string, string> | undefined = () => undefined,
): { taps: BodyTap[]; result(): ObjectChecksum | undefined } {
  const requested = parseChecksumHeaders(h);
  if (!requested) return { taps: [], result: () => undefined };
  const hasher = createChecksum(requested.algorithm);
  let value: string | undefined;
  const tap: BodyTap = {
    update: (chunk) => hasher.update(chunk),
    verify: () => {
      value = hasher.digest();
      let expected = requested.expected;
      if (expected === undefined && requested.trailer) {
        const sent = trailers()?.get(checksumHeaderName(requested.algorithm));
        if (sent !== undefined) expected = parseTrailingChecksumValue(requested.algorithm, sent);
      }
      if (expected !== undefined && Buffer.from(expected, 'base64').toString('base64') !== value) throw badDigest(requested.algorithm);
    },
  };
  return { taps: [tap], result: () => (value === undefined ? undefined : { algorithm: requested.algorithm, value, type: 'FULL_OBJECT' }) };
}

/** x-amz-checksum-<alg> (and -type) of a stored object. */
export function checksumOf(v: Pick<ObjectVersionRecord, 'checksum'>): Record<string, string> {
  if (!v.checksum) return {};
  return { [checksumHeaderName(v.checksum.algorithm as ChecksumAlgorithm)]: v.checksum.value, 'x-amz-checksum-type': v.checksum.type };
}

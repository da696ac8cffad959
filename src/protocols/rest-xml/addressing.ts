import { AwsError } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';

/**
 * Where an S3 request points: virtual-hosted style (`<bucket>.<domain>/<key>`) when the Host is a
 * sub-domain of a configured domain, else path style (`/<bucket>/<key>`).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html
 * The key is the rest of the path, percent-decoded once, never normalised (`a//b/../c` is a key).
 */
export function s3Address(host: string, rawPath: string, domains: readonly string[]): { bucket: string | undefined; key: string | undefined } {
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  for (const d of domains) {
    if (hostname.endsWith(`.${d}`) && hostname.length > d.length + 1) {
      const bucket = hostname.slice(0, -(d.length + 1));
      return { bucket, key: path === '' ? undefined : decode(path) };
    }
  }
  if (path === '') return { bucket: undefined, key: undefined };
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: decode(path), key: undefined };
  const key = path.slice(slash + 1);
  return { bucket: decode(path.slice(0, slash)), key: key === '' ? undefined : decode(key) };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new AwsError(S3Errors.InvalidArgument, 'The request path is not validly percent-encoded.');
  }
}

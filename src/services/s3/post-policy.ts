import { AwsError } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';

/**
 * The conditions of a POST Object policy: every form field (but the signature's own and x-ignore-*) must
 * be allowed by a condition, and every condition must hold; the policy must not have expired.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 * Returns the content-length-range to enforce on the file.
 */
const NOT_CHECKED = new Set(['policy', 'x-amz-signature', 'file', 'x-amz-security-token']);

/**
 * Fields whose values are secrets (the SSE-C key): a failed condition on one is reported by operator and
 * field only, so that the key reaches neither the answer nor the audit record's error message.
 */
const SECRET_FIELDS = new Set(['x-amz-server-side-encryption-customer-key', 'x-amz-copy-source-server-side-encryption-customer-key']);

/** A condition as an error message shows it: `["op", "$field", value]`, the value left out for a secret field. */
function shown(op: string, field: string, expected: unknown): string {
  const head = `[${JSON.stringify(op)}, ${JSON.stringify(`$${field}`)}`;
  return SECRET_FIELDS.has(field.toLowerCase()) ? `${head}]` : `${head}, ${JSON.stringify(expected)}]`.slice(0, 200);
}

export function checkPostPolicy(policyB64: string, fields: ReadonlyMap<string, string>, bucket: string, now: number): { min: number; max: number } {
  let policy: { expiration?: unknown; conditions?: unknown };
  try {
    policy = JSON.parse(Buffer.from(policyB64, 'base64').toString('utf8'));
  } catch {
    throw invalid('Invalid Policy: Invalid JSON.');
  }
  if (typeof policy.expiration !== 'string' || Number.isNaN(Date.parse(policy.expiration))) throw invalid('Invalid Policy: Invalid \'expiration\' value.');
  if (Date.parse(policy.expiration) < now) throw new AwsError(S3Errors.AccessDenied, 'Invalid according to Policy: Policy expired.');
  if (!Array.isArray(policy.conditions)) throw invalid('Invalid Policy: Invalid \'conditions\' value.');
  const value = (name: string) => (name === 'bucket' ? bucket : fields.get(name));
  const covered = new Set<string>();
  let range = { min: 0, max: Number.MAX_SAFE_INTEGER };
  for (const c of policy.conditions as unknown[]) {
    if (Array.isArray(c)) {
      const [op, a, b] = c as unknown[];
      const opName = String(op).toLowerCase();
      if (opName === 'content-length-range') {
        const min = Number(a);
        const max = Number(b);
        if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || max < min) throw invalid('Invalid Policy: Invalid content-length-range.');
        range = { min, max };
        continue;
      }
      if (typeof a !== 'string' || !a.startsWith('$') || typeof b !== 'string') {
        const secret = typeof a === 'string' && SECRET_FIELDS.has(a.slice(1).toLowerCase());
        throw invalid(`Invalid Policy: Invalid Condition${secret ? '' : ` ${JSON.stringify(c).slice(0, 100)}`}`);
      }
      const name = a.slice(1).toLowerCase();
      covered.add(name);
      const actual = value(name) ?? '';
      if (opName === 'eq' ? actual !== b : opName === 'starts-with' ? !actual.startsWith(b) : true) {
        if (opName !== 'eq' && opName !== 'starts-with') throw invalid(`Invalid Policy: Invalid Condition operator ${String(op).slice(0, 32)}`);
        throw denied(`Policy Condition failed: ${shown(String(op), a.slice(1), b)}`);
      }
    } else if (c !== null && typeof c === 'object') {
      for (const [k, v] of Object.entries(c as Record<string, unknown>)) {
        const name = k.toLowerCase();
        covered.add(name);
        if (value(name) !== String(v)) throw denied(`Policy Condition failed: ${shown('eq', k, v)}`);
      }
    } else {
      throw invalid('Invalid Policy: Invalid Condition.');
    }
  }
  for (const name of fields.keys()) {
    if (NOT_CHECKED.has(name) || name.startsWith('x-ignore-')) continue;
    if (!covered.has(name)) throw denied(`Invalid according to Policy: Extra input fields: ${name}`);
  }
  return range;
}

const invalid = (message: string) => new AwsError(S3Errors.InvalidPolicyDocument, message);
const denied = (message: string) => new AwsError(S3Errors.AccessDenied, `Invalid according to Policy: ${message}`);

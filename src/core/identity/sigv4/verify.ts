import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SecretBytes } from '../../crypto/secret-bytes.js';
import { Principal } from '../principal.js';
import { SignableRequest, canonicalRequest, headerMap, sha256Hex } from './canonical-request.js';

/**
 * AWS Signature Version 4 verification, header form and query-string (presigned) form.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 * The verifier recomputes the signature from the request as received and compares in constant time.
 */
export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS accepts requests whose timestamp is within 15 minutes of its clock. */
export const MAX_SKEW_MS = 15 * 60 * 1000;
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const MAX_PRESIGN_EXPIRES_S = 7 * 24 * 3600;

/** Why authentication failed; each protocol maps a kind to its own wire error. */
export type SigV4FailureKind =
  | 'missing' // no signature at all
  | 'incomplete' // malformed Authorization header or presign parameters
  | 'unknown-key' // access key id not known
  | 'inactive-key'
  | 'mismatch' // signature does not match
  | 'expired' // outside the clock-skew window, or presigned URL expired
  | 'scope' // credential scope names a region or service this server does not serve here
  | 'payload-hash' // x-amz-content-sha256 does not match the body
  | 'unsigned-headers' // a header the protocol acts on is present but not signed
  | 'expired-token'; // the session token (STS temporary credentials) has expired

export class SigV4Error extends Error {
  constructor(
    readonly kind: SigV4FailureKind,
    message: string,
    /** 'unsigned-headers': the names (lower case, sorted) present but not signed. */
    readonly unsignedHeaders: readonly string[] = [],
  ) {
    super(message);
    this.name = 'SigV4Error';
  }
}

export interface Credential {
  readonly secret: SecretBytes;
  readonly principal: Principal;
  readonly active: boolean;
  /** Derived signing keys by scope ("date/region/service"); owned by the credential cache. */
  readonly signingKeys: Map<string, Buffer>;
  /**
   * Temporary (STS) credentials only: the SHA-256 of the session token the request must carry
   * (X-Amz-Security-Token), and when the session expires (epoch ms, domain clock).
   */
  readonly session?: { readonly tokenSha256: Buffer; readonly expiresAt: number };
}

export interface VerifyOptions {
  /** S3 signs the path encoded once and allows UNSIGNED-PAYLOAD / streaming payload hashes. */
  readonly s3: boolean;
  /** Wall-clock now, in ms. */
  readonly now: number;
  /** Returns the SHA-256 hex of the body as received. */
  readonly bodySha256: () => string;
  readonly lookup: (accessKeyId: string) => Promise<Credential | undefined>;
  /** Checks the region and service of the credential scope; throws SigV4Error('scope') when not served. */
  readonly checkScope: (region: string, service: string) => void;
  /** Domain-clock now, in ms, for session expiry (tests move it); defaults to `now`. */
  readonly sessionNow?: number;
  /**
   * The headers (lower-case name) the protocol acts on, which must therefore be signed when present: a
   * header outside the signature could be added or changed by anyone replaying the request.
   */
  readonly mustSign?: (name: string) => boolean;
  /**
   * An operation modelled with `unsignedPayload` (EBS's PutSnapshotBlock: its body is covered by its own
   * x-amz-Checksum header instead): with `x-amz-content-sha256: UNSIGNED-PAYLOAD` the canonical request's
   * payload hash is that string (botocore over https) or the body's SHA-256 (botocore over http, which keeps
   * the header but signs the body).
   */
  readonly unsignedPayload?: boolean;
}

export interface Verified {
  readonly principal: Principal;
  readonly region: string;
  readonly service: string;
  readonly presigned: boolean;
  /** The payload hash the client signed (S3 needs it to tell streaming uploads apart). */
  readonly payloadHash: string;
  readonly signature: string;
  readonly signingKey: Buffer;
  readonly amzDate: string;
}

interface Parsed {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  presigned: boolean;
  expiresS?: number;
  /** X-Amz-Security-Token: the session token of temporary credentials. */
  securityToken?: string;
  /** Presigned: X-Amz-Content-Sha256 of the query (SDKs that hoist the header put it there). */
  contentSha256?: string;
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The options of the checks made before the body is read: all of VerifyOptions but the body's hash. */
export type PrecheckOptions = Omit<VerifyOptions, 'bodySha256'>;

/**
 * A request whose signature has passed every check that does not need the body (scheme, parameters, date
 * and skew, scope, must-sign headers, the key and its session token): `finish` with the body completes it.
 */
export interface PendingSigV4 {
  finish(bodySha256: () => string): Verified;
}

export async function verifySigV4(req: SignableRequest, opts: VerifyOptions): Promise<Verified> {
  return (await precheckSigV4(req, opts)).finish(opts.bodySha256);
}

/**
 * Everything SigV4 can check without the body, so that a request that will be refused is refused before
 * its body is read (and buffered): https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html
 * lists the same failures; none of them depend on the payload.
 */
export async function precheckSigV4(req: SignableRequest, opts: PrecheckOptions): Promise<PendingSigV4> {
  const headers = headerMap(req.rawHeaders);
  const parsed = req.rawQuery.includes('X-Amz-Algorithm=') ? parsePresigned(new URLSearchParams(req.rawQuery)) : parseHeader(headers);

  const signedAt = parseAmzDate(parsed.amzDate);
  if (parsed.presigned) {
    if (opts.now < signedAt - MAX_SKEW_MS) throw new SigV4Error('expired', 'Request is not yet valid');
    if (opts.now > signedAt + parsed.expiresS! * 1000) throw new SigV4Error('expired', 'Request has expired');
  } else if (Math.abs(opts.now - signedAt) > MAX_SKEW_MS) {
    const now = formatAmzDate(opts.now);
    throw new SigV4Error(
      'expired',
      signedAt < opts.now
        ? `Signature expired: ${parsed.amzDate} is now earlier than ${formatAmzDate(opts.now - MAX_SKEW_MS)} (${now} - 15 min.)`
        : `Signature not yet current: ${parsed.amzDate} is still later than ${formatAmzDate(opts.now + MAX_SKEW_MS)} (${now} + 15 min.)`,
    );
  }
  if (parsed.date !== parsed.amzDate.slice(0, 8)) {
    throw new SigV4Error(
      'mismatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.date}' != '${parsed.amzDate.slice(0, 8)}'`,
    );
  }
  opts.checkScope(parsed.region, parsed.service);
  if (opts.mustSign) checkSignedHeaders(headers, parsed.signedHeaders, opts.mustSign, opts.s3);

  const credential = await opts.lookup(parsed.accessKeyId);
  if (!credential) throw new SigV4Error('unknown-key', 'The security token included in the request is invalid.');
  if (!credential.active) throw new SigV4Error('inactive-key', 'The security token included in the request is invalid.');
  checkSessionToken(credential, parsed.securityToken ?? headers.get('x-amz-security-token'), opts.sessionNow ?? opts.now);
  return { finish: (bodySha256) => finishSigV4(req, headers, parsed, credential, opts.s3, bodySha256, opts.unsignedPayload === true) };
}

/** The checks that need the body: its hash against x-amz-content-sha256, then the signature itself. */
function finishSigV4(req: SignableRequest, headers: Map<string, string>, parsed: Parsed, credential: Credential, s3: boolean, bodySha256: () => string, unsignedPayload = false): Verified {
  let payloadHash: string;
  const claimedUnsigned = headers.get('x-amz-content-sha256')?.trim() === UNSIGNED_PAYLOAD;
  if (unsignedPayload && claimedUnsigned && !parsed.presigned) {
    try {
      return signatureOver(req, headers, parsed, credential, s3, UNSIGNED_PAYLOAD);
    } catch (err) {
      if (!(err instanceof SigV4Error) || err.kind !== 'mismatch') throw err;
      return signatureOver(req, headers, parsed, credential, s3, bodySha256());
    }
  }
  if (parsed.presigned && s3) {
    // S3 presigned URLs sign UNSIGNED-PAYLOAD unless the client put a hash in the header (or the query).
    payloadHash = headers.get('x-amz-content-sha256')?.trim() ?? parsed.contentSha256 ?? UNSIGNED_PAYLOAD;
  } else {
    const claimed = headers.get('x-amz-content-sha256')?.trim();
    if (claimed !== undefined && s3 && (claimed === UNSIGNED_PAYLOAD || claimed.startsWith('STREAMING-'))) {
      payloadHash = claimed;
    } else {
      const actual = bodySha256();
      if (claimed !== undefined && claimed !== actual) {
        throw new SigV4Error('payload-hash', "The provided 'x-amz-content-sha256' header does not match what was computed.");
      }
      payloadHash = actual;
    }
  }
  return signatureOver(req, headers, parsed, credential, s3, payloadHash);
}

/** Checks the signature over the canonical request with `payloadHash` (SigV4Error 'mismatch' when it differs). */
function signatureOver(req: SignableRequest, headers: Map<string, string>, parsed: Parsed, credential: Credential, s3: boolean, payloadHash: string): Verified {
  const canonical = canonicalRequest(req, headers, parsed.signedHeaders, payloadHash, {
    s3: s3,
    ...(parsed.presigned ? { excludeQuery: 'X-Amz-Signature' } : {}),
  });
  const scope = `${parsed.date}/${parsed.region}/${parsed.service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${parsed.amzDate}\n${scope}\n${sha256Hex(canonical)}`;
  const signingKey = deriveSigningKey(credential, parsed.date, parsed.region, parsed.service);
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest();
  const given = Buffer.from(parsed.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SigV4Error(
      'mismatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  return {
    principal: credential.principal,
    region: parsed.region,
    service: parsed.service,
    presigned: parsed.presigned,
    payloadHash,
    signature: parsed.signature,
    signingKey,
    amzDate: parsed.amzDate,
  };
}

/**
 * Every header present that the protocol acts on must be among the signed ones. S3 words it as
 * "There were headers present in the request which were not signed" (AccessDenied, with the names in
 * <HeadersNotSigned>); the other services as an incomplete signature naming the header.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html ("Any x-amz-* headers that
 * you plan to include in your request must also be added")
 */
function checkSignedHeaders(headers: Map<string, string>, signed: readonly string[], mustSign: (name: string) => boolean, s3: boolean): void {
  let unsigned: string[] | undefined;
  for (const name of headers.keys()) {
    if (mustSign(name) && !signed.includes(name)) (unsigned ??= []).push(name);
  }
  if (unsigned === undefined) return;
  unsigned.sort();
  throw new SigV4Error(
    'unsigned-headers',
    s3 ? 'There were headers present in the request which were not signed' : unsigned.map((h) => `'${h}' must be a 'SignedHeader' in the AWS Authorization.`).join(' '),
    unsigned,
  );
}

/**
 * Temporary credentials are only valid with their session token, and only until they expire; a long-term
 * key never carries one. https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html
 * The token is compared by its SHA-256 in constant time (the store keeps only the hash).
 */
export function checkSessionToken(credential: Credential, token: string | undefined, now: number): void {
  const invalid = () => new SigV4Error('unknown-key', 'The security token included in the request is invalid.');
  if (!credential.session) {
    if (token !== undefined) throw invalid();
    return;
  }
  if (token === undefined) throw invalid();
  const given = createHash('sha256').update(token.trim(), 'utf8').digest();
  const expected = credential.session.tokenSha256;
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  if (now >= credential.session.expiresAt) throw new SigV4Error('expired-token', 'The security token included in the request is expired');
}

export function deriveSigningKey(credential: Credential, date: string, region: string, service: string): Buffer {
  const scope = `${date}/${region}/${service}`;
  let key = credential.signingKeys.get(scope);
  if (!key) {
    const kDate = createHmac('sha256', Buffer.concat([Buffer.from('AWS4'), credential.secret.reveal()])).update(date).digest();
    const kRegion = createHmac('sha256', kDate).update(region).digest();
    const kService = createHmac('sha256', kRegion).update(service).digest();
    key = createHmac('sha256', kService).update('aws4_request').digest();
    if (credential.signingKeys.size > 64) credential.signingKeys.clear();
    credential.signingKeys.set(scope, key);
  }
  return key;
}

function parseHeader(headers: Map<string, string>): Parsed {
  const auth = headers.get('authorization')?.trim();
  if (auth === undefined || auth === '') throw new SigV4Error('missing', 'Missing Authentication Token');
  const space = auth.indexOf(' ');
  const algorithm = space < 0 ? auth : auth.slice(0, space);
  if (algorithm !== ALGORITHM) throw new SigV4Error('incomplete', `Unsupported AWS 'algorithm': '${algorithm}'`);
  const fields = new Map<string, string>();
  for (const part of auth.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((f) => !fields.get(f));
  const amzDate = headers.get('x-amz-date')?.trim() ?? '';
  if (missing.length > 0 || amzDate === '') {
    const msgs = missing.map((f) => `Authorization header requires '${f}' parameter.`);
    if (amzDate === '') msgs.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    throw new SigV4Error('incomplete', `${msgs.join(' ')} Authorization=${algorithm}`);
  }
  // Not `{ ...parseCredential(…), signedHeaders, … }`: an object spread followed by more members is a slow
  // path of V8 11 (Node 20), ~1.5 µs on the bench machine, on every signed request.
  const { accessKeyId, date, region, service } = parseCredential(fields.get('Credential')!);
  return {
    accessKeyId,
    date,
    region,
    service,
    signedHeaders: parseSignedHeaders(fields.get('SignedHeaders')!),
    signature: parseSignature(fields.get('Signature')!),
    amzDate,
    presigned: false,
  };
}

function parsePresigned(query: URLSearchParams): Parsed {
  const get = (name: string): string => {
    const v = query.get(name);
    if (!v) throw new SigV4Error('incomplete', `Query-string authentication requires the ${name} parameter`);
    return v;
  };
  const algorithm = get('X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) throw new SigV4Error('incomplete', `Unsupported AWS 'algorithm': '${algorithm}'`);
  const expires = Number(get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_EXPIRES_S) {
    throw new SigV4Error('incomplete', 'X-Amz-Expires must be between 1 and 604800 seconds');
  }
  return {
    ...parseCredential(get('X-Amz-Credential')),
    signedHeaders: parseSignedHeaders(get('X-Amz-SignedHeaders')),
    signature: parseSignature(get('X-Amz-Signature')),
    amzDate: get('X-Amz-Date'),
    presigned: true,
    expiresS: expires,
    ...(query.get('X-Amz-Security-Token') !== null ? { securityToken: query.get('X-Amz-Security-Token')! } : {}),
    ...(query.get('X-Amz-Content-Sha256') ? { contentSha256: query.get('X-Amz-Content-Sha256')! } : {}),
  };
}

export function parseCredential(value: string): Pick<Parsed, 'accessKeyId' | 'date' | 'region' | 'service'> {
  const parts = value.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]!) || parts.some((p) => p === '')) {
    throw new SigV4Error(
      'incomplete',
      `Credential should be scoped to a valid region, a service and 'aws4_request' in the form <key>/<date>/<region>/<service>/aws4_request.`,
    );
  }
  return { accessKeyId: parts[0]!, date: parts[1]!, region: parts[2]!, service: parts[3]! };
}

function parseSignedHeaders(value: string): string[] {
  const list = value.split(';');
  if (!list.includes('host')) {
    throw new SigV4Error('incomplete', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (list.some((h) => h === '' || h !== h.toLowerCase())) throw new SigV4Error('incomplete', 'SignedHeaders is malformed.');
  return list;
}

function parseSignature(value: string): string {
  if (!/^[0-9a-f]{64}$/.test(value)) throw new SigV4Error('mismatch', 'The request signature is malformed.');
  return value;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * X-Amz-Date (header, presigned URL, POST form) as ms since the epoch. Only a real instant is accepted:
 * Date.UTC would roll hour 82 or day 32 over into a later day, letting a day-scoped signing key sign for
 * days after its date, so each field is range-checked (no leap second: AWS's clocks do not show one).
 */
export function parseAmzDate(value: string): number {
  const m = AMZ_DATE.exec(value);
  if (m) {
    const [y, mo, d, h, mi, s] = [+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!];
    const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
    if (y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && d <= DAYS_IN_MONTH[mo - 1]! + (leap ? 1 : 0) && h <= 23 && mi <= 59 && s <= 59) {
      return Date.UTC(y, mo - 1, d, h, mi, s);
    }
  }
  throw new SigV4Error('incomplete', `X-Amz-Date must be a valid date in ISO 8601 basic format (YYYYMMDD'T'HHMMSS'Z'), got '${value.slice(0, 32)}'`);
}

export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

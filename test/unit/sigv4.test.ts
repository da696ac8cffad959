/**
 * verifySigV4 against requests signed by the real AWS signer (@smithy/signature-v4, the one every
 * AWS SDK for JavaScript v3 client uses). Each signed request is turned into exactly what node:http hands
 * the server: the method, the path as the SDK put it on the wire (percent-encoded once), the query string
 * the SDK's node handler builds, and `rawHeaders` as a flat name/value array with the surrounding
 * whitespace node's parser strips.
 */
import { buildQueryString, HttpRequest } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { SecretBytes } from '../../src/core/crypto/secret-bytes.js';
import { SignableRequest, sha256Hex } from '../../src/core/identity/sigv4/canonical-request.js';
import {
  Credential, MAX_SKEW_MS, SigV4Error, SigV4FailureKind, UNSIGNED_PAYLOAD, Verified, VerifyOptions, parseAmzDate, verifySigV4,
} from '../../src/core/identity/sigv4/verify.js';

const Sha256 = Hash.bind(null, 'sha256');

const ACCESS_KEY = 'AKIDEXAMPLE000000001';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const INACTIVE_KEY = 'AKIDINACTIVE00000001';
const ACCOUNT = '111122223333';
/** 2024-05-17T12:00:00Z: far from midnight, so ±15 minutes stays on the same scope date. */
const NOW = Date.UTC(2024, 4, 17, 12, 0, 0);
const SERVED_REGIONS = new Set(['us-east-1', 'eu-west-1']);
const MIN = 60_000;
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

function credential(secret: string, active: boolean): Credential {
  return {
    secret: SecretBytes.adopt(Buffer.from(secret, 'utf8')),
    principal: { type: 'Root', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, principalId: ACCOUNT, accessKeyId: ACCESS_KEY },
    active,
    signingKeys: new Map(),
  };
}
const CREDENTIALS = new Map<string, Credential>([
  [ACCESS_KEY, credential(SECRET, true)],
  [INACTIVE_KEY, credential(SECRET, false)],
]);

interface RequestSpec {
  method?: string;
  /** The path as the SDK sends it (already percent-encoded once). */
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

interface SignerOptions {
  accessKeyId?: string;
  secret?: string;
  region?: string;
  service?: string;
  /** S3 signing: the path is signed as sent (no second encoding). */
  s3?: boolean;
  /** Whether the signer adds x-amz-content-sha256 (the SDK does for every service). */
  applyChecksum?: boolean;
  signingDate?: number;
}

interface Signed {
  readonly wire: SignableRequest;
  readonly body: Buffer;
}

function signerFor(opts: SignerOptions): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: opts.accessKeyId ?? ACCESS_KEY, secretAccessKey: opts.secret ?? SECRET },
    region: opts.region ?? 'us-east-1',
    service: opts.service ?? 'kms',
    sha256: Sha256,
    uriEscapePath: !opts.s3,
    applyChecksum: opts.applyChecksum ?? true,
  });
}

function httpRequest(spec: RequestSpec): HttpRequest {
  const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
  return new HttpRequest({
    method: spec.method ?? 'POST',
    protocol: 'https:',
    hostname: 'kms.us-east-1.amazonaws.com',
    path: spec.path ?? '/',
    query: spec.query ?? {},
    headers: {
      host: 'kms.us-east-1.amazonaws.com',
      ...(body !== undefined ? { 'content-length': String(body.length) } : {}),
      ...spec.headers,
    },
    ...(body !== undefined ? { body } : {}),
  });
}

/** What node:http gives the server for a request the SDK's node handler sends. */
function onTheWire(req: { method: string; path: string; query?: Record<string, unknown>; headers: Record<string, string> }): SignableRequest {
  const rawHeaders: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) rawHeaders.push(name, value.replace(/^[ \t]+|[ \t]+$/g, ''));
  const rawQuery = buildQueryString((req.query ?? {}) as Record<string, string | string[]>);
  return { method: req.method, rawPath: req.path, rawQuery, rawHeaders };
}

async function sign(spec: RequestSpec, opts: SignerOptions = {}): Promise<Signed> {
  const req = httpRequest(spec);
  const signed = await signerFor(opts).sign(req, { signingDate: new Date(opts.signingDate ?? NOW) });
  return { wire: onTheWire(signed), body: Buffer.from(spec.body ?? '') };
}

async function presign(spec: RequestSpec, expiresIn: number, opts: SignerOptions = {}): Promise<Signed> {
  const req = httpRequest(spec);
  const signed = await signerFor(opts).presign(req, { signingDate: new Date(opts.signingDate ?? NOW), expiresIn });
  return { wire: onTheWire(signed), body: Buffer.from(spec.body ?? '') };
}

function verify(req: SignableRequest, body: Buffer, overrides: Partial<VerifyOptions> = {}): Promise<Verified> {
  return verifySigV4(req, {
    s3: false,
    now: NOW,
    bodySha256: () => sha256Hex(body),
    lookup: async (id) => CREDENTIALS.get(id),
    checkScope: (region, service) => {
      if (service !== (overrides.s3 ? 's3' : 'kms')) throw new SigV4Error('scope', `wrong service ${service}`);
      if (!SERVED_REGIONS.has(region)) throw new SigV4Error('scope', `region ${region} not served`);
    },
    ...overrides,
  });
}

async function failure(p: Promise<unknown>): Promise<SigV4Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SigV4Error, `expected a SigV4Error, got ${String(err)}`);
    return err;
  }
  assert.fail('expected verification to fail, but it succeeded');
}

async function assertKind(p: Promise<unknown>, kind: SigV4FailureKind, what: string): Promise<SigV4Error> {
  const err = await failure(p);
  assert.equal(err.kind, kind, `${what}: expected '${kind}', got '${err.kind}' (${err.message})`);
  return err;
}

// --- editing what arrives on the wire --------------------------------------------------------------

function headerIndex(req: SignableRequest, name: string): number {
  const i = req.rawHeaders.findIndex((h, idx) => idx % 2 === 0 && h.toLowerCase() === name);
  assert.ok(i >= 0, `no ${name} header`);
  return i;
}
function headerValue(req: SignableRequest, name: string): string {
  return req.rawHeaders[headerIndex(req, name) + 1]!;
}
function withHeader(req: SignableRequest, name: string, value: string): SignableRequest {
  const rawHeaders = [...req.rawHeaders];
  rawHeaders[headerIndex(req, name) + 1] = value;
  return { ...req, rawHeaders };
}
function withoutHeader(req: SignableRequest, name: string): SignableRequest {
  const i = headerIndex(req, name);
  const rawHeaders = [...req.rawHeaders];
  rawHeaders.splice(i, 2);
  return { ...req, rawHeaders };
}
function addHeader(req: SignableRequest, name: string, value: string): SignableRequest {
  return { ...req, rawHeaders: [...req.rawHeaders, name, value] };
}
function signedHeaderNames(req: SignableRequest): string[] {
  const m = /SignedHeaders=([^,]+)/.exec(headerValue(req, 'authorization'));
  assert.ok(m);
  return m[1]!.split(';');
}
function editAuthorization(req: SignableRequest, edit: (auth: string) => string): SignableRequest {
  return withHeader(req, 'authorization', edit(headerValue(req, 'authorization')));
}
/** A different value of the same shape (so that only the signature can tell). */
function tweak(value: string): string {
  if (/^\d{8}T\d{6}Z$/.test(value)) return value.slice(0, 14) + ((Number(value[14]) + 1) % 10) + 'Z';
  if (/^[0-9a-f]{64}$/.test(value)) return (value[0] === '0' ? '1' : '0') + value.slice(1);
  if (/^\d+$/.test(value)) return String(Number(value) + 1);
  return value + 'x';
}

const JSON_BODY = JSON.stringify({ KeyId: 'alias/example', Plaintext: Buffer.from('hello').toString('base64') });

/** A range of requests, each as an SDK would put it on the wire. */
const REQUESTS: Record<string, RequestSpec> = {
  'AWS JSON POST with a body': {
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.Encrypt' },
    body: JSON_BODY,
  },
  'POST with a binary body': {
    path: '/upload',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff)),
  },
  'POST with an empty body': { headers: { 'X-Amz-Target': 'TrentService.ListKeys' }, body: '' },
  'GET with spaces in the path': { method: 'GET', path: '/my%20folder/file%20name%20with%20%20two.txt' },
  'GET with a unicode path': { method: 'GET', path: '/%C3%BCber/%E6%97%A5%E6%9C%AC%E8%AA%9E/caf%C3%A9' },
  'GET with %2F inside a segment': { method: 'GET', path: '/a%2Fb/c%2F%2Fd' },
  'GET with reserved characters in the path': { method: 'GET', path: "/x%21%27%28%29%2A~-_.y/%2B%3D%26%3F%23" },
  'GET with a trailing slash': { method: 'GET', path: '/a/b/' },
  'GET with repeated and unsorted query parameters': {
    method: 'GET',
    path: '/list',
    query: { zeta: 'last', alpha: ['2', '10', '1', '1'], Beta: 'B', empty: '', 'sp ace': 'a b+c/d=e&f', 'ü': 'ö€', tilde: '~x' },
  },
  'PUT with extra headers holding runs of spaces': {
    method: 'PUT',
    path: '/object',
    headers: {
      'X-Amz-Meta-Spaces': '  several   spaces\t\tand  tabs  ',
      'x-amz-meta-empty': '',
      'X-Custom-Header': 'a,  b ,c',
      'content-type': 'text/plain;   charset=utf-8',
    },
    body: 'some text body',
  },
  'DELETE with a query and no body': { method: 'DELETE', path: '/resource/42', query: { force: 'true', 'x-id': 'Delete' } },
};

describe('verifySigV4 with requests signed by @smithy/signature-v4 (header form)', () => {
  for (const [name, spec] of Object.entries(REQUESTS)) {
    it(`verifies: ${name}`, async () => {
      const { wire, body } = await sign(spec);
      const v = await verify(wire, body);
      assert.equal(v.principal.accessKeyId, ACCESS_KEY);
      assert.equal(v.region, 'us-east-1');
      assert.equal(v.service, 'kms');
      assert.equal(v.presigned, false);
      assert.equal(v.payloadHash, sha256Hex(body));
      assert.equal(v.amzDate, '20240517T120000Z');
      // Without x-amz-content-sha256 (applyChecksum off) the body hash is computed by the verifier.
      const bare = await sign(spec, { applyChecksum: false });
      assert.equal(bare.wire.rawHeaders.some((h) => h.toLowerCase() === 'x-amz-content-sha256'), false);
      await verify(bare.wire, bare.body);
    });
  }

  it('verifies for every served region and reports the region signed for', async () => {
    for (const region of SERVED_REGIONS) {
      const { wire, body } = await sign(REQUESTS['AWS JSON POST with a body']!, { region });
      assert.equal((await verify(wire, body)).region, region);
    }
  });

  it('verifies whatever order the query parameters arrive in', async () => {
    const { wire, body } = await sign(REQUESTS['GET with repeated and unsorted query parameters']!);
    const reversed = { ...wire, rawQuery: wire.rawQuery.split('&').reverse().join('&') };
    assert.notEqual(reversed.rawQuery, wire.rawQuery);
    await verify(reversed, body);
  });

  it('verifies when the header names arrive in another case and order', async () => {
    const { wire, body } = await sign(REQUESTS['PUT with extra headers holding runs of spaces']!);
    const pairs: [string, string][] = [];
    for (let i = 0; i < wire.rawHeaders.length; i += 2) pairs.push([wire.rawHeaders[i]!.toUpperCase(), wire.rawHeaders[i + 1]!]);
    await verify({ ...wire, rawHeaders: pairs.reverse().flat() }, body);
  });

  it('verifies a header sent twice against the comma-joined value that was signed', async () => {
    const { wire, body } = await sign({ method: 'GET', path: '/', headers: { 'x-amz-meta-list': 'a,b' } });
    const split = addHeader(withoutHeader(wire, 'x-amz-meta-list'), 'X-Amz-Meta-List', 'a');
    await verify(addHeader(split, 'x-amz-meta-list', 'b'), body);
  });

  it('ignores headers that were not signed (user-agent, connection, a proxy header)', async () => {
    const { wire, body } = await sign({ ...REQUESTS['AWS JSON POST with a body']!, headers: { ...REQUESTS['AWS JSON POST with a body']!.headers, 'User-Agent': 'aws-sdk-js/3' } });
    assert.equal(signedHeaderNames(wire).includes('user-agent'), false);
    let edited = withHeader(wire, 'user-agent', 'something else entirely');
    edited = addHeader(addHeader(edited, 'Connection', 'keep-alive'), 'X-Forwarded-For', '10.0.0.1');
    await verify(edited, body);
  });

  it('accepts timestamps up to 15 minutes either side of the clock', async () => {
    for (const skew of [-MAX_SKEW_MS, -14 * MIN, -1000, 1000, 14 * MIN, MAX_SKEW_MS]) {
      const { wire, body } = await sign(REQUESTS['AWS JSON POST with a body']!, { signingDate: NOW + skew });
      await verify(wire, body);
    }
  });
});

describe('verifySigV4 rejects anything that was changed after signing', () => {
  const base = REQUESTS['PUT with extra headers holding runs of spaces']!;

  it("changing the value of any signed header gives 'mismatch' (x-amz-content-sha256: 'payload-hash')", async () => {
    for (const spec of [base, REQUESTS['AWS JSON POST with a body']!]) {
      const { wire, body } = await sign(spec);
      const names = signedHeaderNames(wire);
      assert.ok(names.length >= 5, `signed: ${names.join(';')}`);
      for (const name of names) {
        const edited = withHeader(wire, name, tweak(headerValue(wire, name)));
        await assertKind(verify(edited, body), name === 'x-amz-content-sha256' ? 'payload-hash' : 'mismatch', `changed ${name}`);
      }
    }
  });

  it("removing a signed header, or sending it twice, gives 'mismatch'", async () => {
    const { wire, body } = await sign(base);
    const removable = signedHeaderNames(wire).filter((n) => n !== 'x-amz-date' && n !== 'x-amz-content-sha256' && headerValue(wire, n) !== '');
    assert.ok(removable.length >= 4);
    for (const name of removable) {
      await assertKind(verify(withoutHeader(wire, name), body), 'mismatch', `removed ${name}`);
      await assertKind(verify(addHeader(wire, name, 'again'), body), 'mismatch', `repeated ${name}`);
    }
  });

  it("changing the body gives 'payload-hash' when x-amz-content-sha256 was sent, 'mismatch' when not", async () => {
    for (const spec of [base, REQUESTS['AWS JSON POST with a body']!, REQUESTS['POST with a binary body']!]) {
      const withHash = await sign(spec);
      const without = await sign(spec, { applyChecksum: false });
      const changed: Buffer[] = [
        Buffer.concat([withHash.body, Buffer.from(' ')]),
        withHash.body.subarray(0, withHash.body.length - 1),
        Buffer.alloc(0),
      ];
      const flipped = Buffer.from(withHash.body);
      flipped[flipped.length >> 1]! ^= 0x01;
      changed.push(flipped);
      for (const b of changed) {
        await assertKind(verify(withHash.wire, b), 'payload-hash', 'body changed, hash header present');
        await assertKind(verify(without.wire, b), 'mismatch', 'body changed, no hash header');
      }
    }
  });

  it("changing the method or the path gives 'mismatch'", async () => {
    for (const spec of [base, REQUESTS['GET with spaces in the path']!, REQUESTS['GET with a unicode path']!, REQUESTS['GET with %2F inside a segment']!]) {
      const { wire, body } = await sign(spec);
      await assertKind(verify({ ...wire, method: wire.method === 'GET' ? 'HEAD' : 'POST' }, body), 'mismatch', 'method');
      for (const rawPath of [wire.rawPath + 'x', wire.rawPath.toLowerCase() === wire.rawPath ? wire.rawPath.toUpperCase() : wire.rawPath.toLowerCase(), '/', wire.rawPath + '/x']) {
        if (rawPath === wire.rawPath) continue;
        await assertKind(verify({ ...wire, rawPath }, body), 'mismatch', `path ${rawPath}`);
      }
    }
    // '%2F' inside a segment is not the same as a '/'.
    const { wire, body } = await sign(REQUESTS['GET with %2F inside a segment']!);
    await assertKind(verify({ ...wire, rawPath: '/a/b/c%2F%2Fd' }, body), 'mismatch', 'decoded %2F');
  });

  it("changing, adding or removing a query parameter gives 'mismatch'", async () => {
    const { wire, body } = await sign(REQUESTS['GET with repeated and unsorted query parameters']!);
    const parts = wire.rawQuery.split('&');
    const variants = [
      parts.slice(1).join('&'),
      [...parts, 'extra=1'].join('&'),
      parts.map((p) => (p.startsWith('zeta=') ? 'zeta=LAST' : p)).join('&'),
      parts.map((p) => (p === 'alpha=10' ? 'alpha=11' : p)).join('&'),
      [...parts, 'alpha=1'].join('&'),
      '',
    ];
    for (const rawQuery of variants) await assertKind(verify({ ...wire, rawQuery }, body), 'mismatch', `query ${rawQuery}`);
    const none = await sign({ method: 'GET', path: '/list' });
    await assertKind(verify({ ...none.wire, rawQuery: 'a=1' }, none.body), 'mismatch', 'query added to a request without one');
  });

  it("changing the date gives 'mismatch', whether in X-Amz-Date or in the credential scope", async () => {
    const { wire, body } = await sign(base);
    await assertKind(verify(withHeader(wire, 'x-amz-date', '20240517T120001Z'), body), 'mismatch', 'X-Amz-Date +1 s');
    await assertKind(verify(withHeader(wire, 'x-amz-date', '20240517T115500Z'), body), 'mismatch', 'X-Amz-Date -5 min');
    const scope = await assertKind(
      verify(editAuthorization(wire, (a) => a.replace('/20240517/', '/20240518/')), body),
      'mismatch',
      'scope date',
    );
    assert.match(scope.message, /Date in Credential scope does not match/);
    // Signed yesterday, the scope and X-Amz-Date both edited to today: the signature still tells.
    const yesterday = await sign(base, { signingDate: NOW - 24 * 3600_000 });
    const moved = editAuthorization(withHeader(yesterday.wire, 'x-amz-date', '20240517T120000Z'), (a) => a.replace('/20240516/', '/20240517/'));
    await assertKind(verify(moved, yesterday.body), 'mismatch', 'moved a day forward');
  });

  it("changing the region or the service of the credential scope gives 'mismatch' ('scope' when not served)", async () => {
    const { wire, body } = await sign(base);
    await assertKind(verify(editAuthorization(wire, (a) => a.replace('/us-east-1/', '/eu-west-1/')), body), 'mismatch', 'region edited');
    await assertKind(verify(editAuthorization(wire, (a) => a.replace('/us-east-1/', '/ap-south-1/')), body), 'scope', 'unserved region');
    await assertKind(verify(editAuthorization(wire, (a) => a.replace('/kms/', '/sts/')), body), 'scope', 'other service');
    const other = await sign(base, { region: 'ap-south-1' });
    await assertKind(verify(other.wire, other.body), 'scope', 'signed for an unserved region');
    const s3 = await sign(base, { service: 's3' });
    await assertKind(verify(s3.wire, s3.body), 'scope', 'signed for another service');
  });

  it("a wrong secret gives 'mismatch', as does editing the signature or the signed-header list", async () => {
    for (const secret of ['wrong-secret', SECRET.slice(0, -1), SECRET + 'x', SECRET.toLowerCase()]) {
      const { wire, body } = await sign(base, { secret });
      await assertKind(verify(wire, body), 'mismatch', `secret ${secret}`);
    }
    const { wire, body } = await sign(base);
    await assertKind(verify(editAuthorization(wire, (a) => a.replace(/Signature=([0-9a-f])/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`)), body), 'mismatch', 'signature digit');
    const names = signedHeaderNames(wire);
    const fewer = names.filter((n) => n !== 'x-amz-meta-spaces').join(';');
    await assertKind(verify(editAuthorization(wire, (a) => a.replace(names.join(';'), fewer)), body), 'mismatch', 'fewer signed headers');
    const malformed = await failure(verify(editAuthorization(wire, (a) => a.replace(/Signature=[0-9a-f]+/, 'Signature=xyz')), body));
    assert.ok(malformed.kind === 'mismatch' || malformed.kind === 'incomplete', malformed.kind);
  });

  it("timestamps more than 15 minutes from the clock give 'expired'", async () => {
    for (const skew of [-MAX_SKEW_MS - 1000, -16 * MIN, -24 * 60 * MIN, MAX_SKEW_MS + 1000, 16 * MIN, 365 * 24 * 60 * MIN]) {
      const { wire, body } = await sign(base, { signingDate: NOW + skew });
      const err = await assertKind(verify(wire, body), 'expired', `skew ${skew / 1000} s`);
      assert.match(err.message, skew < 0 ? /Signature expired/ : /Signature not yet current/);
    }
    // The same request, valid now, is expired when the verifier's clock moves on.
    const { wire, body } = await sign(base);
    await verify(wire, body, { now: NOW + 10 * MIN });
    await assertKind(verify(wire, body, { now: NOW + 20 * MIN }), 'expired', 'clock moved on');
  });

  it("an unknown access key gives 'unknown-key'; an inactive one 'inactive-key'", async () => {
    const unknown = await sign(base, { accessKeyId: 'AKIAUNKNOWN000000000' });
    await assertKind(verify(unknown.wire, unknown.body), 'unknown-key', 'unknown key');
    const inactive = await sign(base, { accessKeyId: INACTIVE_KEY });
    await assertKind(verify(inactive.wire, inactive.body), 'inactive-key', 'inactive key');
  });

  it("no Authorization header gives 'missing'", async () => {
    const { wire, body } = await sign(base);
    await assertKind(verify(withoutHeader(wire, 'authorization'), body), 'missing', 'no Authorization');
    await assertKind(verify(withHeader(wire, 'authorization', ''), body), 'missing', 'empty Authorization');
    await assertKind(verify({ method: 'GET', rawPath: '/', rawQuery: '', rawHeaders: ['Host', 'localhost'] }, Buffer.alloc(0)), 'missing', 'bare request');
  });

  it("a malformed Authorization header (or X-Amz-Date) gives 'incomplete'", async () => {
    const { wire, body } = await sign(base);
    const auth = headerValue(wire, 'authorization');
    const names = signedHeaderNames(wire).join(';');
    const malformed = [
      'AWS4-HMAC-SHA256',
      'AWS4-HMAC-SHA256 ',
      'Bearer abc.def.ghi',
      'AWS AKIDEXAMPLE:c2lnbmF0dXJl',
      'AWS4-HMAC-SHA512 ' + auth.slice(auth.indexOf(' ') + 1),
      auth.replace(/Credential=[^,]+, /, ''),
      auth.replace(/, SignedHeaders=[^,]+/, ''),
      auth.replace(/, Signature=[0-9a-f]+/, ''),
      auth.replace(/Credential=[^,]+/, `Credential=${ACCESS_KEY}/20240517/us-east-1/kms`),
      auth.replace(/Credential=[^,]+/, `Credential=${ACCESS_KEY}/20240517/us-east-1/kms/aws4_request/extra`),
      auth.replace(/Credential=[^,]+/, `Credential=${ACCESS_KEY}/2024-05-17/us-east-1/kms/aws4_request`),
      auth.replace(/Credential=[^,]+/, `Credential=${ACCESS_KEY}/20240517//kms/aws4_request`),
      auth.replace(/Credential=[^,]+/, `Credential=${ACCESS_KEY}/20240517/us-east-1/kms/aws5_request`),
      auth.replace(names, names.replace('host;', '')),
      auth.replace(names, names.replace('x-amz-date', 'X-Amz-Date')),
      auth.replace(names, names + ';'),
    ];
    for (const value of malformed) {
      await assertKind(verify(withHeader(wire, 'authorization', value), body), 'incomplete', `Authorization: ${value}`);
    }
    await assertKind(verify(withoutHeader(wire, 'x-amz-date'), body), 'incomplete', 'no X-Amz-Date');
    for (const date of ['2024-05-17T12:00:00Z', '20240517T120000', 'yesterday', '2024051T1200000Z', '20240517 120000Z']) {
      await assertKind(verify(withHeader(wire, 'x-amz-date', date), body), 'incomplete', `X-Amz-Date: ${date}`);
    }
  });
});

describe('verifySigV4 with presigned (query-string) requests from signer.presign', () => {
  const get: RequestSpec = { method: 'GET', path: '/reports/q1%20summary.pdf', query: { 'response-content-type': 'application/pdf', versionId: '3' } };
  /** As @aws-sdk/s3-request-presigner prepares a request: the payload is declared UNSIGNED-PAYLOAD. */
  const s3Get: RequestSpec = { ...get, headers: { 'x-amz-content-sha256': UNSIGNED_PAYLOAD } };

  it('an S3-style presigned URL verifies in s3 mode until X-Amz-Expires has passed', async () => {
    const { wire, body } = await presign(s3Get, 300, { service: 's3', s3: true });
    assert.match(wire.rawQuery, /X-Amz-Signature=[0-9a-f]{64}/);
    assert.equal(wire.rawHeaders.some((h) => h.toLowerCase() === 'authorization'), false);
    const s3 = { s3: true } as const;
    const v = await verify(wire, body, s3);
    assert.equal(v.presigned, true);
    assert.equal(v.payloadHash, UNSIGNED_PAYLOAD);
    await verify(wire, body, { ...s3, now: NOW + 300_000 });
    const late = await assertKind(verify(wire, body, { ...s3, now: NOW + 300_001 }), 'expired', 'after X-Amz-Expires');
    assert.match(late.message, /expired/);
    await assertKind(verify(wire, body, { ...s3, now: NOW - MAX_SKEW_MS - 1000 }), 'expired', 'long before X-Amz-Date');
  });

  it('a presigned URL for a non-S3 service (payload: the hash of the empty body) verifies until it expires', async () => {
    const { wire, body } = await presign(get, 900);
    const v = await verify(wire, body);
    assert.equal(v.presigned, true);
    assert.equal(v.payloadHash, EMPTY_SHA256);
    await assertKind(verify(wire, body, { now: NOW + 900_001 }), 'expired', 'after X-Amz-Expires');
  });

  it("tampering with a presigned URL's path, parameters, expiry or signature gives 'mismatch'", async () => {
    const { wire, body } = await presign(s3Get, 60, { service: 's3', s3: true });
    const s3 = { s3: true } as const;
    const edits: [string, SignableRequest][] = [
      ['path', { ...wire, rawPath: '/reports/q2%20summary.pdf' }],
      ['parameter value', { ...wire, rawQuery: wire.rawQuery.replace('versionId=3', 'versionId=4') }],
      ['added parameter', { ...wire, rawQuery: wire.rawQuery + '&extra=1' }],
      ['longer expiry', { ...wire, rawQuery: wire.rawQuery.replace('X-Amz-Expires=60', 'X-Amz-Expires=3600') }],
      ['signature', { ...wire, rawQuery: wire.rawQuery.replace(/X-Amz-Signature=([0-9a-f])/, (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`) }],
      ['host', withHeader(wire, 'host', 'evil.example.com')],
      ['method', { ...wire, method: 'PUT' }],
    ];
    for (const [what, req] of edits) await assertKind(verify(req, body, s3), 'mismatch', what);
    // A longer expiry is refused even at a time the original one has passed (the signature covers it).
    const stretched = { ...wire, rawQuery: wire.rawQuery.replace('X-Amz-Expires=60', 'X-Amz-Expires=3600') };
    await assertKind(verify(stretched, body, { ...s3, now: NOW + 120_000 }), 'mismatch', 'stretched expiry later');
  });

  it("presigned URLs with missing or out-of-range parameters give 'incomplete'", async () => {
    const { wire, body } = await presign(s3Get, 60, { service: 's3', s3: true });
    for (const param of ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature']) {
      const rawQuery = wire.rawQuery.split('&').filter((p) => !p.startsWith(`${param}=`)).join('&');
      await assertKind(verify({ ...wire, rawQuery }, body, { s3: true }), 'incomplete', `without ${param}`);
    }
    for (const expires of ['0', '-5', '604801', 'soon']) {
      const rawQuery = wire.rawQuery.replace('X-Amz-Expires=60', `X-Amz-Expires=${expires}`);
      await assertKind(verify({ ...wire, rawQuery }, body, { s3: true }), 'incomplete', `X-Amz-Expires=${expires}`);
    }
  });
});

describe('verifySigV4 in s3 mode', () => {
  const put: RequestSpec = {
    method: 'PUT',
    path: '/bucket/photos/%C3%A9t%C3%A9%202024/img%20%281%29.jpg',
    headers: { 'x-amz-content-sha256': UNSIGNED_PAYLOAD, 'content-type': 'image/jpeg' },
    body: Buffer.from('not really a jpeg'),
  };

  it('verifies UNSIGNED-PAYLOAD with the path signed as sent (encoded once)', async () => {
    const { wire, body } = await sign(put, { service: 's3', s3: true });
    const v = await verify(wire, body, { s3: true });
    assert.equal(v.payloadHash, UNSIGNED_PAYLOAD);
    // The body is not covered: any body verifies.
    await verify(wire, Buffer.from('a different body'), { s3: true });
    // Everything else still is.
    await assertKind(verify({ ...wire, rawPath: wire.rawPath.replace('img', 'IMG') }, body, { s3: true }), 'mismatch', 'path');
    await assertKind(verify(withHeader(wire, 'content-type', 'image/png'), body, { s3: true }), 'mismatch', 'content-type');
  });

  it('s3 mode verifies a signed payload hash too, and refuses a body that does not match it', async () => {
    const signedPayload = { ...put, headers: { 'content-type': 'image/jpeg' } };
    const { wire, body } = await sign(signedPayload, { service: 's3', s3: true });
    const v = await verify(wire, body, { s3: true });
    assert.equal(v.payloadHash, sha256Hex(body));
    await assertKind(verify(wire, Buffer.from('other'), { s3: true }), 'payload-hash', 'body changed');
  });

  it("outside s3 mode UNSIGNED-PAYLOAD is not accepted ('payload-hash')", async () => {
    const { wire, body } = await sign({ ...put, path: '/' }, { s3: false });
    await assertKind(verify(wire, body), 'payload-hash', 'UNSIGNED-PAYLOAD for kms');
  });

  it('an S3 signature (path encoded once) does not verify as a non-S3 one and vice versa when the path has escapes', async () => {
    const signedPayload = { ...put, headers: { 'content-type': 'image/jpeg' } };
    const s3 = await sign(signedPayload, { service: 's3', s3: true });
    await verify(s3.wire, s3.body, { s3: true });
    await assertKind(verify(s3.wire, s3.body, { s3: false, checkScope: () => {} }), 'mismatch', 's3 signature, kms rules');
    const kms = await sign(signedPayload, { service: 's3', s3: false });
    await verify(kms.wire, kms.body, { s3: false, checkScope: () => {} });
    await assertKind(verify(kms.wire, kms.body, { s3: true }), 'mismatch', 'double-encoded signature, s3 rules');
  });
});

describe('parseAmzDate accepts only real instants', () => {
  it('refuses a month, day, hour, minute or second out of range instead of rolling it over', () => {
    for (const bad of [
      '20240101T820000Z', // hour 82: Date.UTC would make it 2024-01-04T10:00
      '20240101T240000Z',
      '20240101T006000Z',
      '20240101T000060Z', // no leap second
      '20241301T000000Z',
      '20240001T000000Z',
      '20240132T000000Z',
      '20240100T000000Z',
      '20240431T000000Z',
      '20230229T000000Z', // not a leap year
      '21000229T000000Z', // nor is 2100
      '00990101T000000Z', // Date.UTC maps years 0-99 to 1900-1999
      '2024-01-01T00:00:00Z',
      '20240101T000000',
    ]) {
      assert.throws(() => parseAmzDate(bad), (err: unknown) => err instanceof SigV4Error && err.kind === 'incomplete', bad);
    }
    assert.equal(parseAmzDate('20240229T235959Z'), Date.UTC(2024, 1, 29, 23, 59, 59));
    assert.equal(parseAmzDate('20000229T000000Z'), Date.UTC(2000, 1, 29));
    assert.equal(parseAmzDate('20241231T235959Z'), Date.UTC(2024, 11, 31, 23, 59, 59));
  });
});

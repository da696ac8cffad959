/**
 * Session (STS temporary) credentials in verifySigV4: the request must carry the credential's session token
 * (X-Amz-Security-Token, header or presigned query parameter), compared by hash; the session expires by the
 * domain clock (`sessionNow`), not the wall clock the signature's skew is checked against. Requests are
 * signed by the real AWS signer (@smithy/signature-v4) with session credentials.
 */
import { buildQueryString, HttpRequest } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { SecretBytes } from '../../src/core/crypto/secret-bytes.js';
import { SignableRequest, sha256Hex } from '../../src/core/identity/sigv4/canonical-request.js';
import { Credential, SigV4Error, Verified, verifySigV4 } from '../../src/core/identity/sigv4/verify.js';

const ACCESS_KEY = 'ASIAEXAMPLE000000001';
const LONG_TERM_KEY = 'AKIAEXAMPLE000000001';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const TOKEN = 'FQoGZXIvYXdzEXAMPLE/session+token==';
const NOW = Date.UTC(2024, 4, 17, 12, 0, 0);
const EXPIRES = NOW + 3600_000;

const principal = { type: 'AssumedRole' as const, accountId: '111122223333', arn: 'arn:aws:sts::111122223333:assumed-role/R/s', principalId: 'AROAEXAMPLE:s', accessKeyId: ACCESS_KEY };
const CREDENTIALS = new Map<string, Credential>([
  [ACCESS_KEY, { secret: SecretBytes.adopt(Buffer.from(SECRET)), principal, active: true, signingKeys: new Map(), session: { tokenSha256: createHash('sha256').update(TOKEN).digest(), expiresAt: EXPIRES } }],
  [LONG_TERM_KEY, { secret: SecretBytes.adopt(Buffer.from(SECRET)), principal: { ...principal, type: 'Root', accessKeyId: LONG_TERM_KEY }, active: true, signingKeys: new Map() }],
]);

function signer(accessKeyId: string, sessionToken: string | undefined): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: SECRET, ...(sessionToken !== undefined ? { sessionToken } : {}) },
    region: 'us-east-1',
    service: 'sts',
    sha256: Hash.bind(null, 'sha256'),
  });
}

const body = Buffer.from('Action=GetCallerIdentity&Version=2011-06-15');
function request(): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    protocol: 'https:',
    hostname: 'sts.amazonaws.com',
    path: '/',
    headers: { host: 'sts.amazonaws.com', 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) },
    body,
  });
}

function wire(req: { method: string; path: string; query?: Record<string, unknown>; headers: Record<string, string> }, dropHeader?: string): SignableRequest {
  const rawHeaders: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) if (name !== dropHeader) rawHeaders.push(name, value);
  return { method: req.method, rawPath: req.path, rawQuery: buildQueryString((req.query ?? {}) as Record<string, string>), rawHeaders };
}

function verify(req: SignableRequest, sessionNow = NOW): Promise<Verified> {
  return verifySigV4(req, { s3: false, now: NOW, sessionNow, bodySha256: () => sha256Hex(body), lookup: async (id) => CREDENTIALS.get(id), checkScope: () => {} });
}

async function failure(p: Promise<unknown>): Promise<SigV4Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SigV4Error, `expected a SigV4Error, got ${String(err)}`);
    return err;
  }
  return assert.fail('expected verification to fail');
}

describe('SigV4 with session credentials', () => {
  it('accepts a request that carries the session token in X-Amz-Security-Token (signed header)', async () => {
    const signed = await signer(ACCESS_KEY, TOKEN).sign(request(), { signingDate: new Date(NOW) });
    assert.equal(signed.headers['x-amz-security-token'], TOKEN);
    assert.equal((await verify(wire(signed))).principal.arn, principal.arn);
  });

  it('accepts a presigned request with X-Amz-Security-Token in the query string', async () => {
    const presigned = await signer(ACCESS_KEY, TOKEN).presign(request(), { signingDate: new Date(NOW), expiresIn: 300 });
    assert.equal(presigned.query?.['X-Amz-Security-Token'], TOKEN);
    assert.equal((await verify(wire(presigned))).principal.arn, principal.arn);
  });

  it('refuses session credentials without their token, or with another token: unknown-key ("invalid")', async () => {
    const none = await signer(ACCESS_KEY, undefined).sign(request(), { signingDate: new Date(NOW) });
    const missing = await failure(verify(wire(none)));
    assert.equal(missing.kind, 'unknown-key');
    assert.equal(missing.message, 'The security token included in the request is invalid.');
    const other = await signer(ACCESS_KEY, `${TOKEN}x`).sign(request(), { signingDate: new Date(NOW) });
    assert.equal((await failure(verify(wire(other)))).kind, 'unknown-key');
  });

  it('refuses a long-term key that comes with a session token', async () => {
    const signed = await signer(LONG_TERM_KEY, TOKEN).sign(request(), { signingDate: new Date(NOW) });
    assert.equal((await failure(verify(wire(signed)))).kind, 'unknown-key');
  });

  it('refuses an expired session by the domain clock (expired-token), whatever the wall clock says', async () => {
    const signed = await signer(ACCESS_KEY, TOKEN).sign(request(), { signingDate: new Date(NOW) });
    assert.ok(await verify(wire(signed), EXPIRES - 1));
    const expired = await failure(verify(wire(signed), EXPIRES));
    assert.equal(expired.kind, 'expired-token');
    assert.equal(expired.message, 'The security token included in the request is expired');
  });

  it('the token is signed: a request whose token header was dropped after signing does not verify', async () => {
    const signed = await signer(ACCESS_KEY, TOKEN).sign(request(), { signingDate: new Date(NOW) });
    assert.equal((await failure(verify(wire(signed, 'x-amz-security-token')))).kind, 'unknown-key');
  });
});

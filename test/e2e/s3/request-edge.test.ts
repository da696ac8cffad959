// The S3 request edge: X-Amz-Date must be a real instant (header, presigned URL, POST policy form), a
// presigned URL cannot carry a signed aws-chunked body, and a body declared over 5 GiB is refused before a
// byte of it is read; a body that stalls is cut off.
import { CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { IncomingHttpHeaders, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { RawRequest, Sha256, s3XmlError, sendRaw, signedS3Request } from '../../helpers/raw-request.js';
import { TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

const GiB = 1024 ** 3;

/**
 * An X-Amz-Date that Date.UTC rolls over to now: three days back with hour 72 + the current hour (e.g.
 * 20261203T834000Z for 2026-12-06T11:40:00Z). Its scope date is three days old.
 */
function rolledOverNow(): { longDate: string; shortDate: string } {
  const now = new Date();
  const back = new Date(now.getTime() - 3 * 24 * 3600_000);
  const shortDate = back.toISOString().slice(0, 10).replace(/-/g, '');
  const p2 = (n: number) => String(n).padStart(2, '0');
  return { shortDate, longDate: `${shortDate}T${72 + now.getUTCHours()}${p2(now.getUTCMinutes())}${p2(now.getUTCSeconds())}Z` };
}

/** A signer whose X-Amz-Date is rolledOverNow() (the real signer otherwise: everything else is as AWS signs). */
class RolledOverSigner extends SignatureV4 {
  override formatDate(): { longDate: string; shortDate: string } {
    return rolledOverNow();
  }
}

type Answer = { status: number; headers: IncomingHttpHeaders; text: string; ms: number };

/**
 * Sends the headers, then `chunks` (each after `gapMs`), then ends the body or (`end` false) stalls; collects
 * the answer, or rejects with `timeout` if none comes within `timeoutMs`. `ignoreErrors`: a socket error (the
 * server closing while chunks are still being written) leaves the answer to come or the timeout to fire.
 */
function sendSlowly(
  baseUrl: string,
  req: RawRequest,
  o: { chunks?: Buffer[]; gapMs?: number; end?: boolean; timeoutMs: number; timeout: string; ignoreErrors?: boolean },
): Promise<Answer> {
  const url = new URL(baseUrl);
  const started = Date.now();
  const chunks = o.chunks ?? [];
  return new Promise((resolve, reject) => {
    const r = request({ host: url.hostname, port: url.port, method: req.method ?? 'PUT', path: req.path ?? '/', headers: req.headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, ms: Date.now() - started });
      });
    });
    const timer = setTimeout(() => {
      r.destroy();
      reject(new Error(o.timeout));
    }, o.timeoutMs);
    r.on('error', (err) => {
      if (o.ignoreErrors) return;
      clearTimeout(timer);
      reject(err);
    });
    r.flushHeaders();
    let i = 0;
    const next = () => {
      if (i < chunks.length) {
        r.write(chunks[i++]!);
        setTimeout(next, o.gapMs ?? 0);
      } else if (o.end) r.end();
    };
    next();
  });
}

/** Sends only the headers (the declared body never comes) and collects the answer. */
function headersOnly(baseUrl: string, req: RawRequest, timeoutMs = 5000): Promise<Answer> {
  return sendSlowly(baseUrl, req, { timeoutMs, timeout: `no answer within ${timeoutMs} ms: the server waited for the body` });
}

describe('S3 request edge', () => {
  let server: TestServer;
  let s3: S3Client;
  before(async () => {
    server = await startServer();
    s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'edge' }));
  });
  after(() => server.destroy());

  const exists = async (Key: string) => {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: 'edge', Key }));
      return true;
    } catch (err) {
      if ((err as Error).name === 'NotFound') return false;
      throw err;
    }
  };

  it('an X-Amz-Date with hour 82 (rolling over to now) is refused in header auth and in a presigned URL', async () => {
    const url = new URL(server.url);
    const signer = new RolledOverSigner({ credentials: TEST_CREDENTIALS, region: TEST_REGION, service: 's3', sha256: Sha256, uriEscapePath: false });
    const put = new HttpRequest({
      method: 'PUT', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/edge/rolled-header',
      headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': '1' },
    });
    const signed = await signer.sign(put);
    assert.equal(signed.headers['x-amz-date'], rolledOverNow().longDate);
    const res = await sendRaw(server.url, { method: 'PUT', path: '/edge/rolled-header', headers: { ...signed.headers }, body: 'x' });
    assert.equal(res.status, 400, res.text);
    assert.equal(s3XmlError(res).code, 'AuthorizationHeaderMalformed');
    assert.match(s3XmlError(res).message, /X-Amz-Date must be a valid date/);
    assert.equal(await exists('rolled-header'), false);

    const presigned = await signer.presign(new HttpRequest({ method: 'PUT', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/edge/rolled-url', headers: { host: url.host } }), { expiresIn: 300 });
    const query = new URLSearchParams(presigned.query as Record<string, string>).toString();
    const viaUrl = await sendRaw(server.url, { method: 'PUT', path: `/edge/rolled-url?${query}`, headers: { host: url.host, 'content-length': '1' }, body: 'x' });
    assert.equal(viaUrl.status, 400, viaUrl.text);
    assert.equal(s3XmlError(viaUrl).code, 'AuthorizationQueryParametersError');
    assert.equal(await exists('rolled-url'), false);
  });

  it('a POST policy form whose x-amz-date has hour 82 is refused', async () => {
    const { longDate, shortDate } = rolledOverNow();
    const credential = `${TEST_CREDENTIALS.accessKeyId}/${shortDate}/${TEST_REGION}/s3/aws4_request`;
    const fields: Record<string, string> = { bucket: 'edge', 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'X-Amz-Credential': credential, 'X-Amz-Date': longDate, key: 'rolled-post' };
    const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 600_000).toISOString(), conditions: Object.entries(fields).map(([k, v]) => ({ [k]: v })) })).toString('base64');
    const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${TEST_CREDENTIALS.secretAccessKey}`, shortDate), TEST_REGION), 's3'), 'aws4_request');
    const form = new FormData();
    for (const [k, v] of Object.entries({ ...fields, Policy: policy, 'X-Amz-Signature': hmac(signingKey, policy).toString('hex') })) form.append(k, v);
    form.append('file', new Blob([new Uint8Array(Buffer.from('posted'))]), 'f.txt');
    const res = await fetch(`${server.url}/edge`, { method: 'POST', body: form });
    const text = await res.text();
    assert.equal(res.status, 400, text);
    assert.match(text, /X-Amz-Date must be a valid date/);
    assert.equal(await exists('rolled-post'), false);
  });

  it('a presigned URL used with a signed aws-chunked body (x-amz-content-sha256: STREAMING-…) is 400 InvalidRequest, not a 500', async () => {
    const url = new URL(server.url);
    const signer = new SignatureV4({ credentials: TEST_CREDENTIALS, region: TEST_REGION, service: 's3', sha256: Sha256, uriEscapePath: false });
    const chunkedHeaders = (mode: string) => ({ 'x-amz-content-sha256': mode, 'x-amz-decoded-content-length': '5' });
    const presign = async (mode: string, key: string) => {
      // Signed as such (the aws-chunked headers are part of the signature), so the signature itself is right.
      const presigned = await signer.presign(
        new HttpRequest({ method: 'PUT', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: `/edge/${key}`, headers: { host: url.host, ...chunkedHeaders(mode) } }),
        { expiresIn: 300, unhoistableHeaders: new Set(Object.keys(chunkedHeaders(mode))) },
      );
      return `/edge/${key}?${new URLSearchParams(presigned.query as Record<string, string>).toString()}`;
    };
    for (const mode of ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER']) {
      const body = '5;chunk-signature=' + '0'.repeat(64) + '\r\nhello\r\n0;chunk-signature=' + '0'.repeat(64) + '\r\n\r\n';
      const res = await sendRaw(server.url, {
        method: 'PUT',
        path: await presign(mode, 'streamed'),
        headers: { host: url.host, ...chunkedHeaders(mode), 'content-encoding': 'aws-chunked', 'content-length': String(body.length) },
        body,
      });
      assert.equal(res.status, 400, `${mode}: ${res.text}`);
      assert.equal(s3XmlError(res).code, 'InvalidRequest', mode);
    }
    assert.equal(await exists('streamed'), false);
    // A presigned URL with the unsigned aws-chunked encoding stays accepted.
    const mode = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
    const body = '5\r\nhello\r\n0\r\n\r\n';
    const res = await sendRaw(server.url, {
      method: 'PUT',
      path: await presign(mode, 'streamed'),
      headers: { host: url.host, ...chunkedHeaders(mode), 'content-encoding': 'aws-chunked', 'content-length': String(body.length) },
      body,
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(await exists('streamed'), true);
  });

  it('a PutObject or UploadPart declaring more than 5 GiB is 400 EntityTooLarge at once, before the body (Content-Length and aws-chunked decoded length)', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'edge', Key: 'huge-part' }));
    const size = String(5 * GiB + 1);
    const cases: [string, Promise<RawRequest>][] = [
      ['PutObject', signedS3Request(server.url, { method: 'PUT', path: '/edge/huge', payloadHash: 'UNSIGNED-PAYLOAD', headers: { 'content-length': size } })],
      ['UploadPart', signedS3Request(server.url, { method: 'PUT', path: `/edge/huge-part?partNumber=1&uploadId=${UploadId}`, payloadHash: 'UNSIGNED-PAYLOAD', headers: { 'content-length': size } })],
      ['aws-chunked', signedS3Request(server.url, {
        method: 'PUT', path: '/edge/huge-chunked', payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': size, 'content-length': String(5 * GiB + 1000) },
      })],
    ];
    for (const [name, req] of cases) {
      const res = await headersOnly(server.url, await req);
      assert.equal(res.status, 400, `${name}: ${res.text}`);
      assert.equal(s3XmlError({ ...res, body: Buffer.from(res.text) }).code, 'EntityTooLarge', name);
      assert.match(res.text, new RegExp(`<ProposedSize>${size}</ProposedSize><MaxSizeAllowed>${5 * GiB}</MaxSizeAllowed>`), name);
      assert.equal(res.headers.connection, 'close', name);
    }
    // Exactly 5 GiB is not refused for its size (the answer waits for the body: no immediate 400).
    const limit = await signedS3Request(server.url, { method: 'PUT', path: '/edge/limit', payloadHash: 'UNSIGNED-PAYLOAD', headers: { 'content-length': String(5 * GiB) } });
    await assert.rejects(headersOnly(server.url, limit, 500), /waited for the body/);
  });
});

describe('S3 bodies that stall are cut off (idle timeout)', () => {
  const IDLE_MS = 1000;
  let server: TestServer;
  let s3: S3Client;
  before(async () => {
    server = await startServer({ bodies: { idleTimeoutMs: IDLE_MS } });
    s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'slow' }));
  });
  after(() => server.destroy());

  /** Sends the headers, then `chunks` (each after `gapMs`), then stalls or ends; collects the answer. */
  const trickle = (req: RawRequest, chunks: Buffer[], gapMs: number, end: boolean): Promise<Answer> =>
    sendSlowly(server.url, req, { chunks, gapMs, end, timeoutMs: 10_000, timeout: 'no answer within 10 s', ignoreErrors: true });

  it('a PutObject whose body stops arriving is 400 RequestTimeout after the idle timeout, and nothing is stored', async () => {
    const put = await signedS3Request(server.url, { method: 'PUT', path: '/slow/stalled', payloadHash: 'UNSIGNED-PAYLOAD', headers: { 'content-length': '1000' } });
    const res = await trickle(put, [Buffer.alloc(10, 0x61)], 0, false);
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /<Code>RequestTimeout<\/Code>/);
    assert.equal(res.headers.connection, 'close');
    assert.ok(res.ms >= IDLE_MS - 100 && res.ms < IDLE_MS + 3000, `after ${res.ms} ms`);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'slow', Key: 'stalled' })), { name: 'NotFound' });
  });

  it('a POST form that stops arriving in its fields is 400 RequestTimeout', async () => {
    const boundary = 'strongroom-boundary';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nposted\r\n--${boundary}\r\nContent-Disposition: form-data; name="po`;
    const res = await trickle(
      { method: 'POST', path: '/slow', headers: { host: new URL(server.url).host, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': '5000' } },
      [Buffer.from(head)],
      0,
      false,
    );
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /<Code>RequestTimeout<\/Code>/);
  });

  it('a slow but steady upload (longer than the idle timeout, never idle that long) is stored', async () => {
    const chunks = Array.from({ length: 6 }, (_, i) => Buffer.alloc(100, 0x61 + i));
    const body = Buffer.concat(chunks);
    const put = await signedS3Request(server.url, { method: 'PUT', path: '/slow/steady', payloadHash: 'UNSIGNED-PAYLOAD', headers: { 'content-length': String(body.length) } });
    const res = await trickle(put, chunks, IDLE_MS / 2, true);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.ms > IDLE_MS * 2, `took ${res.ms} ms`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'slow', Key: 'steady' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
  });
});

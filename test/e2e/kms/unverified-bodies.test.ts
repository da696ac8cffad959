// Bodies read before their signature is verified (KMS, CloudTrail, IAM, STS, /_strongroom/explain sign the
// body's hash, so it is buffered whole first): what needs no body is checked before any byte of it is read,
// what unverified bodies hold is bounded process-wide, and a body that stalls is cut off.
import { ListKeysCommand } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { IncomingHttpHeaders, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { signedQueryRequest } from '../../helpers/query-request.js';
import { RawRequest, signedJsonRequest } from '../../helpers/raw-request.js';
import { TestServer, startServer } from '../../helpers/server.js';

const UNKNOWN = { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'not-a-known-secret-access-key-00000000000' };
const MiB = 1024 * 1024;

interface Outcome {
  /** The answer, or undefined when the server closed the connection without one. */
  readonly status?: number;
  readonly headers?: IncomingHttpHeaders;
  readonly text?: string;
  /** ms from the start to the answer or the close. */
  readonly ms: number;
}

/**
 * Sends `req`'s headers with `Content-Length: declared`, then only `send` bytes of body (all of it when
 * `send` is `declared`), and waits for an answer or the connection's end.
 */
function stalled(baseUrl: string, req: RawRequest, declared: number, send: number, timeoutMs = 10_000): { outcome: Promise<Outcome>; sent: Promise<void> } {
  const url = new URL(baseUrl);
  const started = Date.now();
  let markSent!: () => void;
  const sent = new Promise<void>((r) => (markSent = r));
  const outcome = new Promise<Outcome>((resolve, reject) => {
    const timer = setTimeout(() => {
      r.destroy();
      reject(new Error(`no answer and no close within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (o: Omit<Outcome, 'ms'>) => {
      clearTimeout(timer);
      resolve({ ...o, ms: Date.now() - started });
    };
    const headers = { ...req.headers, 'content-length': String(declared) };
    const r = request({ host: url.hostname, port: url.port, method: req.method ?? 'POST', path: req.path ?? '/', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', () => done({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    let answered = false;
    r.on('response', () => (answered = true));
    r.on('error', () => done({}));
    r.on('close', () => {
      if (!answered) done({});
    });
    r.flushHeaders();
    // The request's own body when it is sent whole, else filler.
    const bytes = req.body !== undefined && Buffer.byteLength(req.body) === send ? Buffer.from(req.body) : Buffer.alloc(send, 0x20);
    if (send > 0) r.write(bytes, () => markSent());
    else markSent();
  });
  return { outcome, sent };
}

describe('signature checks that need no body come before the body is read', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.destroy());

  it('an unknown access key with a declared 1 MiB body is answered at once, without the body, and the connection closed (KMS, STS, IAM, explain)', async () => {
    const cases: [string, RawRequest, string][] = [
      ['kms', await signedJsonRequest(server.url, 'TrentService.ListKeys', '{}', { credentials: UNKNOWN }), '"__type":"UnrecognizedClientException"'],
      ['sts', await signedQueryRequest(server.url, { Action: 'GetCallerIdentity', Version: '2011-06-15' }, { service: 'sts', credentials: UNKNOWN }), '<Code>InvalidClientTokenId</Code>'],
      ['iam', await signedQueryRequest(server.url, { Action: 'ListUsers', Version: '2010-05-08' }, { credentials: UNKNOWN }), '<Code>InvalidClientTokenId</Code>'],
      ['explain', await signedJsonRequest(server.url, '', '{}', { credentials: UNKNOWN, path: '/_strongroom/explain' }), '"__type":"UnrecognizedClientException"'],
    ];
    for (const [name, req, expected] of cases) {
      const out = await stalled(server.url, req, MiB, 0).outcome;
      assert.ok(out.status !== undefined, `${name}: the connection was closed without an answer`);
      assert.ok(out.status >= 400 && out.status < 500, `${name}: ${out.status} ${out.text}`);
      assert.ok(out.text!.includes(expected), `${name}: ${out.text}`);
      assert.equal(out.headers!.connection, 'close', name);
    }
  });

  it('a request without a signature, or signed for another date or region, is refused before its body too', async () => {
    const unsigned = { method: 'POST', path: '/', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' } };
    const old = await signedJsonRequest(server.url, 'TrentService.ListKeys', '{}', { signingDate: new Date(Date.now() - 3600_000) });
    const region = await signedJsonRequest(server.url, 'TrentService.ListKeys', '{}', { region: 'ap-south-1' });
    for (const [name, req, code] of [['unsigned', unsigned, 'MissingAuthenticationTokenException'], ['old', old, 'InvalidSignatureException'], ['region', region, 'InvalidSignatureException']] as const) {
      const out = await stalled(server.url, req, MiB, 1000).outcome;
      assert.equal(out.status, 400, `${name}: ${out.text}`);
      assert.ok(out.text!.includes(code), `${name}: ${out.text}`);
    }
  });
});

describe('unverified bodies are bounded: a process-wide budget and an idle timeout', () => {
  const BUDGET = 64 * 1024;
  const IDLE_MS = 1500;
  let server: TestServer;
  before(async () => {
    server = await startServer({ bodies: { unverifiedBudgetBytes: BUDGET, idleTimeoutMs: IDLE_MS } });
  });
  after(() => server.destroy());

  it('stalled bodies cannot hold more than the budget: the one that would exceed it is ThrottlingException (KMS) / Throttling (STS) at once', async () => {
    const kmsReq = await signedJsonRequest(server.url, 'TrentService.ListKeys', '{}');
    // Three valid-looking requests send 30 KiB of a declared 100 KiB body each and stall: two fit in 64 KiB,
    // the bytes of the third would take the total past it, so that one is refused, retryably, at once.
    const three = [0, 1, 2].map(() => stalled(server.url, kmsReq, 100 * 1024, 30 * 1024).outcome);
    const first = await Promise.race(three);
    assert.equal(first.status, 400, first.text);
    assert.match(first.text!, /"__type":"ThrottlingException"/);
    assert.equal(first.headers!.connection, 'close');
    assert.ok(first.ms < IDLE_MS, `throttled after ${first.ms} ms`);
    // Query services answer their own throttling error.
    const sts = await stalled(server.url, await signedQueryRequest(server.url, { Action: 'GetCallerIdentity', Version: '2011-06-15' }, { service: 'sts' }), 100 * 1024, 30 * 1024).outcome;
    assert.equal(sts.status, 400, sts.text);
    assert.match(sts.text!, /<Code>Throttling<\/Code>/);

    // The two held are cut off by the idle timeout, without an answer; their bytes go back to the budget.
    const outcomes = await Promise.all(three);
    assert.equal(outcomes.filter((o) => o.status === 400).length, 1, JSON.stringify(outcomes.map((o) => [o.status, o.ms])));
    for (const o of outcomes.filter((x) => x.status === undefined)) assert.ok(o.ms >= IDLE_MS - 100 && o.ms < IDLE_MS + 3000, `cut off after ${o.ms} ms`);
    assert.equal(outcomes.filter((o) => o.status === undefined).length, 2);
    // A 60 KiB body (under the budget once the stalled ones are gone) is served.
    const padded = await signedJsonRequest(server.url, 'TrentService.ListKeys', '{}' + ' '.repeat(60 * 1024));
    const ok = await stalled(server.url, padded, padded.body!.length, padded.body!.length).outcome;
    assert.equal(ok.status, 200, ok.text);
    assert.ok(Array.isArray((await server.kms().send(new ListKeysCommand({}))).Keys));
  });

  it('a body that stalls is cut off after the idle timeout (KMS, IAM)', async () => {
    const kms = await signedJsonRequest(server.url, 'TrentService.ListKeys', '{}');
    const iam = await signedQueryRequest(server.url, { Action: 'ListUsers', Version: '2010-05-08' });
    const outcomes = await Promise.all([stalled(server.url, kms, 1000, 10).outcome, stalled(server.url, iam, 1000, 10).outcome]);
    for (const o of outcomes) {
      assert.equal(o.status, undefined, `answered: ${o.status} ${o.text}`);
      assert.ok(o.ms >= IDLE_MS - 100 && o.ms < IDLE_MS + 3000, `cut off after ${o.ms} ms`);
    }
    // A client that goes away is not an internal error: no error line, no stack trace in the server's log.
    assert.ok(!server.logs.some((l) => /"level":50/.test(l) || /"stack"/.test(l)), server.logs.filter((l) => /"level":50|"stack"/.test(l)).join('\n'));
  });
});

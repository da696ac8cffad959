// A client that goes away mid-request is not an internal error: the server logs at most one short line
// below warning for it, never an error with a stack trace (a flood of those was a cheap way to fill the log).
import { CreateBucketCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { RawRequest, signedJsonRequest, signedS3Request } from '../../helpers/raw-request.js';
import { TestServer, startServer } from '../../helpers/server.js';

/** Sends the headers and `send` bytes of a body declared `declared` long, then cuts the connection. */
function cutMidBody(baseUrl: string, req: RawRequest, declared: number, send: number): Promise<void> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const r = request({ host: url.hostname, port: url.port, method: req.method ?? 'PUT', path: req.path ?? '/', headers: { ...req.headers, 'content-length': String(declared) }, agent: false });
    r.on('error', () => resolve());
    r.on('close', () => resolve());
    r.flushHeaders();
    r.write(Buffer.alloc(send, 0x61), () => setTimeout(() => r.destroy(), 100));
  });
}

/** Starts a GET and cuts the connection after the first bytes of the answer. */
function cutMidAnswer(baseUrl: string, req: RawRequest): Promise<void> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const r = request({ host: url.hostname, port: url.port, method: 'GET', path: req.path ?? '/', headers: req.headers, agent: false }, (res) => {
      res.once('data', () => r.destroy());
    });
    r.on('error', () => resolve());
    r.on('close', () => resolve());
    r.end();
  });
}

const settle = () => new Promise((r) => setTimeout(r, 300));

describe('a client that goes away is not an internal error', () => {
  let server: TestServer;
  let s3: S3Client;
  before(async () => {
    server = await startServer();
    s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'gone' }));
    await s3.send(new PutObjectCommand({ Bucket: 'gone', Key: 'big', Body: Buffer.alloc(8 * 1024 * 1024, 0x62) }));
  });
  after(() => server.destroy());

  const problems = () => server.logs.filter((l) => /"level":(40|50|60)/.test(l) || /"stack"/.test(l) || /internal error/.test(l));

  it('PutObject, UploadPart and aws-chunked uploads cut mid-body, a GET cut mid-answer, a KMS call cut mid-body: no error, no stack trace', async () => {
    const before = server.logs.length;
    for (const payloadHash of ['UNSIGNED-PAYLOAD', 'a'.repeat(64)]) {
      const put = await signedS3Request(server.url, { method: 'PUT', path: `/gone/cut-${payloadHash.length}`, payloadHash, headers: { 'content-length': String(4 * 1024 * 1024) } });
      await cutMidBody(server.url, put, 4 * 1024 * 1024, 256 * 1024);
    }
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'gone', Key: 'parts' }));
    const part = await signedS3Request(server.url, { method: 'PUT', path: `/gone/parts?partNumber=1&uploadId=${UploadId}`, payloadHash: 'UNSIGNED-PAYLOAD', headers: { 'content-length': String(4 * 1024 * 1024) } });
    await cutMidBody(server.url, part, 4 * 1024 * 1024, 256 * 1024);
    const chunked = await signedS3Request(server.url, {
      method: 'PUT',
      path: '/gone/cut-chunked',
      payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(4 * 1024 * 1024), 'content-length': String(4 * 1024 * 1024 + 100) },
    });
    await cutMidBody(server.url, chunked, 4 * 1024 * 1024 + 100, 0);
    const kms = await signedJsonRequest(server.url, 'TrentService.ListKeys', '{}');
    await cutMidBody(server.url, { ...kms, method: 'POST' }, 64 * 1024, 1000);
    await cutMidAnswer(server.url, await signedS3Request(server.url, { method: 'GET', path: '/gone/big' }));
    await settle();
    const lines = server.logs.slice(before);
    assert.deepEqual(problems(), [], 'error lines or stack traces were logged');
    // At most one short line per cut request (the access log line aside).
    const notes = lines.filter((l) => !/"msg":"request"/.test(l));
    assert.ok(notes.length <= 6, notes.join('\n'));
    for (const l of notes) assert.ok(l.length < 400, l);
  });
});

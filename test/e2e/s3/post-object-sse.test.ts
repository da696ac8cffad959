// POST Object (browser form uploads) with every encryption field a PUT takes: x-amz-server-side-encryption,
// -aws-kms-key-id, -context, -bucket-key-enabled and the SSE-C fields (-customer-algorithm/-key/-key-MD5, over
// HTTPS only). The fields are covered by the POST policy like any other, signed by @aws-sdk/s3-presigned-post;
// the form is serialized by the platform's FormData and sent over TLS to a server with a test certificate.
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RawResponse, s3XmlError, sendRaw } from '../../helpers/raw-request.js';
import { TestServer, rejection, startServer } from '../../helpers/server.js';

describe('POST Object with SSE-KMS and SSE-C form fields', () => {
  let dir: string;
  let tls: TestServer;
  let plain: TestServer;
  let s3: S3Client;
  let keyArn: string;
  const customerKey = randomBytes(32);
  const ssecFields = {
    'x-amz-server-side-encryption-customer-algorithm': 'AES256',
    'x-amz-server-side-encryption-customer-key': customerKey.toString('base64'),
    'x-amz-server-side-encryption-customer-key-MD5': createHash('md5').update(customerKey).digest('base64'),
  };
  const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: ssecFields['x-amz-server-side-encryption-customer-key'], SSECustomerKeyMD5: ssecFields['x-amz-server-side-encryption-customer-key-MD5'] };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-post-sse-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    tls = await startServer({ tls: { certFile: cert, keyFile: key } });
    plain = await startServer();
    s3 = tls.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'forms' }));
    await plain.s3().send(new CreateBucketCommand({ Bucket: 'forms' }));
    keyArn = (await tls.kms().send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  });
  after(async () => {
    await tls.destroy();
    await plain.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A browser's form POST: the fields in order, the file last. */
  async function post(server: TestServer, fields: Record<string, string>, file: Buffer): Promise<RawResponse> {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', new Blob([new Uint8Array(file)]), 'upload.bin');
    const encoded = new Response(form);
    const body = Buffer.from(await encoded.arrayBuffer());
    return sendRaw(server.url, { method: 'POST', path: '/forms', headers: { 'content-type': encoded.headers.get('content-type')!, 'content-length': String(body.length) }, body });
  }

  /** A policy whose conditions allow exactly `fields` (each by eq). */
  const presign = (client: S3Client, Key: string, fields: Record<string, string>) =>
    createPresignedPost(client, { Bucket: 'forms', Key, Fields: fields, Conditions: Object.entries(fields).map(([k, v]) => ({ [k]: v })), Expires: 600 });

  it('x-amz-server-side-encryption aws:kms with -aws-kms-key-id, -context and -bucket-key-enabled: the object is under that key, context and bucket key', async () => {
    const context = { project: 'forms' };
    const fields = {
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': keyArn,
      'x-amz-server-side-encryption-context': Buffer.from(JSON.stringify(context)).toString('base64'),
      'x-amz-server-side-encryption-bucket-key-enabled': 'true',
    };
    const signed = await presign(s3, 'kms-key.txt', fields);
    const res = await post(tls, signed.fields, Buffer.from('under my key'));
    assert.equal(res.status, 204, res.text);
    assert.equal(res.headers['x-amz-server-side-encryption'], 'aws:kms');
    assert.equal(res.headers['x-amz-server-side-encryption-aws-kms-key-id'], keyArn);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'forms', Key: 'kms-key.txt' }));
    assert.equal(head.ServerSideEncryption, 'aws:kms');
    assert.equal(head.SSEKMSKeyId, keyArn);
    assert.equal(head.BucketKeyEnabled, true);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'forms', Key: 'kms-key.txt' }));
    assert.equal(await got.Body!.transformToString(), 'under my key');

    // The KMS key field is covered by the policy like any field: another key in the form is refused.
    const other = await post(tls, { ...signed.fields, 'x-amz-server-side-encryption-aws-kms-key-id': 'alias/aws/s3' }, Buffer.from('x'));
    assert.equal(other.status, 403, other.text);
    assert.equal(s3XmlError(other).code, 'AccessDenied');
  });

  it('the SSE-C fields over HTTPS: the object is SSE-C, readable only with that key; the key is not echoed by a failing policy condition', async () => {
    const signed = await presign(s3, 'ssec.txt', ssecFields);
    const res = await post(tls, signed.fields, Buffer.from('customer keyed'));
    assert.equal(res.status, 204, res.text);
    assert.equal(res.headers['x-amz-server-side-encryption-customer-algorithm'], 'AES256');
    assert.equal(res.headers['x-amz-server-side-encryption-customer-key-md5'], ssec.SSECustomerKeyMD5);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'forms', Key: 'ssec.txt', ...ssec }));
    assert.equal(await got.Body!.transformToString(), 'customer keyed');
    assert.equal((await rejection(s3.send(new GetObjectCommand({ Bucket: 'forms', Key: 'ssec.txt' })))).$metadata?.httpStatusCode, 400);

    // A form whose key differs from the policy's: refused, and neither key appears in the answer.
    const otherKey = randomBytes(32);
    const swapped = await post(tls, {
      ...signed.fields,
      'x-amz-server-side-encryption-customer-key': otherKey.toString('base64'),
      'x-amz-server-side-encryption-customer-key-MD5': createHash('md5').update(otherKey).digest('base64'),
    }, Buffer.from('x'));
    assert.equal(swapped.status, 403, swapped.text);
    assert.ok(!swapped.text.includes(otherKey.toString('base64')) && !swapped.text.includes(customerKey.toString('base64')), swapped.text);
    assert.match(s3XmlError(swapped).message, /x-amz-server-side-encryption-customer-key/, 'the message still names the field');
    const logged = tls.logs.join('');
    assert.ok(!logged.includes(otherKey.toString('base64')) && !logged.includes(customerKey.toString('base64')), 'no customer key in the server log');
  });

  it('the SSE-C fields over plain HTTP are refused (400 InvalidRequest), nothing is written', async () => {
    const client = plain.s3();
    const signed = await presign(client, 'ssec-http.txt', ssecFields);
    const res = await post(plain, signed.fields, Buffer.from('in clear'));
    assert.equal(res.status, 400, res.text);
    assert.equal(s3XmlError(res).code, 'InvalidRequest');
    assert.equal((await rejection(client.send(new HeadObjectCommand({ Bucket: 'forms', Key: 'ssec-http.txt' })))).name, 'NotFound');
  });
});

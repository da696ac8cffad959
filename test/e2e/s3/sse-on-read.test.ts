// GET and HEAD read an object as it was stored, so the headers that choose an encryption are refused there
// as S3 refuses them (400 InvalidArgument, "<header> header is not supported for this operation."), whatever
// the object's encryption; the SSE-C customer-key headers are what an SSE-C read needs and stay accepted.
// Requests the SDKs would not make are signed by hand (test/helpers/raw-request.ts).
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { s3XmlError, sendRaw, signedS3Request } from '../../helpers/raw-request.js';
import { TestServer, startServer } from '../../helpers/server.js';

const CHOOSING = {
  'x-amz-server-side-encryption': 'aws:kms',
  'x-amz-server-side-encryption-aws-kms-key-id': 'alias/aws/s3',
  'x-amz-server-side-encryption-context': Buffer.from('{"a":"b"}').toString('base64'),
  'x-amz-server-side-encryption-bucket-key-enabled': 'true',
};

describe('GET/HEAD with encryption-choosing headers', () => {
  let dir: string;
  let server: TestServer;
  let s3: S3Client;
  const customerKey = randomBytes(32);
  const ssec = {
    'x-amz-server-side-encryption-customer-algorithm': 'AES256',
    'x-amz-server-side-encryption-customer-key': customerKey.toString('base64'),
    'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(customerKey).digest('base64'),
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-sse-read-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    server = await startServer({ tls: { certFile: cert, keyFile: key } });
    s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'reads' }));
    await s3.send(new PutObjectCommand({ Bucket: 'reads', Key: 's3.txt', Body: 'sse-s3 body' }));
    await s3.send(new PutObjectCommand({ Bucket: 'reads', Key: 'kms.txt', Body: 'sse-kms body', ServerSideEncryption: 'aws:kms' }));
    await s3.send(new PutObjectCommand({
      Bucket: 'reads', Key: 'c.txt', Body: 'sse-c body',
      SSECustomerAlgorithm: 'AES256', SSECustomerKey: ssec['x-amz-server-side-encryption-customer-key'], SSECustomerKeyMD5: ssec['x-amz-server-side-encryption-customer-key-md5'],
    }));
  });
  after(async () => {
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = async (method: string, key: string, headers: Record<string, string>) =>
    sendRaw(server.url, await signedS3Request(server.url, { method, path: `/reads/${key}`, headers }));

  it('each of x-amz-server-side-encryption, -aws-kms-key-id, -context and -bucket-key-enabled on a GET → 400 InvalidArgument naming it', async () => {
    for (const key of ['s3.txt', 'kms.txt']) {
      for (const [name, value] of Object.entries(CHOOSING)) {
        const res = await send('GET', key, { [name]: value });
        assert.equal(res.status, 400, `${key} ${name}: ${res.text}`);
        const err = s3XmlError(res);
        assert.equal(err.code, 'InvalidArgument');
        assert.equal(err.message, `${name} header is not supported for this operation.`);
      }
      // The value matching the object's own encryption is refused too: a read does not choose.
      assert.equal((await send('GET', key, { 'x-amz-server-side-encryption': key === 's3.txt' ? 'AES256' : 'aws:kms' })).status, 400);
    }
  });

  it('HEAD with x-amz-server-side-encryption → 400; without it, 200', async () => {
    for (const key of ['s3.txt', 'kms.txt', 'c.txt']) {
      const res = await send('HEAD', key, { 'x-amz-server-side-encryption': 'AES256', ...(key === 'c.txt' ? ssec : {}) });
      assert.equal(res.status, 400, key);
    }
    assert.equal((await send('HEAD', 'kms.txt', {})).status, 200);
  });

  it('the SSE-C customer-key headers stay accepted on GET and HEAD (SDK), and an SSE-C read adding x-amz-server-side-encryption is refused', async () => {
    const c = {
      SSECustomerAlgorithm: 'AES256', SSECustomerKey: ssec['x-amz-server-side-encryption-customer-key'], SSECustomerKeyMD5: ssec['x-amz-server-side-encryption-customer-key-md5'],
    };
    const got = await s3.send(new GetObjectCommand({ Bucket: 'reads', Key: 'c.txt', ...c }));
    assert.equal(await got.Body!.transformToString(), 'sse-c body');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'reads', Key: 'c.txt', ...c }));
    assert.equal(head.SSECustomerKeyMD5, c.SSECustomerKeyMD5);
    const raw = await send('GET', 'c.txt', ssec);
    assert.equal(raw.text, 'sse-c body');
    const mixed = await send('GET', 'c.txt', { ...ssec, 'x-amz-server-side-encryption': 'AES256' });
    assert.equal(mixed.status, 400);
    assert.equal(s3XmlError(mixed).code, 'InvalidArgument');
  });
});

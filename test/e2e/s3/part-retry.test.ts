// A multipart part re-sent with the same bytes (what a client does when an answer is lost) keeps its ETag,
// so CompleteMultipartUpload accepts the part list the client already holds — for SSE-KMS and SSE-C too,
// whose part ETags are not MD5s but an HMAC of the bytes keyed per upload: the same bytes give the same
// ETag within an upload, other bytes (or another upload) another one. @aws-sdk/client-s3 over TLS.
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestServer, startServer } from '../../helpers/server.js';

const MiB = 1024 * 1024;
const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('multipart part retries keep their ETag (SSE-KMS, SSE-C)', () => {
  let dir: string;
  let server: TestServer;
  let s3: S3Client;
  const customerKey = randomBytes(32);
  const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(customerKey).digest('base64') };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-part-retry-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    server = await startServer({ tls: { certFile: cert, keyFile: key } });
    s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'retry' }));
  });
  after(async () => {
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases = [
    { name: 'SSE-KMS', create: { ServerSideEncryption: 'aws:kms' as const }, part: {} },
    { name: 'SSE-C', create: ssec, part: ssec },
  ];

  for (const c of cases) {
    it(`${c.name}: part 1 re-sent with the same bytes answers the same ETag; completing with the first ETags succeeds and reads back`, async () => {
      const Key = `retried-${c.name}.bin`;
      const first = randomBytes(5 * MiB + 11);
      const last = randomBytes(1000); // small enough for the small-body path
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'retry', Key, ...c.create }));
      const put = (PartNumber: number, Body: Buffer) => s3.send(new UploadPartCommand({ Bucket: 'retry', Key, UploadId, PartNumber, Body, ...c.part }));
      const e1 = (await put(1, first)).ETag!;
      const e2 = (await put(2, last)).ETag!;
      assert.match(e1, /^"[0-9a-f]{32}"$/);
      assert.notEqual(e1, `"${md5hex(first)}"`, 'not the MD5 of the plaintext');
      // The retries: the same bytes again, as a client whose first answer was lost.
      assert.equal((await put(1, Buffer.from(first))).ETag, e1);
      assert.equal((await put(2, Buffer.from(last))).ETag, e2);
      const done = await s3.send(new CompleteMultipartUploadCommand({
        Bucket: 'retry', Key, UploadId, ...c.part,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] },
      }));
      assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-2"$/);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'retry', Key, ...c.part }));
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([first, last])));
    });

    it(`${c.name}: other bytes give another ETag, and the same bytes in another upload too (keyed per upload)`, async () => {
      const Key = `distinct-${c.name}.bin`;
      const body = randomBytes(200_000);
      const other = Buffer.from(body);
      other[12_345]! ^= 1;
      const a = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'retry', Key, ...c.create }));
      const b = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'retry', Key, ...c.create }));
      const put = async (UploadId: string, PartNumber: number, Body: Buffer) =>
        (await s3.send(new UploadPartCommand({ Bucket: 'retry', Key, UploadId, PartNumber, Body, ...c.part }))).ETag;
      const ea = await put(a.UploadId!, 1, body);
      assert.notEqual(await put(a.UploadId!, 2, other), ea, 'one flipped bit changes the ETag');
      assert.equal(await put(a.UploadId!, 3, body), ea, 'same bytes under another part number: same ETag (as an MD5 would be)');
      assert.notEqual(await put(b.UploadId!, 1, body), ea, 'another upload, another key');
    });
  }
});

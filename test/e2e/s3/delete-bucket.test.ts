// DeleteBucket over HTTP with @aws-sdk/client-s3: multipart uploads still in progress do not keep a bucket
// (S3 aborts them, and their parts' blobs go); any object version or delete marker still does (BucketNotEmpty).
import {
  AbortMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand, DeleteObjectCommand,
  HeadBucketCommand, ListMultipartUploadsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signedS3Request } from '../../helpers/raw-request.js';
import { TestServer, rejection, startServer } from '../../helpers/server.js';

/** Files under <dataDir>/blobs, not counting writes in progress (or, with `incoming`, only those). */
function blobCount(dataDir: string, incoming = false): number {
  const root = join(dataDir, 'blobs');
  if (!existsSync(root)) return 0;
  let n = 0;
  for (const d of readdirSync(root)) if (d.startsWith('.') === incoming) n += readdirSync(join(root, d)).length;
  return n;
}

describe('DeleteBucket with multipart uploads in progress', () => {
  let server: TestServer;
  let s3: S3Client;

  before(async () => {
    server = await startServer();
    s3 = server.s3();
  });
  after(async () => server.destroy());

  it('a bucket holding only in-progress uploads is deleted: the uploads are aborted and their parts\' blobs removed', async () => {
    const Bucket = 'only-uploads';
    await s3.send(new CreateBucketCommand({ Bucket }));
    const before = blobCount(server.dataDir);
    const a = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'a.bin' }));
    const b = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'dir/b.bin', ServerSideEncryption: 'aws:kms' }));
    for (const PartNumber of [1, 2]) await s3.send(new UploadPartCommand({ Bucket, Key: 'a.bin', UploadId: a.UploadId, PartNumber, Body: randomBytes(100_000) }));
    await s3.send(new UploadPartCommand({ Bucket, Key: 'dir/b.bin', UploadId: b.UploadId, PartNumber: 1, Body: randomBytes(100_000) }));
    assert.equal(blobCount(server.dataDir), before + 3);

    const deleted = await s3.send(new DeleteBucketCommand({ Bucket }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    assert.equal(blobCount(server.dataDir), before, 'every aborted part\'s blob is gone');
    assert.equal((await rejection(s3.send(new HeadBucketCommand({ Bucket })))).$metadata?.httpStatusCode, 404);

    // The bucket can be made again, and the old uploads are not in it.
    await s3.send(new CreateBucketCommand({ Bucket }));
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
    assert.deepEqual(listed.Uploads ?? [], []);
    assert.equal((await rejection(s3.send(new UploadPartCommand({ Bucket, Key: 'a.bin', UploadId: a.UploadId, PartNumber: 3, Body: 'x' })))).name, 'NoSuchUpload');
    assert.equal((await rejection(s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'a.bin', UploadId: a.UploadId })))).name, 'NoSuchUpload');
    await s3.send(new DeleteBucketCommand({ Bucket }));
  });

  it('a part still streaming when the bucket is deleted: the delete succeeds, the part answers NoSuchUpload and leaves no blob', async () => {
    const Bucket = 'racing-part';
    const Key = 'slow.bin';
    await s3.send(new CreateBucketCommand({ Bucket }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const before = blobCount(server.dataDir);
    const half = randomBytes(512 * 1024);
    const signed = await signedS3Request(server.url, {
      method: 'PUT', path: `/${Bucket}/${Key}?partNumber=1&uploadId=${encodeURIComponent(UploadId!)}`,
      headers: { 'content-length': String(2 * half.length) }, payloadHash: 'UNSIGNED-PAYLOAD',
    });
    const url = new URL(server.url);
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method: 'PUT', path: signed.path, headers: signed.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.write(half);
      // The second half only once the bucket is gone: the part is mid-stream while DeleteBucket commits.
      setTimeout(() => {
        s3.send(new DeleteBucketCommand({ Bucket })).then((out) => {
          assert.equal(out.$metadata.httpStatusCode, 204);
          req.end(half);
        }, reject);
      }, 300);
    });
    const res = await answer;
    assert.equal(res.status, 404, res.text);
    assert.match(res.text, /<Code>NoSuchUpload<\/Code>/);
    assert.equal(blobCount(server.dataDir), before, 'no blob of the part remains');
    assert.equal(blobCount(server.dataDir, true), 0, 'nor a half-written one');
  });

  it('an object beside an upload still makes BucketNotEmpty, and nothing is aborted', async () => {
    const Bucket = 'object-and-upload';
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'kept', Body: 'kept' }));
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'pending' }));
    await s3.send(new UploadPartCommand({ Bucket, Key: 'pending', UploadId: up.UploadId, PartNumber: 1, Body: randomBytes(100_000) }));
    const refused = await rejection(s3.send(new DeleteBucketCommand({ Bucket })));
    assert.equal(refused.name, 'BucketNotEmpty');
    assert.equal(refused.$metadata?.httpStatusCode, 409);
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
    assert.deepEqual(listed.Uploads?.map((u) => u.UploadId), [up.UploadId], 'the refused delete aborted nothing');

    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'kept' }));
    await s3.send(new DeleteBucketCommand({ Bucket }));
  });

  it('a versioned bucket holding only a delete marker and an upload is still not empty', async () => {
    const Bucket = 'marker-and-upload';
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'v1' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: put.VersionId }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'pending' }));
    assert.equal((await rejection(s3.send(new DeleteBucketCommand({ Bucket })))).name, 'BucketNotEmpty');
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: marker.VersionId }));
    assert.equal((await s3.send(new DeleteBucketCommand({ Bucket }))).$metadata.httpStatusCode, 204);
  });
});

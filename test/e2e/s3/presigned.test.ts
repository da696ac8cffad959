import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestServer, startServer } from '../../helpers/server.js';

/** Presigned URLs (query-string SigV4, UNSIGNED-PAYLOAD) made by @aws-sdk/s3-request-presigner, used by plain fetch. */
describe('S3 presigned URLs', () => {
  let server: TestServer;
  let s3: S3Client;
  before(async () => {
    server = await startServer();
    s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'shared' }));
  });
  after(async () => server.destroy());

  it('a presigned PUT stores (encrypted as the URL says) and a presigned GET reads, with response overrides', async () => {
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'shared', Key: 'doc one.txt', ServerSideEncryption: 'aws:kms' }), { expiresIn: 300 });
    const put = await fetch(putUrl, { method: 'PUT', body: 'presigned body', headers: { 'x-amz-server-side-encryption': 'aws:kms' } });
    assert.equal(put.status, 200, await put.text());
    assert.equal(put.headers.get('x-amz-server-side-encryption'), 'aws:kms');

    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'shared', Key: 'doc one.txt', ResponseContentDisposition: 'attachment; filename="d.txt"' }), { expiresIn: 300 });
    const got = await fetch(getUrl);
    assert.equal(got.status, 200);
    assert.equal(await got.text(), 'presigned body');
    assert.equal(got.headers.get('content-disposition'), 'attachment; filename="d.txt"');
  });

  it('a tampered or expired URL is refused with S3 errors', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'shared', Key: 'doc one.txt' }), { expiresIn: 1 });
    const tampered = await fetch(url.replace('doc%20one.txt', 'doc%20two.txt'));
    assert.equal(tampered.status, 403);
    assert.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await fetch(url);
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
  });
});

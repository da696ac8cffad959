import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestServer, rejection, startServer } from '../../helpers/server.js';

/** Browser-style uploads: a POST policy signed by @aws-sdk/s3-presigned-post, sent as multipart/form-data by fetch. */
describe('S3 POST Object (browser form uploads with a SigV4 POST policy)', () => {
  let server: TestServer;
  let s3: S3Client;
  before(async () => {
    server = await startServer();
    s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'forms' }));
  });
  after(async () => server.destroy());

  async function post(fields: Record<string, string>, file: Buffer, url = `${server.url}/forms`): Promise<Response> {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', new Blob([new Uint8Array(file)]), 'photo.jpg');
    return fetch(url, { method: 'POST', body: form, redirect: 'manual' });
  }

  it('uploads under the policy; ${filename} expands; 204 by default, 201 with a PostResponse document', async () => {
    const { fields } = await createPresignedPost(s3, { Bucket: 'forms', Key: 'uploads/${filename}', Conditions: [['starts-with', '$key', 'uploads/'], ['content-length-range', 1, 1024 * 1024]], Expires: 600 });
    const res = await post(fields, Buffer.from('jpeg bytes'));
    assert.equal(res.status, 204, await res.text());
    const got = await s3.send(new GetObjectCommand({ Bucket: 'forms', Key: 'uploads/photo.jpg' }));
    assert.equal(await got.Body!.transformToString(), 'jpeg bytes');
    assert.equal(got.ServerSideEncryption, 'AES256');

    const signed = await createPresignedPost(s3, { Bucket: 'forms', Key: 'two.txt', Fields: { success_action_status: '201' }, Expires: 600 });
    const res201 = await post(signed.fields, Buffer.from('two'));
    assert.equal(res201.status, 201);
    const xml = await res201.text();
    assert.match(xml, /<PostResponse><Location>\/forms\/two.txt<\/Location><Bucket>forms<\/Bucket><Key>two.txt<\/Key><ETag>&quot;[0-9a-f]{32}&quot;<\/ETag><\/PostResponse>/);
  });

  it('takes the SSE fields a PUT takes: aws:kms in the form encrypts under KMS', async () => {
    const { fields } = await createPresignedPost(s3, {
      Bucket: 'forms',
      Key: 'kms.txt',
      Fields: { 'x-amz-server-side-encryption': 'aws:kms' },
      Conditions: [{ 'x-amz-server-side-encryption': 'aws:kms' }],
      Expires: 600,
    });
    const res = await post(fields, Buffer.from('under kms'));
    assert.equal(res.status, 204, await res.text());
    assert.equal(res.headers.get('x-amz-server-side-encryption'), 'aws:kms');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'forms', Key: 'kms.txt' }));
    assert.equal(head.ServerSideEncryption, 'aws:kms');
  });

  it('refuses what the policy does not allow, a tampered policy and a too-large file, writing nothing', async () => {
    const { fields } = await createPresignedPost(s3, { Bucket: 'forms', Key: 'limited.txt', Conditions: [['content-length-range', 0, 10]], Expires: 600 });
    const big = await post(fields, Buffer.alloc(11, 1));
    assert.equal(big.status, 400);
    assert.match(await big.text(), /<Code>EntityTooLarge<\/Code>/);

    const extra = await post({ ...fields, 'x-amz-meta-sneaky': 'yes' }, Buffer.from('x'));
    const extraText = await extra.text();
    assert.equal(extra.status, 403, extraText);
    assert.match(extraText, /<Code>AccessDenied<\/Code><Message>Invalid according to Policy: Invalid according to Policy: Extra input fields: x-amz-meta-sneaky/);

    const policy = JSON.parse(Buffer.from(fields.Policy!, 'base64').toString());
    policy.conditions.push(['content-length-range', 0, 10 ** 9]);
    const tampered = await post({ ...fields, Policy: Buffer.from(JSON.stringify(policy)).toString('base64') }, Buffer.alloc(11, 1));
    const tamperedText = await tampered.text();
    assert.equal(tampered.status, 403, tamperedText);
    assert.match(tamperedText, /<Code>SignatureDoesNotMatch<\/Code>/);

    const missing = await rejection(s3.send(new HeadObjectCommand({ Bucket: 'forms', Key: 'limited.txt' })));
    assert.equal(missing.name, 'NotFound');
  });

  it('an expired policy is refused', async () => {
    const { fields } = await createPresignedPost(s3, { Bucket: 'forms', Key: 'late.txt', Expires: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    const res = await post(fields, Buffer.from('late'));
    assert.equal(res.status, 403);
    assert.match(await res.text(), /Policy expired/);
  });
});

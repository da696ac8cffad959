import {
  CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetBucketEncryptionCommand, GetBucketLocationCommand, GetObjectCommand,
  HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsCommand, ListObjectsV2Command, PutBucketEncryptionCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

describe('S3 buckets and objects with @aws-sdk/client-s3', () => {
  let server: TestServer;
  let s3: S3Client;
  before(async () => {
    server = await startServer();
    s3 = server.s3();
  });
  after(async () => server.destroy());

  it('creates, heads, lists and locates a bucket; a second create is refused', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'alpha' }));
    await s3.send(new HeadBucketCommand({ Bucket: 'alpha' }));
    const list = await s3.send(new ListBucketsCommand({}));
    assert.deepEqual(list.Buckets?.map((b) => b.Name), ['alpha']);
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: 'alpha' }));
    assert.equal(loc.LocationConstraint, undefined);
    const err = await rejection(s3.send(new CreateBucketCommand({ Bucket: 'alpha', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })));
    assert.equal(err.name, 'IllegalLocationConstraintException');
    const bad = await rejection(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })));
    assert.equal(bad.name, 'InvalidBucketName');
  });

  it('puts and gets an object: SSE-S3 by default, MD5 ETag, metadata, ranges', async () => {
    const body = Buffer.from('hello, strongroom '.repeat(10_000));
    const put = await s3.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'dir/a.txt', Body: body, ContentType: 'text/plain', Metadata: { team: 'blue' } }));
    assert.equal(put.ServerSideEncryption, 'AES256');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'dir/a.txt' }));
    assert.equal(got.ServerSideEncryption, 'AES256');
    assert.equal(got.ContentType, 'text/plain');
    assert.equal(got.Metadata?.team, 'blue');
    assert.equal(got.ETag, put.ETag);
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
    const range = await s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'dir/a.txt', Range: 'bytes=70000-70099' }));
    assert.equal(range.ContentRange, `bytes 70000-70099/${body.length}`);
    assert.deepEqual(Buffer.from(await range.Body!.transformToByteArray()), body.subarray(70000, 70100));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'alpha', Key: 'dir/a.txt' }));
    assert.equal(head.ContentLength, body.length);
  });

  it('lists with prefixes and delimiters (v1 and v2), pages with continuation tokens', async () => {
    for (const k of ['dir/b.txt', 'dir/sub/c.txt', 'top.txt']) await s3.send(new PutObjectCommand({ Bucket: 'alpha', Key: k, Body: k }));
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: 'alpha', Delimiter: '/', Prefix: 'dir/' }));
    assert.deepEqual(v2.Contents?.map((c) => c.Key), ['dir/a.txt', 'dir/b.txt']);
    assert.deepEqual(v2.CommonPrefixes?.map((p) => p.Prefix), ['dir/sub/']);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'alpha', MaxKeys: 2, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((c) => c.Key!));
      token = page.NextContinuationToken;
    } while (token);
    assert.deepEqual(keys, ['dir/a.txt', 'dir/b.txt', 'dir/sub/c.txt', 'top.txt']);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'alpha', Delimiter: '/' }));
    assert.deepEqual(v1.CommonPrefixes?.map((p) => p.Prefix), ['dir/']);
    assert.deepEqual(v1.Contents?.map((c) => c.Key), ['top.txt']);
  });

  it('answers NoSuchKey / NoSuchBucket, deletes objects, refuses to delete a non-empty bucket', async () => {
    assert.equal((await rejection(s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'missing' })))).name, 'NoSuchKey');
    assert.equal((await rejection(s3.send(new GetObjectCommand({ Bucket: 'nope', Key: 'x' })))).name, 'NoSuchBucket');
    assert.equal((await rejection(s3.send(new DeleteBucketCommand({ Bucket: 'alpha' })))).name, 'BucketNotEmpty');
    await s3.send(new CreateBucketCommand({ Bucket: 'empty-one' }));
    await s3.send(new PutObjectCommand({ Bucket: 'empty-one', Key: 'k', Body: 'v' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'empty-one', Key: 'k' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'empty-one' }));
  });

  it('bucket default encryption aws:kms uses the AWS managed key aws/s3, created on first use', async () => {
    const enc0 = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'alpha' }));
    assert.equal(enc0.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');
    await s3.send(new PutBucketEncryptionCommand({ Bucket: 'alpha', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } }));
    const put = await s3.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'kms.txt', Body: 'secret' }));
    assert.equal(put.ServerSideEncryption, 'aws:kms');
    assert.match(put.SSEKMSKeyId ?? '', new RegExp(`^arn:aws:kms:${TEST_REGION}:111122223333:key/`));
    assert.notEqual(put.ETag, '"' + 'e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4' + '"');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'kms.txt' }));
    assert.equal(await got.Body!.transformToString(), 'secret');
    assert.equal(got.SSEKMSKeyId, put.SSEKMSKeyId);
  });

  it('stores the CRC32 the SDK sends (header or aws-chunked trailer) and answers it with ChecksumMode ENABLED', async () => {
    const body = Buffer.from('checksummed body '.repeat(5000));
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    const expected = crc.toString('base64');
    await s3.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'crc-buffer', Body: body, ChecksumAlgorithm: 'CRC32' }));
    // A stream body of known length goes out aws-chunked, the checksum in the trailer.
    await s3.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'crc-stream', Body: Readable.from([body]), ContentLength: body.length, ChecksumAlgorithm: 'CRC32' }));
    for (const Key of ['crc-buffer', 'crc-stream']) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'alpha', Key, ChecksumMode: 'ENABLED' }));
      assert.equal(got.ChecksumCRC32, expected, Key);
      assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
    }
  });
});


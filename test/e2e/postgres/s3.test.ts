// S3 end to end on PostgreSQL (issue 10's representative set): @aws-sdk/client-s3 against a server whose
// buckets, object versions, uploads and sealed bodies (1 MiB chunk rows) all live in PostgreSQL — SSE-S3 and
// SSE-KMS objects small and spanning several chunks, multipart, ranges across chunk boundaries, listing,
// deletes, a bucket policy deciding a user's calls, versioning.
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, ListObjectVersionsCommand, PutBucketEncryptionCommand, PutBucketPolicyCommand, PutBucketVersioningCommand, PutObjectCommand,
  S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { postgresSkip } from '../../helpers/postgres.js';
import { Clients, Credentials, allow, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection } from '../../helpers/server.js';
import { startPostgresServer } from './pg-server.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('S3 on PostgreSQL', { skip: postgresSkip() }, () => {
  let server: TestServer;
  let clients: Clients;
  let s3: S3Client;
  let kms: KMSClient;
  before(async () => {
    server = await startPostgresServer();
    clients = new Clients(server);
    s3 = server.s3();
    kms = server.kms();
  });
  after(async () => {
    clients.destroy();
    await server?.destroy();
  });
  const body = async (out: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) => Buffer.from(await out.Body!.transformToByteArray());
  const get = async (Bucket: string, Key: string, extra: { Range?: string; VersionId?: string } = {}) => s3.send(new GetObjectCommand({ Bucket, Key, ...extra }));

  it('SSE-S3 objects, small and spanning several chunks, come back whole and in ranges (across chunk boundaries)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pg-sse-s3' }));
    const small = Buffer.from('small object over postgres');
    const large = randomBytes(3 * MiB + 12_345); // > 128 KiB (the SQLite tier's limit) and several 1 MiB chunk rows
    for (const [Key, data] of [['small', small], ['large', large]] as const) {
      const put = await s3.send(new PutObjectCommand({ Bucket: 'pg-sse-s3', Key, Body: data }));
      assert.equal(put.ServerSideEncryption, 'AES256');
      assert.equal(put.ETag, `"${md5(data)}"`);
      const got = await get('pg-sse-s3', Key);
      assert.equal(got.ServerSideEncryption, 'AES256');
      assert.ok((await body(got)).equals(data), `${Key} comes back whole`);
    }
    for (const [start, end] of [[0, 0], [MiB - 10, MiB + 10], [2 * MiB - 1, 3 * MiB + 5], [large.length - 100, large.length - 1]] as const) {
      const part = await get('pg-sse-s3', 'large', { Range: `bytes=${start}-${end}` });
      assert.equal(part.ContentRange, `bytes ${start}-${end}/${large.length}`);
      assert.ok((await body(part)).equals(large.subarray(start, end + 1)), `bytes ${start}-${end}`);
    }
    assert.equal((await rejection(get('pg-sse-s3', 'large', { Range: `bytes=${large.length}-` }))).name, 'InvalidRange');
  });

  it('SSE-KMS objects (a customer key, and the bucket default with aws/s3) are encrypted under the key and decrypt on read', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pg-sse-kms' }));
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const data = randomBytes(300 * 1024);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'pg-sse-kms', Key: 'cmk', Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.Arn }));
    assert.equal(put.ServerSideEncryption, 'aws:kms');
    assert.equal(put.SSEKMSKeyId, key.Arn);
    const got = await get('pg-sse-kms', 'cmk');
    assert.equal(got.SSEKMSKeyId, key.Arn);
    assert.ok((await body(got)).equals(data));
    await s3.send(new PutBucketEncryptionCommand({ Bucket: 'pg-sse-kms', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } }));
    const byDefault = await s3.send(new PutObjectCommand({ Bucket: 'pg-sse-kms', Key: 'default', Body: 'default key' }));
    assert.equal(byDefault.ServerSideEncryption, 'aws:kms');
    assert.match(byDefault.SSEKMSKeyId!, new RegExp(`^arn:aws:kms:us-east-1:${TEST_ACCOUNT}:key/`));
    assert.notEqual(byDefault.SSEKMSKeyId, key.Arn);
    assert.equal((await body(await get('pg-sse-kms', 'default'))).toString(), 'default key');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'pg-sse-kms', Key: 'default' }));
    assert.equal(head.SSEKMSKeyId, byDefault.SSEKMSKeyId);
  });

  it('a multipart upload (SSE-KMS) of 5 MiB + 5 MiB + 1 byte parts completes to the whole object, readable in ranges', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pg-multipart' }));
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'pg-multipart', Key: 'big', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.KeyId }));
    const etags: string[] = [];
    for (const [i, p] of parts.entries()) {
      etags.push((await s3.send(new UploadPartCommand({ Bucket: 'pg-multipart', Key: 'big', UploadId, PartNumber: i + 1, Body: p }))).ETag!);
    }
    const done = await s3.send(new CompleteMultipartUploadCommand({
      Bucket: 'pg-multipart', Key: 'big', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }));
    const whole = Buffer.concat(parts);
    // S3's multipart ETag: the MD5 of the parts' binary ETags, and their count (SSE-KMS part ETags are not MD5s of the data).
    const expected = createHash('md5').update(Buffer.concat(etags.map((e) => Buffer.from(e.replaceAll('"', ''), 'hex')))).digest('hex');
    assert.equal(done.ETag, `"${expected}-3"`);
    const got = await get('pg-multipart', 'big');
    assert.equal(got.ServerSideEncryption, 'aws:kms');
    assert.equal(got.ContentLength, whole.length);
    assert.ok((await body(got)).equals(whole));
    const across = await get('pg-multipart', 'big', { Range: `bytes=${5 * MiB - 3}-${5 * MiB + 2}` });
    assert.ok((await body(across)).equals(whole.subarray(5 * MiB - 3, 5 * MiB + 3)), 'a range across the parts');
  });

  it('ListObjectsV2 pages by continuation token and groups by delimiter; DeleteObject removes the key (NoSuchKey after)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pg-list' }));
    const keys = ['a/1', 'a/2', 'b/1', 'B/1', 'c', 'd'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'pg-list', Key, Body: Key }));
    const seen: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'pg-list', MaxKeys: 4, ContinuationToken }));
      seen.push(...page.Contents!.map((o) => o.Key!));
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    // S3 lists in UTF-8 binary order ('B' < 'a'), whatever the database's collation.
    assert.deepEqual(seen, ['B/1', 'a/1', 'a/2', 'b/1', 'c', 'd']);
    const grouped = await s3.send(new ListObjectsV2Command({ Bucket: 'pg-list', Delimiter: '/' }));
    assert.deepEqual(grouped.CommonPrefixes!.map((p) => p.Prefix), ['B/', 'a/', 'b/']);
    assert.deepEqual(grouped.Contents!.map((o) => o.Key), ['c', 'd']);
    await s3.send(new DeleteObjectCommand({ Bucket: 'pg-list', Key: 'c' }));
    assert.equal((await rejection(get('pg-list', 'c'))).name, 'NoSuchKey');
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'pg-list', Prefix: 'c' }))).KeyCount, 0);
  });

  it('a bucket policy lets a user with no IAM permission read, and its Deny refuses a write the user is allowed by IAM', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pg-policy' }));
    await s3.send(new PutObjectCommand({ Bucket: 'pg-policy', Key: 'doc', Body: 'shared' }));
    await clients.iam().send(new CreateUserCommand({ UserName: 'pg-reader' }));
    const { AccessKey } = await clients.iam().send(new CreateAccessKeyCommand({ UserName: 'pg-reader' }));
    const reader: Credentials = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    await clients.iam().send(new PutUserPolicyCommand({ UserName: 'pg-reader', PolicyName: 'put', PolicyDocument: policyDocument(allow('s3:PutObject')) }));
    const asReader = server.s3({ credentials: reader });
    assert.equal((await rejection(asReader.send(new GetObjectCommand({ Bucket: 'pg-policy', Key: 'doc' })))).name, 'AccessDenied');
    await asReader.send(new PutObjectCommand({ Bucket: 'pg-policy', Key: 'mine', Body: 'x' }));
    const principal = { AWS: `arn:aws:iam::${TEST_ACCOUNT}:user/pg-reader` };
    await s3.send(new PutBucketPolicyCommand({
      Bucket: 'pg-policy',
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: 'arn:aws:s3:::pg-policy/*' },
          { Effect: 'Deny', Principal: principal, Action: 's3:PutObject', Resource: 'arn:aws:s3:::pg-policy/*' },
        ],
      }),
    }));
    assert.equal((await body(await asReader.send(new GetObjectCommand({ Bucket: 'pg-policy', Key: 'doc' })))).toString(), 'shared');
    assert.equal((await rejection(asReader.send(new PutObjectCommand({ Bucket: 'pg-policy', Key: 'mine', Body: 'y' })))).name, 'AccessDenied');
  });

  it('versioning: each PUT is a version, a DELETE adds a delete marker, older versions stay readable by id', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pg-versions' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'pg-versions', VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'pg-versions', Key: 'k', Body: 'one' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: 'pg-versions', Key: 'k', Body: randomBytes(200 * 1024) }))).VersionId!;
    assert.ok(v1 && v2 && v1 !== v2);
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: 'pg-versions', Key: 'k' }));
    assert.equal(marker.DeleteMarker, true);
    assert.equal((await rejection(get('pg-versions', 'k'))).name, 'NoSuchKey');
    assert.equal((await body(await get('pg-versions', 'k', { VersionId: v1 }))).toString(), 'one');
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: 'pg-versions' }));
    assert.deepEqual(listed.Versions!.map((v) => [v.VersionId, v.IsLatest]), [[v2, false], [v1, false]]);
    assert.deepEqual(listed.DeleteMarkers!.map((m) => [m.VersionId, m.IsLatest]), [[marker.VersionId, true]]);
    await s3.send(new DeleteObjectCommand({ Bucket: 'pg-versions', Key: 'k', VersionId: marker.VersionId }));
    assert.equal((await body(await get('pg-versions', 'k'))).length, 200 * 1024, 'removing the marker brings v2 back');
  });
});

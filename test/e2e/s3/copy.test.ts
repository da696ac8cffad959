// CopyObject end to end with @aws-sdk/client-s3 over HTTPS (SSE-C keys travel only over TLS):
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
import {
  CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutBucketEncryptionCommand,
  PutBucketVersioningCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreatePolicyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IAMClient } from '@aws-sdk/client-iam';
import { allow, policyDocument } from '../../helpers/query-clients.js';
import { TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

const SELF_COPY = "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.";

describe('S3 CopyObject', () => {
  let server: TestServer;
  let s3: S3Client;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-copy-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    server = await startServer({ tls: { certFile: cert, keyFile: key } });
    s3 = server.s3();
    for (const b of ['src', 'dst']) await s3.send(new CreateBucketCommand({ Bucket: b }));
  });
  after(async () => {
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const read = async (Bucket: string, Key: string, extra: Record<string, string> = {}) =>
    (await s3.send(new GetObjectCommand({ Bucket, Key, ...extra }))).Body!.transformToString();

  it('copies across buckets: COPY keeps the source metadata, REPLACE takes the request’s; CopyObjectResult has ETag and LastModified', async () => {
    const body = 'payroll '.repeat(20_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'src', Key: 'a.txt', Body: body, ContentType: 'text/plain', Metadata: { team: 'blue' }, ChecksumAlgorithm: 'CRC32' }));
    const copy = await s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'b.txt', CopySource: 'src/a.txt', ContentType: 'ignored/under-copy' }));
    assert.equal(copy.CopyObjectResult?.ETag, put.ETag);
    assert.ok(copy.CopyObjectResult?.LastModified instanceof Date);
    assert.equal(copy.CopyObjectResult?.ChecksumCRC32, put.ChecksumCRC32);
    assert.equal(copy.ServerSideEncryption, 'AES256');
    assert.equal(copy.CopySourceVersionId, undefined);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'dst', Key: 'b.txt' }));
    assert.equal(got.ContentType, 'text/plain');
    assert.equal(got.Metadata?.team, 'blue');
    assert.equal(await got.Body!.transformToString(), body);

    await s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'c.txt', CopySource: '/src/a.txt', MetadataDirective: 'REPLACE', ContentType: 'text/csv', Metadata: { team: 'red' } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'dst', Key: 'c.txt' }));
    assert.equal(head.ContentType, 'text/csv');
    assert.deepEqual(head.Metadata, { team: 'red' });
    assert.equal(head.ContentLength, body.length);

    // Keys are URL-encoded in x-amz-copy-source.
    await s3.send(new PutObjectCommand({ Bucket: 'src', Key: 'dir/odd key?&.txt', Body: 'odd' }));
    await s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'odd', CopySource: `src/${encodeURIComponent('dir/odd key?&.txt')}` }));
    assert.equal(await read('dst', 'odd'), 'odd');

    assert.equal((await rejection(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'x', CopySource: 'src/missing' })))).name, 'NoSuchKey');
    assert.equal((await rejection(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'x', CopySource: 'nobucket/a.txt' })))).name, 'NoSuchBucket');
    assert.equal((await rejection(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'x', CopySource: 'src/a.txt', MetadataDirective: 'MOVE' as 'COPY' })))).name, 'InvalidArgument');
  });

  it('copies a given version of a versioned source and answers x-amz-copy-source-version-id; a delete marker cannot be copied', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'vsrc' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'vsrc', VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket: 'vsrc', Key: 'k', Body: 'first' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: 'vsrc', Key: 'k', Body: 'second' }));
    const old = await s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'restored', CopySource: `vsrc/k?versionId=${v1.VersionId}` }));
    assert.equal(old.CopySourceVersionId, v1.VersionId);
    assert.equal(await read('dst', 'restored'), 'first');
    const latest = await s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'latest', CopySource: 'vsrc/k' }));
    assert.equal(latest.CopySourceVersionId, v2.VersionId);

    // Restoring an older version onto the same key is a copy that changes the object: allowed, a new version.
    const restore = await s3.send(new CopyObjectCommand({ Bucket: 'vsrc', Key: 'k', CopySource: `vsrc/k?versionId=${v1.VersionId}` }));
    assert.match(restore.VersionId ?? '', /^[A-Za-z0-9_-]{32}$/);
    assert.notEqual(restore.VersionId, v1.VersionId);
    assert.equal(await read('vsrc', 'k'), 'first');

    const marker = await s3.send(new DeleteObjectCommand({ Bucket: 'vsrc', Key: 'k' }));
    assert.equal((await rejection(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'x', CopySource: 'vsrc/k' })))).name, 'NoSuchKey');
    const byMarker = await rejection(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'x', CopySource: `vsrc/k?versionId=${marker.VersionId}` })));
    assert.equal(byMarker.name, 'InvalidRequest');
    assert.equal(byMarker.$metadata?.httpStatusCode, 400);
  });

  it('refuses a copy onto itself that changes nothing; allows it in place from SSE-S3 to SSE-KMS, re-encrypted', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'src', Key: 'inplace', Body: 'rewrap me', Metadata: { keep: 'me' } }));
    const same = await rejection(s3.send(new CopyObjectCommand({ Bucket: 'src', Key: 'inplace', CopySource: 'src/inplace' })));
    assert.equal(same.name, 'InvalidRequest');
    assert.equal(same.message, SELF_COPY);

    const kms = await s3.send(new CopyObjectCommand({ Bucket: 'src', Key: 'inplace', CopySource: 'src/inplace', ServerSideEncryption: 'aws:kms' }));
    assert.equal(kms.ServerSideEncryption, 'aws:kms');
    assert.match(kms.SSEKMSKeyId ?? '', new RegExp(`^arn:aws:kms:${TEST_REGION}:111122223333:key/`));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'src', Key: 'inplace' }));
    assert.equal(head.ServerSideEncryption, 'aws:kms');
    assert.equal(head.SSEKMSKeyId, kms.SSEKMSKeyId);
    assert.equal(head.Metadata?.keep, 'me');
    assert.equal(await read('src', 'inplace'), 'rewrap me');

    // REPLACE metadata is a change too.
    await s3.send(new CopyObjectCommand({ Bucket: 'src', Key: 'inplace', CopySource: 'src/inplace', MetadataDirective: 'REPLACE', Metadata: { keep: 'no' } }));
    const after = await s3.send(new HeadObjectCommand({ Bucket: 'src', Key: 'inplace' }));
    assert.equal(after.Metadata?.keep, 'no');
    // Without encryption headers the destination gets the bucket default (SSE-S3 here), not the source's SSE-KMS.
    assert.equal(after.ServerSideEncryption, 'AES256');
  });

  it('the destination bucket default encryption applies when the request sets none', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'kmsdst' }));
    await s3.send(new PutBucketEncryptionCommand({ Bucket: 'kmsdst', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' }, BucketKeyEnabled: true }] } }));
    const copy = await s3.send(new CopyObjectCommand({ Bucket: 'kmsdst', Key: 'k', CopySource: 'src/a.txt' }));
    assert.equal(copy.ServerSideEncryption, 'aws:kms');
    assert.equal(copy.BucketKeyEnabled, true);
    const explicit = await s3.send(new CopyObjectCommand({ Bucket: 'kmsdst', Key: 'k2', CopySource: 'src/a.txt', ServerSideEncryption: 'AES256' }));
    assert.equal(explicit.ServerSideEncryption, 'AES256');
  });

  it('x-amz-copy-source-if-* conditions: a failing one is 412 PreconditionFailed', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'src', Key: 'cond', Body: 'c' }));
    const wrongTag = await rejection(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'cond', CopySource: 'src/cond', CopySourceIfMatch: '"0123"' })));
    assert.equal(wrongTag.name, 'PreconditionFailed');
    assert.equal(wrongTag.$metadata?.httpStatusCode, 412);
    const noneMatch = await rejection(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'cond', CopySource: 'src/cond', CopySourceIfNoneMatch: put.ETag })));
    assert.equal(noneMatch.name, 'PreconditionFailed');
    const future = new Date(Date.now() + 3_600_000);
    assert.equal((await rejection(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'cond', CopySource: 'src/cond', CopySourceIfModifiedSince: future })))).name, 'PreconditionFailed');
    const past = new Date(Date.now() - 3_600_000);
    assert.equal((await rejection(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'cond', CopySource: 'src/cond', CopySourceIfUnmodifiedSince: past })))).name, 'PreconditionFailed');
    // If-Match that holds wins over a failing If-Unmodified-Since.
    await s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'cond', CopySource: 'src/cond', CopySourceIfMatch: put.ETag, CopySourceIfUnmodifiedSince: past }));
    assert.equal(await read('dst', 'cond'), 'c');
  });

  it('an SSE-C source is read only with the x-amz-copy-source-server-side-encryption-customer-* key', async () => {
    const key = randomBytes(32);
    const sseC = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') };
    await s3.send(new PutObjectCommand({ Bucket: 'src', Key: 'customer', Body: 'customer secret', ...sseC }));
    const without = await rejection(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'plain', CopySource: 'src/customer' })));
    assert.equal(without.name, 'InvalidRequest');
    const other = randomBytes(32);
    const wrong = await rejection(s3.send(new CopyObjectCommand({
      Bucket: 'dst', Key: 'plain', CopySource: 'src/customer',
      CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: other.toString('base64'), CopySourceSSECustomerKeyMD5: createHash('md5').update(other).digest('base64'),
    })));
    assert.equal(wrong.name, 'AccessDenied');
    const copy = await s3.send(new CopyObjectCommand({
      Bucket: 'dst', Key: 'plain', CopySource: 'src/customer',
      CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: sseC.SSECustomerKey, CopySourceSSECustomerKeyMD5: sseC.SSECustomerKeyMD5,
    }));
    assert.equal(copy.ServerSideEncryption, 'AES256');
    assert.equal(await read('dst', 'plain'), 'customer secret');

    // In place to a new customer key: the old key opens the source, the new one seals the copy.
    const next = randomBytes(32);
    const nextC = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: next.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(next).digest('base64') };
    const rekey = await s3.send(new CopyObjectCommand({
      Bucket: 'src', Key: 'customer', CopySource: 'src/customer', ...nextC,
      CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: sseC.SSECustomerKey, CopySourceSSECustomerKeyMD5: sseC.SSECustomerKeyMD5,
    }));
    assert.equal(rekey.SSECustomerKeyMD5, nextC.SSECustomerKeyMD5);
    assert.equal(await read('src', 'customer', nextC), 'customer secret');
    assert.equal((await rejection(s3.send(new GetObjectCommand({ Bucket: 'src', Key: 'customer', ...sseC })))).name, 'AccessDenied');
  });

  it('needs s3:GetObject on the source and s3:PutObject on the destination', async () => {
    const iam = new IAMClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1, requestHandler: { httpsAgent: { rejectUnauthorized: false } } });
    try {
      await iam.send(new CreateUserCommand({ UserName: 'copier' }));
      const policy = await iam.send(new CreatePolicyCommand({ PolicyName: 'copy-to-dst', PolicyDocument: policyDocument(allow('s3:PutObject', 'arn:aws:s3:::dst/*'), allow('s3:GetObject', 'arn:aws:s3:::src/open/*')) }));
      await iam.send(new AttachUserPolicyCommand({ UserName: 'copier', PolicyArn: policy.Policy!.Arn }));
      const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'copier' }))).AccessKey!;
      const user = server.s3({ credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! } });
      await s3.send(new PutObjectCommand({ Bucket: 'src', Key: 'open/ok', Body: 'ok' }));
      await user.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'from-user', CopySource: 'src/open/ok' }));
      assert.equal(await read('dst', 'from-user'), 'ok');
      const denied = await rejection(user.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'from-user2', CopySource: 'src/a.txt' })));
      assert.equal(denied.name, 'AccessDenied');
      assert.match(denied.message, /s3:GetObject/);
      const noPut = await rejection(user.send(new CopyObjectCommand({ Bucket: 'src', Key: 'open/copy', CopySource: 'src/open/ok' })));
      assert.equal(noPut.name, 'AccessDenied');
      assert.match(noPut.message, /s3:PutObject/);
    } finally {
      iam.destroy();
    }
  });
});

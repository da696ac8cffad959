// GetObjectAttributes over HTTPS with @aws-sdk/client-s3's GetObjectAttributesCommand: the attributes asked
// for (ETag, Checksum, ObjectParts, StorageClass, ObjectSize) of the latest version or of a versionId, a
// multipart object's parts with their checksums (paged by MaxParts/PartNumberMarker), the SSE-C key required
// for an SSE-C object, and the IAM actions AWS documents (s3:GetObject + s3:GetObjectAttributes, or with a
// version id s3:GetObjectVersion + s3:GetObjectVersionAttributes).
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectAttributesCommand, HeadObjectCommand,
  PutBucketVersioningCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Clients, allow, policyDocument } from '../../helpers/query-clients.js';
import { TestServer, rejection, startServer } from '../../helpers/server.js';

const MiB = 1024 * 1024;
const md5hex = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const sha256b64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const ALL = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;

describe('GetObjectAttributes', () => {
  let dir: string;
  let server: TestServer;
  let s3: S3Client;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-attrs-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    server = await startServer({ tls: { certFile: cert, keyFile: key } });
    s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'attrs' }));
  });
  after(async () => {
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a single-part object: ETag (unquoted), its CRC32 checksum (FULL_OBJECT), STANDARD, its size; no ObjectParts; only what was asked', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'attrs', Key: 'one.txt', Body: 'hello attributes', ChecksumAlgorithm: 'CRC32' }));
    const out = await s3.send(new GetObjectAttributesCommand({ Bucket: 'attrs', Key: 'one.txt', ObjectAttributes: [...ALL] }));
    assert.equal(out.ETag, md5hex('hello attributes'));
    assert.equal(`"${out.ETag}"`, put.ETag);
    assert.equal(out.Checksum?.ChecksumCRC32, put.ChecksumCRC32);
    assert.equal(out.Checksum?.ChecksumType, 'FULL_OBJECT');
    assert.equal(out.StorageClass, 'STANDARD');
    assert.equal(out.ObjectSize, 16);
    assert.equal(out.ObjectParts, undefined);
    assert.ok(out.LastModified instanceof Date);

    const some = await s3.send(new GetObjectAttributesCommand({ Bucket: 'attrs', Key: 'one.txt', ObjectAttributes: ['ObjectSize'] }));
    assert.equal(some.ObjectSize, 16);
    assert.equal(some.ETag, undefined);
    assert.equal(some.Checksum, undefined);

    const bad = await rejection(s3.send(new GetObjectAttributesCommand({ Bucket: 'attrs', Key: 'one.txt', ObjectAttributes: ['Colour' as 'ETag'] })));
    assert.equal(bad.name, 'InvalidArgument');
    assert.equal(bad.$metadata?.httpStatusCode, 400);
    assert.equal((await rejection(s3.send(new GetObjectAttributesCommand({ Bucket: 'attrs', Key: 'missing', ObjectAttributes: ['ETag'] })))).name, 'NoSuchKey');
  });

  it('a multipart SHA-256 object: PartsCount, every part\'s number, size and checksum, paged by MaxParts and PartNumberMarker; the COMPOSITE checksum', async () => {
    const Key = 'multi.bin';
    const bodies = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'attrs', Key, ChecksumAlgorithm: 'SHA256' }));
    const parts = [];
    for (const [i, Body] of bodies.entries()) {
      const p = await s3.send(new UploadPartCommand({ Bucket: 'attrs', Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'SHA256' }));
      assert.equal(p.ChecksumSHA256, sha256b64(Body));
      parts.push({ PartNumber: i + 1, ETag: p.ETag, ChecksumSHA256: p.ChecksumSHA256 });
    }
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'attrs', Key, UploadId, MultipartUpload: { Parts: parts } }));

    const all = await s3.send(new GetObjectAttributesCommand({ Bucket: 'attrs', Key, ObjectAttributes: [...ALL] }));
    assert.equal(`"${all.ETag}"`, done.ETag);
    assert.match(all.ETag ?? '', /^[0-9a-f]{32}-3$/);
    assert.equal(all.ObjectSize, 10 * MiB + 1234);
    assert.equal(all.Checksum?.ChecksumType, 'COMPOSITE');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'attrs', Key, ChecksumMode: 'ENABLED' }));
    assert.equal(`${all.Checksum?.ChecksumSHA256}-3`, head.ChecksumSHA256, 'the checksum of checksums, without HeadObject\'s -3');
    assert.equal(all.ObjectParts?.TotalPartsCount, 3);
    assert.equal(all.ObjectParts?.IsTruncated, false);
    assert.deepEqual(all.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumSHA256]), bodies.map((b, i) => [i + 1, b.length, sha256b64(b)]));

    const first = await s3.send(new GetObjectAttributesCommand({ Bucket: 'attrs', Key, ObjectAttributes: ['ObjectParts'], MaxParts: 2 }));
    assert.equal(first.ObjectParts?.IsTruncated, true);
    assert.equal(first.ObjectParts?.MaxParts, 2);
    assert.equal(first.ObjectParts?.NextPartNumberMarker, '2');
    assert.deepEqual(first.ObjectParts?.Parts?.map((p) => p.PartNumber), [1, 2]);
    const rest = await s3.send(new GetObjectAttributesCommand({ Bucket: 'attrs', Key, ObjectAttributes: ['ObjectParts'], MaxParts: 2, PartNumberMarker: first.ObjectParts!.NextPartNumberMarker }));
    assert.equal(rest.ObjectParts?.IsTruncated, false);
    assert.equal(rest.ObjectParts?.PartNumberMarker, '2');
    assert.deepEqual(rest.ObjectParts?.Parts?.map((p) => p.PartNumber), [3]);
  });

  it('a multipart object without an additional checksum: PartsCount only, no <Part>s (as S3 answers for general purpose buckets)', async () => {
    const Key = 'multi-plain.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'attrs', Key }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'attrs', Key, UploadId, PartNumber: 1, Body: randomBytes(5 * MiB) }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: 'attrs', Key, UploadId, PartNumber: 2, Body: 'tail' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'attrs', Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
    const out = await s3.send(new GetObjectAttributesCommand({ Bucket: 'attrs', Key, ObjectAttributes: ['ObjectParts', 'Checksum'] }));
    assert.equal(out.ObjectParts?.TotalPartsCount, 2);
    assert.equal(out.ObjectParts?.Parts, undefined);
    assert.equal(out.Checksum, undefined);
  });

  it('versionId names an older version; the answer carries its VersionId', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'attrs-v' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'attrs-v', VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket: 'attrs-v', Key: 'k', Body: 'version one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: 'attrs-v', Key: 'k', Body: 'v2' }));
    const latest = await s3.send(new GetObjectAttributesCommand({ Bucket: 'attrs-v', Key: 'k', ObjectAttributes: ['ETag', 'ObjectSize'] }));
    assert.equal(latest.VersionId, v2.VersionId);
    assert.equal(latest.ObjectSize, 2);
    const old = await s3.send(new GetObjectAttributesCommand({ Bucket: 'attrs-v', Key: 'k', VersionId: v1.VersionId, ObjectAttributes: ['ETag', 'ObjectSize'] }));
    assert.equal(old.VersionId, v1.VersionId);
    assert.equal(old.ETag, md5hex('version one'));
    assert.equal(old.ObjectSize, 11);
  });

  it('an SSE-C object needs its key: missing → 400, another → 403, the right one → 200', async () => {
    const key = randomBytes(32);
    const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') };
    const other = randomBytes(32);
    const wrong = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: other.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(other).digest('base64') };
    await s3.send(new PutObjectCommand({ Bucket: 'attrs', Key: 'ssec.txt', Body: 'customer keyed', ...ssec }));
    const args = { Bucket: 'attrs', Key: 'ssec.txt', ObjectAttributes: ['ObjectSize' as const] };
    assert.equal((await rejection(s3.send(new GetObjectAttributesCommand(args)))).$metadata?.httpStatusCode, 400);
    assert.equal((await rejection(s3.send(new GetObjectAttributesCommand({ ...args, ...wrong })))).$metadata?.httpStatusCode, 403);
    assert.equal((await s3.send(new GetObjectAttributesCommand({ ...args, ...ssec }))).ObjectSize, 14);
  });
});

describe('GetObjectAttributes authorization', () => {
  let server: TestServer;
  let s3: S3Client;

  before(async () => {
    server = await startServer();
    s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'attrs' }));
  });
  after(async () => server.destroy());

  it('IAM: s3:GetObject alone is not enough; with s3:GetObjectAttributes it is; a versionId needs s3:GetObjectVersion and s3:GetObjectVersionAttributes', async () => {
    const clients = new Clients(server);
    try {
      const iam = clients.iam();
      const userFor = async (name: string, actions: string[]) => {
        await iam.send(new CreateUserCommand({ UserName: name }));
        await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: policyDocument(allow(actions, 'arn:aws:s3:::attrs/*')) }));
        const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
        return server.s3({ credentials: { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! } });
      };
      const put = await s3.send(new PutObjectCommand({ Bucket: 'attrs', Key: 'iam.txt', Body: 'iam' }));
      const args = { Bucket: 'attrs', Key: 'iam.txt', ObjectAttributes: ['ETag' as const] };
      const getOnly = await userFor('get-only', ['s3:GetObject']);
      assert.equal((await rejection(getOnly.send(new GetObjectAttributesCommand(args)))).name, 'AccessDenied');
      const attrsOnly = await userFor('attrs-only', ['s3:GetObjectAttributes']);
      assert.equal((await rejection(attrsOnly.send(new GetObjectAttributesCommand(args)))).name, 'AccessDenied');
      const both = await userFor('both', ['s3:GetObject', 's3:GetObjectAttributes']);
      assert.equal(`"${(await both.send(new GetObjectAttributesCommand(args))).ETag}"`, put.ETag);
      assert.equal((await rejection(both.send(new GetObjectAttributesCommand({ ...args, VersionId: 'null' })))).name, 'AccessDenied');
      const versions = await userFor('versions', ['s3:GetObjectVersion', 's3:GetObjectVersionAttributes']);
      assert.equal(`"${(await versions.send(new GetObjectAttributesCommand({ ...args, VersionId: 'null' }))).ETag}"`, put.ETag);
    } finally {
      clients.destroy();
    }
  });
});

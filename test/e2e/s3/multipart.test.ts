// S3 multipart uploads end to end over HTTP: @aws-sdk/client-s3 commands one by one, @aws-sdk/lib-storage's
// Upload (what applications use), and the aws CLI v2's `aws s3 cp` (which switches to multipart by itself
// above 8 MiB); SSE-S3 and SSE-KMS over HTTP, SSE-C over TLS. Bytes are compared after every round trip,
// ETags are checked against S3's formula, blobs are counted on disk to see that abort and completion clean up.
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand,
  HeadObjectCommand, ListMultipartUploadsCommand, ListPartsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client,
  UploadPartCommand, UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { Clients } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const md5hex = (b: Buffer) => md5(b).toString('hex');
const crc32b64 = (b: Buffer) => { const x = Buffer.alloc(4); x.writeUInt32BE(crc32(b)); return x.toString('base64'); };

/** S3's multipart ETag from the part bodies (SSE-S3: each part's ETag is its MD5). */
function s3MultipartEtag(parts: Buffer[]): string {
  return `"${md5(Buffer.concat(parts.map(md5))).toString('hex')}-${parts.length}"`;
}

function slices(body: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, Math.min(i + size, body.length)));
  return out;
}

/** Files under <dataDir>/blobs, not counting writes in progress. */
function blobCount(dataDir: string): number {
  const root = join(dataDir, 'blobs');
  if (!existsSync(root)) return 0;
  let n = 0;
  for (const d of readdirSync(root)) {
    if (d.startsWith('.')) continue;
    n += readdirSync(join(root, d)).length;
  }
  return n;
}

const bytesOf = async (out: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) => Buffer.from(await out.Body!.transformToByteArray());

describe('S3 multipart uploads over HTTP (SSE-S3, SSE-KMS)', () => {
  let server: TestServer;
  let s3: S3Client;
  const big = randomBytes(20 * MiB + 12_345);

  before(async () => {
    server = await startServer();
    s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'mpu' }));
  });
  after(async () => server.destroy());

  it('lib-storage Upload of 20 MiB (SSE-S3): 5 parts, ETag md5-of-md5s "-5", CRC32 COMPOSITE, ranges across part boundaries, ?partNumber', async () => {
    const out = await new Upload({ client: s3, params: { Bucket: 'mpu', Key: 'big/sse-s3.bin', Body: big, ContentType: 'application/x-test', Metadata: { origin: 'lib-storage' } } }).done();
    const parts = slices(big, 5 * MiB);
    assert.equal(parts.length, 5);
    assert.equal(out.ETag, s3MultipartEtag(parts));
    assert.equal(out.Location, `${server.url}/mpu/big/sse-s3.bin`);

    const got = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'big/sse-s3.bin', ChecksumMode: 'ENABLED' }));
    assert.equal(got.ETag, out.ETag);
    assert.equal(got.ServerSideEncryption, 'AES256');
    assert.equal(got.ContentType, 'application/x-test');
    assert.equal(got.Metadata?.origin, 'lib-storage');
    assert.equal(got.ContentLength, big.length);
    // lib-storage asks for CRC32 (COMPOSITE): the CRC32 of the parts' CRC32s, "-5".
    const composite = crc32b64(Buffer.concat(parts.map((p) => Buffer.from(crc32b64(p), 'base64'))));
    assert.equal(got.ChecksumCRC32, `${composite}-5`);
    assert.equal(got.ChecksumType, 'COMPOSITE');
    assert.ok((await bytesOf(got)).equals(big));

    for (const [a, b] of [[5 * MiB - 100, 5 * MiB + 99], [3 * MiB, 17 * MiB], [20 * MiB - 1, big.length - 1], [0, 0]] as const) {
      const r = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'big/sse-s3.bin', Range: `bytes=${a}-${b}` }));
      assert.equal(r.ContentRange, `bytes ${a}-${b}/${big.length}`);
      assert.ok((await bytesOf(r)).equals(big.subarray(a, b + 1)), `range ${a}-${b}`);
    }

    const head = await s3.send(new HeadObjectCommand({ Bucket: 'mpu', Key: 'big/sse-s3.bin', PartNumber: 5 }));
    assert.equal(head.PartsCount, 5);
    assert.equal(head.ContentLength, parts[4]!.length);
    const part3 = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'big/sse-s3.bin', PartNumber: 3 }));
    assert.equal(part3.$metadata.httpStatusCode, 206);
    assert.equal(part3.ContentRange, `bytes ${10 * MiB}-${15 * MiB - 1}/${big.length}`);
    assert.ok((await bytesOf(part3)).equals(parts[2]!));
    const beyond = await rejection(s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'big/sse-s3.bin', PartNumber: 6 })));
    assert.equal(beyond.name, 'InvalidPartNumber');
    assert.equal(beyond.$metadata?.httpStatusCode, 416);
  });

  it('lib-storage Upload with SSE-KMS and a customer managed key: every part answers the key; opaque "-N" ETag; round trip', async () => {
    const key = await server.kms().send(new CreateKeyCommand({ Description: 'multipart' }));
    const keyArn = key.KeyMetadata!.Arn!;
    const upload = new Upload({ client: s3, params: { Bucket: 'mpu', Key: 'big/kms.bin', Body: big, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.KeyMetadata!.KeyId }, partSize: 6 * MiB });
    const out = await upload.done();
    assert.match(out.ETag ?? '', /^"[0-9a-f]{32}-4"$/);
    assert.notEqual(out.ETag, s3MultipartEtag(slices(big, 6 * MiB)), 'an SSE-KMS ETag is not the MD5 formula');
    assert.equal(out.ServerSideEncryption, 'aws:kms');
    assert.equal(out.SSEKMSKeyId, keyArn);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'big/kms.bin' }));
    assert.equal(got.ServerSideEncryption, 'aws:kms');
    assert.equal(got.SSEKMSKeyId, keyArn);
    assert.ok((await bytesOf(got)).equals(big));
    const r = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'big/kms.bin', Range: `bytes=${6 * MiB - 10}-${12 * MiB + 10}` }));
    assert.ok((await bytesOf(r)).equals(big.subarray(6 * MiB - 10, 12 * MiB + 11)));

    // Command by command: CreateMultipartUpload and UploadPart both answer aws:kms and the key.
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'kms-parts', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    assert.equal(created.ServerSideEncryption, 'aws:kms');
    assert.equal(created.SSEKMSKeyId, keyArn);
    const part = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'kms-parts', UploadId: created.UploadId, PartNumber: 1, Body: 'tiny' }));
    assert.equal(part.ServerSideEncryption, 'aws:kms');
    assert.equal(part.SSEKMSKeyId, keyArn);
    assert.notEqual(part.ETag, `"${md5hex(Buffer.from('tiny'))}"`);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: 'kms-parts', UploadId: created.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    assert.equal(done.ServerSideEncryption, 'aws:kms');
    assert.equal(done.SSEKMSKeyId, keyArn);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'kms-parts' }))).Body!.transformToString(), 'tiny');
  });

  it('commands: parts out of order, a wrong ETag, a small middle part and an unknown upload get S3\'s errors; a re-sent part replaces the first', async () => {
    const Bucket = 'mpu';
    const Key = 'errors.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const p = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1000)];
    const before = blobCount(server.dataDir);
    const first = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: randomBytes(5 * MiB) }));
    const etags: string[] = [];
    for (const [i, body] of p.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: body }))).ETag!);
    assert.notEqual(first.ETag, etags[0]);
    assert.deepEqual(etags, p.map((b) => `"${md5hex(b)}"`));
    assert.equal(blobCount(server.dataDir), before + 3, 'the replaced part 1 left no blob');
    const small = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 7, Body: 'small' }));

    const complete = (Parts: { PartNumber: number; ETag: string }[]) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
    assert.equal((await rejection(complete([{ PartNumber: 2, ETag: etags[1]! }, { PartNumber: 1, ETag: etags[0]! }]))).name, 'InvalidPartOrder');
    assert.equal((await rejection(complete([{ PartNumber: 1, ETag: first.ETag! }, { PartNumber: 2, ETag: etags[1]! }]))).name, 'InvalidPart');
    assert.equal((await rejection(complete([{ PartNumber: 1, ETag: etags[0]! }, { PartNumber: 4, ETag: etags[1]! }]))).name, 'InvalidPart');
    assert.equal((await rejection(complete([{ PartNumber: 1, ETag: etags[0]! }, { PartNumber: 7, ETag: small.ETag! }, { PartNumber: 3, ETag: etags[2]! }]))).name, 'InvalidPartOrder');
    const entityTooSmall = await rejection(complete([{ PartNumber: 3, ETag: etags[2]! }, { PartNumber: 7, ETag: small.ETag! }]));
    assert.equal(entityTooSmall.name, 'EntityTooSmall');
    assert.equal(entityTooSmall.$metadata?.httpStatusCode, 400);
    const wrongId = await rejection(s3.send(new UploadPartCommand({ Bucket, Key, UploadId: 'no-such-upload', PartNumber: 1, Body: 'x' })));
    assert.equal(wrongId.name, 'NoSuchUpload');
    assert.equal(wrongId.$metadata?.httpStatusCode, 404);
    const badNumber = await rejection(s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 10_001, Body: 'x' })));
    assert.equal(badNumber.name, 'InvalidArgument');

    // Parts 1, 2, 3 (the last may be small); part 7 is not used and its blob goes with the upload.
    const done = await complete(etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })));
    assert.equal(done.ETag, s3MultipartEtag(p));
    assert.equal(blobCount(server.dataDir), before + 3, 'part 7 was removed at completion');
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    assert.equal(got.ContentLength, 10 * MiB + 1000);
    assert.ok((await bytesOf(got)).equals(Buffer.concat(p)));
    assert.equal((await rejection(complete([{ PartNumber: 1, ETag: etags[0]! }]))).name, 'NoSuchUpload');
    assert.equal((await rejection(s3.send(new ListPartsCommand({ Bucket, Key, UploadId })))).name, 'NoSuchUpload');
  });

  it('abort removes every part\'s blob; the upload is then unknown (NoSuchUpload)', async () => {
    const Bucket = 'mpu';
    const Key = 'aborted.bin';
    const before = blobCount(server.dataDir);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ServerSideEncryption: 'aws:kms' }));
    for (const PartNumber of [1, 2, 3]) await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: randomBytes(100_000) }));
    assert.equal(blobCount(server.dataDir), before + 3);
    const aborted = await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    assert.equal(aborted.$metadata.httpStatusCode, 204);
    assert.equal(blobCount(server.dataDir), before);
    assert.equal((await rejection(s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })))).name, 'NoSuchUpload');
    assert.equal((await rejection(s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 4, Body: 'x' })))).name, 'NoSuchUpload');
    assert.equal((await rejection(s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] } })))).name, 'NoSuchUpload');
    assert.equal((await rejection(s3.send(new GetObjectCommand({ Bucket, Key })))).name, 'NoSuchKey');
  });

  it('ListParts pages with max-parts and part-number-marker; ListMultipartUploads pages with key and upload-id markers, prefixes and delimiters', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'listing' }));
    const Bucket = 'listing';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'a/one', ChecksumAlgorithm: 'SHA256' }));
    const bodies = [1, 2, 3, 4, 5].map((n) => Buffer.alloc(n * 10, n));
    for (const [i, Body] of bodies.entries()) {
      await s3.send(new UploadPartCommand({ Bucket, Key: 'a/one', UploadId, PartNumber: [1, 2, 5, 9, 10][i]!, Body, ChecksumAlgorithm: 'SHA256' }));
    }
    const seen: number[] = [];
    let marker: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await s3.send(new ListPartsCommand({ Bucket, Key: 'a/one', UploadId, MaxParts: 2, PartNumberMarker: marker }));
      pages++;
      assert.equal(page.ChecksumAlgorithm, 'SHA256');
      assert.equal(page.Initiator?.ID, page.Owner?.ID, 'the root user initiated it');
      for (const p of page.Parts ?? []) {
        seen.push(p.PartNumber!);
        const body = bodies[seen.length - 1]!;
        assert.equal(p.Size, body.length);
        assert.equal(p.ETag, `"${md5hex(body)}"`);
        assert.equal(p.ChecksumSHA256, createHash('sha256').update(body).digest('base64'));
      }
      if (!page.IsTruncated) break;
      marker = String(page.NextPartNumberMarker);
    }
    assert.deepEqual(seen, [1, 2, 5, 9, 10]);
    assert.equal(pages, 3);

    const keys = ['a/one', 'a/one', 'a/two', 'b/x/1', 'b/x/2', 'c'];
    const ids = new Map<string, string[]>([['a/one', [UploadId!]]]);
    for (const Key of keys.slice(1)) {
      const id = (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }))).UploadId!;
      ids.set(Key, [...(ids.get(Key) ?? []), id]);
    }
    const listed: string[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListMultipartUploadsCommand({ Bucket, MaxUploads: 2, KeyMarker: keyMarker, UploadIdMarker: idMarker }));
      assert.ok((page.Uploads ?? []).length <= 2);
      listed.push(...(page.Uploads ?? []).map((u) => `${u.Key} ${u.UploadId}`));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
    }
    // By key, and the uploads of one key oldest first.
    assert.deepEqual(listed, keys.map((k, i) => `${k} ${ids.get(k)![k === 'a/one' ? i : 0]}`));

    const rolled = await s3.send(new ListMultipartUploadsCommand({ Bucket, Delimiter: '/' }));
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'b/']);
    assert.deepEqual(rolled.Uploads?.map((u) => u.Key), ['c']);
    const underB = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'b/', Delimiter: '/' }));
    assert.deepEqual(underB.CommonPrefixes?.map((p) => p.Prefix), ['b/x/']);
    const paged = await s3.send(new ListMultipartUploadsCommand({ Bucket, Delimiter: '/', MaxUploads: 1 }));
    assert.deepEqual(paged.CommonPrefixes?.map((p) => p.Prefix), ['a/']);
    assert.equal(paged.IsTruncated, true);
    const next = await s3.send(new ListMultipartUploadsCommand({ Bucket, Delimiter: '/', MaxUploads: 1, KeyMarker: paged.NextKeyMarker }));
    assert.deepEqual(next.CommonPrefixes?.map((p) => p.Prefix), ['b/']);
  });

  it('UploadPartCopy: ranges of an existing object (and a whole one) become parts; bad ranges, missing sources and copy-source conditions fail', async () => {
    const source = randomBytes(12 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: 'mpu', Key: 'copy/source', Body: source }));
    const small = Buffer.from('the end');
    await s3.send(new PutObjectCommand({ Bucket: 'mpu', Key: 'copy/small', Body: small, ServerSideEncryption: 'aws:kms' }));
    const Key = 'copy/target';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key, ServerSideEncryption: 'aws:kms' }));
    const copy = (PartNumber: number, CopySource: string, CopySourceRange?: string, extra: Record<string, string> = {}) =>
      s3.send(new UploadPartCopyCommand({ Bucket: 'mpu', Key, UploadId, PartNumber, CopySource, CopySourceRange, ...extra }));
    const p1 = await copy(1, 'mpu/copy/source', `bytes=${6 * MiB}-${12 * MiB - 1}`);
    const p2 = await copy(2, '/mpu/copy/source', `bytes=0-${6 * MiB - 1}`);
    const p3 = await copy(3, 'mpu/copy/small');
    assert.equal(p1.ServerSideEncryption, 'aws:kms');
    assert.match(p1.CopyPartResult?.ETag ?? '', /^"[0-9a-f]{32}"$/);
    assert.ok(p1.CopyPartResult?.LastModified instanceof Date);
    assert.equal((await rejection(copy(4, 'mpu/copy/source', `bytes=0-${12 * MiB}`))).name, 'InvalidArgument');
    assert.equal((await rejection(copy(4, 'mpu/copy/source', 'bytes=5-'))).name, 'InvalidArgument');
    assert.equal((await rejection(copy(4, 'mpu/copy/missing'))).name, 'NoSuchKey');
    assert.equal((await rejection(copy(4, 'nobucket/copy/source'))).name, 'NoSuchBucket');
    const failed = await rejection(copy(4, 'mpu/copy/small', undefined, { CopySourceIfMatch: '"0123"' }));
    assert.equal(failed.name, 'PreconditionFailed');
    const done = await s3.send(new CompleteMultipartUploadCommand({
      Bucket: 'mpu', Key, UploadId,
      MultipartUpload: { Parts: [p1, p2, p3].map((p, i) => ({ PartNumber: i + 1, ETag: p.CopyPartResult!.ETag! })) },
    }));
    assert.match(done.ETag ?? '', /-3"$/);
    const expected = Buffer.concat([source.subarray(6 * MiB), source.subarray(0, 6 * MiB), small]);
    assert.ok((await bytesOf(await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key })))).equals(expected));
  });

  it('FULL_OBJECT CRC32C: the object\'s checksum is the CRC of all its bytes; COMPOSITE SHA1 needs every part\'s checksum at completion', async () => {
    const Bucket = 'mpu';
    const full = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'full', ChecksumAlgorithm: 'CRC32C', ChecksumType: 'FULL_OBJECT' }));
    assert.equal(full.ChecksumAlgorithm, 'CRC32C');
    assert.equal(full.ChecksumType, 'FULL_OBJECT');
    const bodies = [randomBytes(5 * MiB), randomBytes(777)];
    const parts = [];
    for (const [i, Body] of bodies.entries()) {
      const p = await s3.send(new UploadPartCommand({ Bucket, Key: 'full', UploadId: full.UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'CRC32C' }));
      assert.match(p.ChecksumCRC32C ?? '', /^[A-Za-z0-9+/]{6}==$/);
      parts.push({ PartNumber: i + 1, ETag: p.ETag });
    }
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'full', UploadId: full.UploadId, MultipartUpload: { Parts: parts } }));
    assert.equal(done.ChecksumType, 'FULL_OBJECT');
    // The same bytes PUT in one piece get the same CRC32C: the combination is the whole object's CRC.
    const single = await s3.send(new PutObjectCommand({ Bucket, Key: 'full-single', Body: Buffer.concat(bodies), ChecksumAlgorithm: 'CRC32C' }));
    assert.equal(done.ChecksumCRC32C, single.ChecksumCRC32C);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'full', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumCRC32C, single.ChecksumCRC32C);
    assert.equal(head.ChecksumType, 'FULL_OBJECT');

    const bad = await rejection(s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'x', ChecksumAlgorithm: 'SHA1', ChecksumType: 'FULL_OBJECT' })));
    assert.equal(bad.name, 'InvalidRequest');
    const comp = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'comp', ChecksumAlgorithm: 'SHA1' }));
    const mismatch = await rejection(s3.send(new UploadPartCommand({ Bucket, Key: 'comp', UploadId: comp.UploadId, PartNumber: 1, Body: 'x', ChecksumAlgorithm: 'CRC32' })));
    assert.equal(mismatch.name, 'InvalidRequest');
    const p1 = await s3.send(new UploadPartCommand({ Bucket, Key: 'comp', UploadId: comp.UploadId, PartNumber: 1, Body: 'x', ChecksumAlgorithm: 'SHA1' }));
    assert.equal(p1.ChecksumSHA1, createHash('sha1').update('x').digest('base64'));
    const missing = await rejection(s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'comp', UploadId: comp.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] } })));
    assert.equal(missing.name, 'InvalidRequest');
    const wrongSum = await rejection(s3.send(new CompleteMultipartUploadCommand({
      Bucket, Key: 'comp', UploadId: comp.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag, ChecksumSHA1: createHash('sha1').update('y').digest('base64') }] },
    })));
    assert.equal(wrongSum.name, 'InvalidPart');
    const ok = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'comp', UploadId: comp.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag, ChecksumSHA1: p1.ChecksumSHA1 }] } }));
    assert.equal(ok.ChecksumSHA1, `${createHash('sha1').update(createHash('sha1').update('x').digest()).digest('base64')}-1`);
  });

  it('IAM: parts of an SSE-KMS upload need kms:Decrypt; abort needs s3:AbortMultipartUpload; UploadPartCopy needs s3:GetObject on the source', async () => {
    const clients = new Clients(server);
    try {
      const iam = clients.iam();
      const key = await server.kms().send(new CreateKeyCommand({ Description: 'mpu iam' }));
      await iam.send(new CreateUserCommand({ UserName: 'uploader' }));
      await iam.send(new PutUserPolicyCommand({
        UserName: 'uploader', PolicyName: 'mpu',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['s3:PutObject', 's3:ListMultipartUploadParts'], Resource: 'arn:aws:s3:::mpu/*' },
            { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: key.KeyMetadata!.Arn },
          ],
        }),
      }));
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'uploader' }));
      const user = server.s3({ credentials: { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! } });
      const Bucket = 'mpu';
      const Key = 'iam/obj';
      // CreateMultipartUpload only generates the data key; the first part must decrypt it as the caller.
      const kmsUpload = await user.send(new CreateMultipartUploadCommand({ Bucket, Key, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.KeyMetadata!.Arn }));
      const denied = await rejection(user.send(new UploadPartCommand({ Bucket, Key, UploadId: kmsUpload.UploadId, PartNumber: 1, Body: 'x' })));
      assert.equal(denied.name, 'AccessDenied');
      assert.equal(denied.$metadata?.httpStatusCode, 403);
      const abortDenied = await rejection(user.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: kmsUpload.UploadId })));
      assert.equal(abortDenied.name, 'AccessDenied');
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: kmsUpload.UploadId }));

      const plain = await user.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      await user.send(new UploadPartCommand({ Bucket, Key, UploadId: plain.UploadId, PartNumber: 1, Body: 'x' }));
      const listed = await user.send(new ListPartsCommand({ Bucket, Key, UploadId: plain.UploadId }));
      assert.match(listed.Initiator?.ID ?? '', /:user\/uploader$/);
      await s3.send(new PutObjectCommand({ Bucket, Key: 'iam/src', Body: 'secret source' }));
      const copyDenied = await rejection(user.send(new UploadPartCopyCommand({ Bucket, Key, UploadId: plain.UploadId, PartNumber: 2, CopySource: 'mpu/iam/src' })));
      assert.equal(copyDenied.name, 'AccessDenied');
      const listDenied = await rejection(user.send(new ListMultipartUploadsCommand({ Bucket })));
      assert.equal(listDenied.name, 'AccessDenied');
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: plain.UploadId }));
    } finally {
      clients.destroy();
    }
  });

  it('completing into a versioned bucket adds a version; the object before it stays readable by version id', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'versioned-mpu' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'versioned-mpu', VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket: 'versioned-mpu', Key: 'k', Body: 'first' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'versioned-mpu', Key: 'k' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: 'versioned-mpu', Key: 'k', UploadId, PartNumber: 1, Body: 'second' }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'versioned-mpu', Key: 'k', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    assert.ok(done.VersionId && done.VersionId !== v1.VersionId);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'versioned-mpu', Key: 'k' }))).Body!.transformToString(), 'second');
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'versioned-mpu', Key: 'k', VersionId: v1.VersionId }))).Body!.transformToString(), 'first');
  });

  it('aws CLI v2: `aws s3 cp` of a 20 MiB file with --sse aws:kms goes multipart; head-object and cp back agree', { skip: cliUnavailable() }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strongroom-mpu-cli-'));
    try {
      writeFileSync(join(dir, 'big.bin'), big);
      const cli = (...args: string[]) => new Promise<string>((resolve, reject) => {
        execFile('/usr/bin/aws', [...args, '--endpoint-url', server.url], { cwd: dir, env: awsClientEnv(), timeout: 120_000, maxBuffer: 16 * MiB, encoding: 'utf8' },
          (err, stdout, stderr) => (err ? reject(new Error(`aws ${args.join(' ')}: ${stderr}`)) : resolve(stdout)));
      });
      await cli('s3', 'cp', 'big.bin', 's3://mpu/cli/big.bin', '--sse', 'aws:kms', '--only-show-errors');
      const head = JSON.parse(await cli('s3api', 'head-object', '--bucket', 'mpu', '--key', 'cli/big.bin', '--part-number', '1', '--output', 'json'));
      assert.equal(head.ServerSideEncryption, 'aws:kms');
      assert.match(head.SSEKMSKeyId, new RegExp(`^arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/`));
      // The CLI cuts 8 MiB parts: 20 MiB and a bit make 3.
      assert.equal(head.PartsCount, 3);
      assert.match(head.ETag, /^"[0-9a-f]{32}-3"$/);
      await cli('s3', 'cp', 's3://mpu/cli/big.bin', 'back.bin', '--only-show-errors');
      assert.ok(readFileSync(join(dir, 'back.bin')).equals(big));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('S3 multipart uploads with SSE-C over TLS', () => {
  let server: TestServer;
  let s3: S3Client;
  let dir: string;
  const customerKey = randomBytes(32);
  const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64'), SSECustomerKeyMD5: md5(customerKey).toString('base64') };
  const otherKey = randomBytes(32);
  const wrong = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: otherKey.toString('base64'), SSECustomerKeyMD5: md5(otherKey).toString('base64') };
  const big = randomBytes(20 * MiB + 7);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-mpu-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    server = await startServer({ tls: { certFile: cert, keyFile: key } });
    // The test's own certificate is the only CA this client trusts.
    s3 = new S3Client({
      endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true,
      requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(cert) }) }),
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'ssec' }));
  });
  after(async () => {
    s3.destroy();
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lib-storage Upload of 20 MiB with a customer key: round trip and ranges need the key; without it 400, with another 403', async () => {
    const out = await new Upload({ client: s3, params: { Bucket: 'ssec', Key: 'big.bin', Body: big, ...ssec } }).done();
    assert.match(out.ETag ?? '', /^"[0-9a-f]{32}-5"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'ssec', Key: 'big.bin', ...ssec }));
    assert.equal(got.SSECustomerAlgorithm, 'AES256');
    assert.equal(got.SSECustomerKeyMD5, ssec.SSECustomerKeyMD5);
    assert.ok((await bytesOf(got)).equals(big));
    const r = await s3.send(new GetObjectCommand({ Bucket: 'ssec', Key: 'big.bin', Range: `bytes=${10 * MiB - 3}-${10 * MiB + 3}`, ...ssec }));
    assert.ok((await bytesOf(r)).equals(big.subarray(10 * MiB - 3, 10 * MiB + 4)));
    const none = await rejection(s3.send(new GetObjectCommand({ Bucket: 'ssec', Key: 'big.bin' })));
    assert.equal(none.$metadata?.httpStatusCode, 400);
    const other = await rejection(s3.send(new GetObjectCommand({ Bucket: 'ssec', Key: 'big.bin', ...wrong })));
    assert.equal(other.$metadata?.httpStatusCode, 403);
  });

  it('every UploadPart needs the upload\'s customer key: missing → 400 InvalidRequest, another key → 403 AccessDenied; parts answer the key MD5', async () => {
    const Key = 'parts.bin';
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'ssec', Key, ...ssec }));
    assert.equal(created.SSECustomerAlgorithm, 'AES256');
    assert.equal(created.SSECustomerKeyMD5, ssec.SSECustomerKeyMD5);
    const UploadId = created.UploadId;
    const missing = await rejection(s3.send(new UploadPartCommand({ Bucket: 'ssec', Key, UploadId, PartNumber: 1, Body: 'abc' })));
    assert.equal(missing.name, 'InvalidRequest');
    assert.equal(missing.$metadata?.httpStatusCode, 400);
    const other = await rejection(s3.send(new UploadPartCommand({ Bucket: 'ssec', Key, UploadId, PartNumber: 1, Body: 'abc', ...wrong })));
    assert.equal(other.name, 'AccessDenied');
    assert.equal(other.$metadata?.httpStatusCode, 403);
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'ssec', Key, UploadId, PartNumber: 1, Body: randomBytes(5 * MiB), ...ssec }));
    assert.equal(p1.SSECustomerKeyMD5, ssec.SSECustomerKeyMD5);
    // A part copied from an SSE-C object: the source key in the copy-source headers, the upload's in the others.
    await s3.send(new PutObjectCommand({ Bucket: 'ssec', Key: 'src', Body: 'copied tail', ...wrong }));
    const copyArgs = { Bucket: 'ssec', Key, UploadId, PartNumber: 2, CopySource: 'ssec/src' };
    const noSourceKey = await rejection(s3.send(new UploadPartCopyCommand({ ...copyArgs, ...ssec })));
    assert.equal(noSourceKey.$metadata?.httpStatusCode, 400);
    const p2 = await s3.send(new UploadPartCopyCommand({
      ...copyArgs, ...ssec,
      CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: wrong.SSECustomerKey, CopySourceSSECustomerKeyMD5: wrong.SSECustomerKeyMD5,
    }));
    const done = await s3.send(new CompleteMultipartUploadCommand({
      Bucket: 'ssec', Key, UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult!.ETag }] },
    }));
    assert.match(done.ETag ?? '', /-2"$/);
    const tail = await s3.send(new GetObjectCommand({ Bucket: 'ssec', Key, Range: `bytes=${5 * MiB}-`, ...ssec }));
    assert.equal(Buffer.from(await tail.Body!.transformToByteArray()).toString(), 'copied tail');
  });
});

function cliUnavailable(): string | false {
  const res = spawnSync('/usr/bin/aws', ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
  if (res.error || res.status !== 0 || !/^aws-cli\/2\./.test(`${res.stdout}${res.stderr}`)) {
    if (process.env.CI) throw new Error('the aws CLI v2 (/usr/bin/aws) is required in CI');
    return 'the aws CLI v2 (/usr/bin/aws) is not installed';
  }
  return false;
}

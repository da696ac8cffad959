// A bucket lives in one Region and is served there only, as on AWS: a request to it signed for another Region
// is refused — 301 PermanentRedirect naming the bucket's Region in the body and in x-amz-bucket-region — and
// nothing is done, so the SDKs' region redirects (@aws-sdk/client-s3 followRegionRedirects, botocore / the aws
// CLI) re-sign for that Region and succeed. ListBuckets (all the account's buckets, optionally by Region),
// CreateBucket and GetBucketLocation (how clients discover a bucket's Region) are not bucket-scoped. An object's
// keys are always its bucket's Region's: aws/s3, key ids and aliases without a Region, and a copy source in
// another Region is decrypted in that Region.
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand, DeleteObjectCommand,
  GetBucketLocationCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsV2Command,
  PutBucketEncryptionCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client, UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { RawResponse, s3XmlError, sendRaw, signedS3Request } from '../../helpers/raw-request.js';
import { TEST_CREDENTIALS, TestServer, rejection, startServer } from '../../helpers/server.js';

const EAST = 'us-east-1';
const WEST = 'us-west-2';

describe('S3 buckets are served in their own Region', { concurrency: 1 }, () => {
  let server: TestServer;
  let east: S3Client;
  let west: S3Client;
  let eastKms: KMSClient;
  let westKms: KMSClient;
  /** Configured for us-east-1, following S3's region redirects. */
  let redirecting: S3Client;

  const raw = async (method: string, path: string, region: string, body?: string): Promise<RawResponse> =>
    sendRaw(server.url, await signedS3Request(server.url, { method, path, region, ...(body !== undefined ? { body } : {}) }));
  const exists = async (client: S3Client, bucket: string, key: string): Promise<boolean> => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw err;
    }
  };
  /** A wrong-Region answer: 301 PermanentRedirect, the bucket's Region in x-amz-bucket-region and (not for HEAD) in the body. */
  const expectRedirect = (res: RawResponse, bucket: string, region: string, signedFor: string) => {
    assert.equal(res.status, 301, `${res.status} ${res.text}`);
    assert.equal(res.headers['x-amz-bucket-region'], region);
    if (res.text === '') return;
    const err = s3XmlError(res);
    assert.equal(err.code, 'PermanentRedirect');
    assert.match(err.message.replace(/&apos;/g, "'"), new RegExp(`the region '${signedFor}' is wrong; expecting '${region}'`));
    assert.match(res.text, new RegExp(`<Region>${region}</Region>`));
    assert.match(res.text, new RegExp(`<Bucket>${bucket}</Bucket>`));
  };

  before(async () => {
    server = await startServer({ regions: `${EAST},${WEST}` });
    east = server.s3({ region: EAST });
    west = server.s3({ region: WEST });
    eastKms = server.kms({ region: EAST });
    westKms = server.kms({ region: WEST });
    redirecting = new S3Client({ endpoint: server.url, region: EAST, credentials: TEST_CREDENTIALS, forcePathStyle: true, followRegionRedirects: true });
    await west.send(new CreateBucketCommand({ Bucket: 'west-bucket' }));
    await east.send(new CreateBucketCommand({ Bucket: 'east-bucket' }));
    await west.send(new PutObjectCommand({ Bucket: 'west-bucket', Key: 'hello.txt', Body: 'from the west' }));
  });
  after(async () => {
    redirecting.destroy();
    await server.destroy();
  });

  it('every bucket-scoped request signed for another Region is 301 PermanentRedirect with x-amz-bucket-region, and does nothing', async () => {
    expectRedirect(await raw('GET', '/west-bucket/hello.txt', EAST), 'west-bucket', WEST, EAST);
    expectRedirect(await raw('HEAD', '/west-bucket/hello.txt', EAST), 'west-bucket', WEST, EAST);
    const head = await raw('HEAD', '/west-bucket', EAST);
    expectRedirect(head, 'west-bucket', WEST, EAST);
    assert.equal(head.body.length, 0);
    expectRedirect(await raw('GET', '/west-bucket?list-type=2', EAST), 'west-bucket', WEST, EAST);
    expectRedirect(await raw('PUT', '/west-bucket/new.txt', EAST, 'x'), 'west-bucket', WEST, EAST);
    expectRedirect(await raw('DELETE', '/west-bucket/hello.txt', EAST), 'west-bucket', WEST, EAST);
    expectRedirect(await raw('DELETE', '/west-bucket', EAST), 'west-bucket', WEST, EAST);
    expectRedirect(await raw('GET', '/west-bucket?encryption', EAST), 'west-bucket', WEST, EAST);
    expectRedirect(await raw('POST', '/west-bucket/mp?uploads', EAST), 'west-bucket', WEST, EAST);
    // And the other way round.
    expectRedirect(await raw('GET', '/east-bucket?list-type=2', WEST), 'east-bucket', EAST, WEST);
    assert.equal(await exists(west, 'west-bucket', 'new.txt'), false);
    assert.equal(await exists(west, 'west-bucket', 'hello.txt'), true);

    // The SDK without followRegionRedirects reports it as PermanentRedirect (301).
    const err = await rejection(east.send(new GetObjectCommand({ Bucket: 'west-bucket', Key: 'hello.txt' })));
    assert.equal(err.name, 'PermanentRedirect');
    assert.equal(err.$metadata?.httpStatusCode, 301);
    // A presigned URL signed for the wrong Region is refused the same way.
    const url = await getSignedUrl(east, new GetObjectCommand({ Bucket: 'west-bucket', Key: 'hello.txt' }), { expiresIn: 300 });
    const presigned = await fetch(url, { redirect: 'manual' });
    assert.equal(presigned.status, 301);
    assert.equal(presigned.headers.get('x-amz-bucket-region'), WEST);
    assert.doesNotMatch(await presigned.text(), /from the west/);
  });

  it('SSE-KMS signed for us-east-1 to a us-west-2 bucket is refused, not encrypted under us-east-1\'s aws/s3 key', async () => {
    const err = await rejection(east.send(new PutObjectCommand({ Bucket: 'west-bucket', Key: 'kms.txt', Body: 'secret', ServerSideEncryption: 'aws:kms' })));
    assert.equal(err.$metadata?.httpStatusCode, 301);
    assert.equal(await exists(west, 'west-bucket', 'kms.txt'), false);
    // Signed for the bucket's Region: the aws/s3 key of us-west-2, and it reads back.
    const put = await west.send(new PutObjectCommand({ Bucket: 'west-bucket', Key: 'kms.txt', Body: 'secret', ServerSideEncryption: 'aws:kms' }));
    assert.match(put.SSEKMSKeyId!, /^arn:aws:kms:us-west-2:\d{12}:key\//);
    assert.equal(await (await west.send(new GetObjectCommand({ Bucket: 'west-bucket', Key: 'kms.txt' }))).Body!.transformToString(), 'secret');
  });

  it('a client configured for the wrong Region with followRegionRedirects: true works on the bucket', async () => {
    await redirecting.send(new HeadBucketCommand({ Bucket: 'west-bucket' }));
    const put = await redirecting.send(new PutObjectCommand({ Bucket: 'west-bucket', Key: 'redirected.txt', Body: 'followed', ServerSideEncryption: 'aws:kms' }));
    assert.match(put.SSEKMSKeyId!, /:us-west-2:/);
    assert.equal(await (await redirecting.send(new GetObjectCommand({ Bucket: 'west-bucket', Key: 'redirected.txt' }))).Body!.transformToString(), 'followed');
    assert.equal((await redirecting.send(new HeadObjectCommand({ Bucket: 'west-bucket', Key: 'redirected.txt' }))).ContentLength, 8);
    const listed = await redirecting.send(new ListObjectsV2Command({ Bucket: 'west-bucket' }));
    assert.ok(listed.Contents!.some((o) => o.Key === 'redirected.txt'));
    await redirecting.send(new DeleteObjectCommand({ Bucket: 'west-bucket', Key: 'redirected.txt' }));
    assert.equal(await exists(west, 'west-bucket', 'redirected.txt'), false);
  });

  it('ListBuckets lists the account\'s buckets of every Region (BucketRegion filters); GetBucketLocation answers from any Region', async () => {
    for (const client of [east, west]) {
      const all = await client.send(new ListBucketsCommand({}));
      const byName = new Map(all.Buckets!.map((b) => [b.Name, b.BucketRegion]));
      assert.equal(byName.get('west-bucket'), WEST);
      assert.equal(byName.get('east-bucket'), EAST);
    }
    const onlyWest = await east.send(new ListBucketsCommand({ BucketRegion: WEST }));
    assert.deepEqual(onlyWest.Buckets!.map((b) => b.Name), ['west-bucket']);
    assert.equal((await east.send(new GetBucketLocationCommand({ Bucket: 'west-bucket' }))).LocationConstraint, WEST);
    // CreateBucket of a name taken in another Region: taken, whatever the Region.
    assert.equal((await rejection(east.send(new CreateBucketCommand({ Bucket: 'west-bucket' })))).name, 'BucketAlreadyOwnedByYou');
  });

  it('a key id or alias without a Region (request header or bucket default) resolves in the bucket\'s Region', async () => {
    const westKey = (await westKms.send(new CreateKeyCommand({ Description: 'west app key' }))).KeyMetadata!;
    const eastKey = (await eastKms.send(new CreateKeyCommand({ Description: 'east app key' }))).KeyMetadata!;
    await westKms.send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: westKey.KeyId! }));
    await eastKms.send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: eastKey.KeyId! }));
    const viaAlias = await west.send(new PutObjectCommand({ Bucket: 'west-bucket', Key: 'alias.txt', Body: 'a', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/app' }));
    assert.equal(viaAlias.SSEKMSKeyId, westKey.Arn);
    await west.send(new PutBucketEncryptionCommand({
      Bucket: 'west-bucket',
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: westKey.KeyId! } }] },
    }));
    const byDefault = await west.send(new PutObjectCommand({ Bucket: 'west-bucket', Key: 'default.txt', Body: 'd' }));
    assert.equal(byDefault.SSEKMSKeyId, westKey.Arn);
    const viaRedirect = await redirecting.send(new PutObjectCommand({ Bucket: 'west-bucket', Key: 'alias2.txt', Body: 'b', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/app' }));
    assert.equal(viaRedirect.SSEKMSKeyId, westKey.Arn);
  });

  it('CopyObject and UploadPartCopy from an SSE-KMS object in another Region decrypt it in the source bucket\'s Region', async () => {
    await west.send(new PutObjectCommand({ Bucket: 'west-bucket', Key: 'src.txt', Body: 'cross-region source', ServerSideEncryption: 'aws:kms' }));
    const copied = await east.send(new CopyObjectCommand({ Bucket: 'east-bucket', Key: 'copy.txt', CopySource: 'west-bucket/src.txt', ServerSideEncryption: 'aws:kms' }));
    assert.match(copied.SSEKMSKeyId!, /^arn:aws:kms:us-east-1:/);
    assert.equal(await (await east.send(new GetObjectCommand({ Bucket: 'east-bucket', Key: 'copy.txt' }))).Body!.transformToString(), 'cross-region source');

    const up = await east.send(new CreateMultipartUploadCommand({ Bucket: 'east-bucket', Key: 'mp-copy.txt' }));
    const part = await east.send(new UploadPartCopyCommand({ Bucket: 'east-bucket', Key: 'mp-copy.txt', UploadId: up.UploadId!, PartNumber: 1, CopySource: 'west-bucket/src.txt' }));
    await east.send(new CompleteMultipartUploadCommand({ Bucket: 'east-bucket', Key: 'mp-copy.txt', UploadId: up.UploadId!, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult!.ETag! }] } }));
    assert.equal(await (await east.send(new GetObjectCommand({ Bucket: 'east-bucket', Key: 'mp-copy.txt' }))).Body!.transformToString(), 'cross-region source');
    // The destination must still be addressed in its own Region.
    const wrong = await rejection(west.send(new CopyObjectCommand({ Bucket: 'east-bucket', Key: 'copy2.txt', CopySource: 'west-bucket/src.txt' })));
    assert.equal(wrong.$metadata?.httpStatusCode, 301);
  });

  it('bucket policy and DeleteBucket signed for the wrong Region change nothing; in the right Region they work', async () => {
    await west.send(new CreateBucketCommand({ Bucket: 'west-empty' }));
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::west-empty/*' }] });
    assert.equal((await rejection(east.send(new PutBucketPolicyCommand({ Bucket: 'west-empty', Policy: policy })))).$metadata?.httpStatusCode, 301);
    assert.equal((await rejection(east.send(new DeleteBucketCommand({ Bucket: 'west-empty' })))).$metadata?.httpStatusCode, 301);
    await west.send(new HeadBucketCommand({ Bucket: 'west-empty' }));
    await west.send(new DeleteBucketCommand({ Bucket: 'west-empty' }));
  });
});

/** The aws CLIs this machine has: v2 (/usr/bin/aws) and v1 (`aws` on PATH); a missing one skips its test. */
function cliVersion(bin: string): number | undefined {
  const res = spawnSync(bin, ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
  const m = /^aws-cli\/(\d+)\./.exec(`${res.stdout ?? ''}${res.stderr ?? ''}`.trim());
  return res.status === 0 && m ? Number(m[1]) : undefined;
}

describe('the aws CLI, configured for us-east-1, works against a bucket in us-west-2', { concurrency: 1 }, () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await startServer({ regions: `${EAST},${WEST}` });
    await server.s3({ region: WEST }).send(new CreateBucketCommand({ Bucket: 'cli-west' }));
    dir = mkdtempSync(join(tmpdir(), 'strongroom-regions-cli-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await server.destroy();
  });

  for (const [bin, major] of [['/usr/bin/aws', 2], ['aws', 1]] as const) {
    const found = cliVersion(bin);
    const skip = found === major ? false : `${bin} is not the aws CLI v${major} here`;
    it(`aws CLI v${major} (${bin}): s3api put/get/head-object, s3 ls and s3 cp follow the redirect`, { skip: skip && !process.env.CI ? skip : false }, async () => {
      const run = (...args: string[]) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          execFile(bin, [...args, '--endpoint-url', server.url], { cwd: dir, env: { ...awsClientEnv(), AWS_DEFAULT_REGION: EAST }, timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) =>
            resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
        });
      const ok = async (...args: string[]) => {
        const res = await run(...args);
        assert.equal(res.code, 0, `aws ${args.join(' ')}: ${res.stderr}`);
        return res.stdout;
      };
      writeFileSync(join(dir, 'in.txt'), `hello from v${major}\n`);
      const put = JSON.parse(await ok('s3api', 'put-object', '--bucket', 'cli-west', '--key', `v${major}.txt`, '--body', 'in.txt', '--server-side-encryption', 'aws:kms'));
      assert.match(put.SSEKMSKeyId, /:us-west-2:/);
      await ok('s3api', 'get-object', '--bucket', 'cli-west', '--key', `v${major}.txt`, 'out.txt');
      assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), `hello from v${major}\n`);
      assert.equal(JSON.parse(await ok('s3api', 'head-object', '--bucket', 'cli-west', '--key', `v${major}.txt`)).ContentLength, `hello from v${major}\n`.length);
      assert.match(await ok('s3', 'ls', 's3://cli-west/'), new RegExp(`v${major}\\.txt`));
      assert.equal(await ok('s3', 'cp', `s3://cli-west/v${major}.txt`, '-'), `hello from v${major}\n`);
    });
  }
});

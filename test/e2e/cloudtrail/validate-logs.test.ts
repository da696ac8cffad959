import { ROOT_KEY_FILE } from '../../../src/core/crypto/root-of-trust/file.js';
// A trail with log file validation delivering into a bucket of our own S3, checked by the real
// `aws cloudtrail validate-logs` (aws CLI v1, pip's `aws` on PATH; it lists and reads the bucket through
// AWS_ENDPOINT_URL_S3 and asks our CloudTrail for the trail and its public keys): every digest and log file
// valid, across a restart of the server on the same data dir; a log file edited in place is reported INVALID.
// The delivered log files hold the calls made, each exactly once. Intervals are 1 s (logs) and 2 s (digests).
//
// A missing CLI skips the validate-logs checks on a developer machine; with CI set it is a failure.
import { CloudTrailClient, CreateTrailCommand, GetTrailStatusCommand, PutEventSelectorsCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateUserCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, DescribeKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, DeleteBucketPolicyCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { App, buildApp } from '../../../src/app.js';
import { DEFAULT_S3_CONFIG } from '../../../src/config/config.js';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { Clients } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer } from '../../helpers/server.js';
import { validateLogs } from '../../helpers/validate-logs.js';

const BUCKET = 'trail-deliveries';
const TRAIL = 'org-audit';
const TRAIL_ARN = `arn:aws:cloudtrail:${TEST_REGION}:${TEST_ACCOUNT}:trail/${TRAIL}`;

/** The bucket policy AWS documents for a trail (create-s3-bucket-policy-for-cloudtrail.html), for this trail only. */
const BUCKET_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'AWSCloudTrailAclCheck20150319',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 's3:GetBucketAcl',
      Resource: `arn:aws:s3:::${BUCKET}`,
      Condition: { StringEquals: { 'aws:SourceArn': TRAIL_ARN } },
    },
    {
      Sid: 'AWSCloudTrailWrite20150319',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${BUCKET}/AWSLogs/${TEST_ACCOUNT}/*`,
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': TRAIL_ARN } },
    },
  ],
});

/** A server with short trail intervals on `dataDir` (startServer's configuration plus `trails`). */
async function start(dataDir: string): Promise<{ app: App; url: string }> {
  const app = await buildApp(
    {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      rootOfTrustFile: join(dataDir, ROOT_KEY_FILE),
      workers: 1,
      accountId: TEST_ACCOUNT,
      region: TEST_REGION,
      rootAccessKeyId: TEST_CREDENTIALS.accessKeyId,
      rootSecretAccessKey: TEST_CREDENTIALS.secretAccessKey,
      logLevel: 'warn',
      sweepIntervalMs: 60_000,
      s3: DEFAULT_S3_CONFIG,
      trails: { logIntervalMs: 1_000, digestIntervalMs: 2_000 },
    },
    { logger: pino({ level: 'warn' }) },
  );
  return { app, url: await app.listen() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cliUnavailable(): string | undefined {
  const res = spawnSync('aws', ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
  if (res.error) return `aws cannot be run (${(res.error as NodeJS.ErrnoException).code ?? res.error.message})`;
  const out = `${res.stdout}${res.stderr}`.trim();
  return /^aws-cli\/1\./.test(out) ? undefined : `aws on PATH is ${out.split(' ')[0]}, not aws CLI v1`;
}


describe('trail delivery: log and digest files that aws cloudtrail validate-logs accepts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'strongroom-trail-'));
  const skip = cliUnavailable();
  if (skip && process.env.CI) throw new Error(skip);
  let server: { app: App; url: string };
  let made: { destroy(): void }[] = [];
  const startTime = new Date(Date.now() - 60_000);
  const s3 = () => track(new S3Client({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true }));
  const ct = () => track(new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 }));
  const clients = () => track(new Clients({ url: server.url } as TestServer));
  function track<T extends { destroy(): void }>(c: T): T {
    made.push(c);
    return c;
  }
  const closeClients = () => {
    for (const c of made.splice(0)) c.destroy();
  };

  const keysUnder = async (prefix: string): Promise<string[]> => {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
      out.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    return out;
  };
  const digestKeys = () => keysUnder(`AWSLogs/${TEST_ACCOUNT}/CloudTrail-Digest/`);
  const logKeys = () => keysUnder(`AWSLogs/${TEST_ACCOUNT}/CloudTrail/`);
  const body = async (key: string) => Buffer.from(await (await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
  const deliveredRecords = async (): Promise<Record<string, any>[]> => {
    const out: Record<string, any>[] = [];
    for (const key of await logKeys()) out.push(...(JSON.parse(gunzipSync(await body(key)).toString('utf8')) as { Records: Record<string, any>[] }).Records);
    return out;
  };
  /** Waits until `cond` holds (polling), failing after `ms`. */
  const until = async (what: string, cond: () => Promise<boolean>, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await sleep(200);
    }
  };

  before(async () => {
    server = await start(dataDir);
  });
  after(async () => {
    closeClients();
    await server.app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let keyId: string;
  let firstDelivery: number;

  it('CreateTrail wants the bucket to exist and its policy to let cloudtrail.amazonaws.com in', async () => {
    const refused = await ct().send(new CreateTrailCommand({ Name: TRAIL, S3BucketName: BUCKET })).catch((e: Error) => e);
    assert.equal((refused as Error).name, 'S3BucketDoesNotExistException');
    await s3().send(new CreateBucketCommand({ Bucket: BUCKET }));
    const noPolicy = await ct().send(new CreateTrailCommand({ Name: TRAIL, S3BucketName: BUCKET })).catch((e: Error) => e);
    assert.equal((noPolicy as Error).name, 'InsufficientS3BucketPolicyException');
    await s3().send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: BUCKET_POLICY }));
    // The policy names this trail's ARN: another trail is refused.
    const other = await ct().send(new CreateTrailCommand({ Name: 'other-trail', S3BucketName: BUCKET })).catch((e: Error) => e);
    assert.equal((other as Error).name, 'InsufficientS3BucketPolicyException');
    const out = await ct().send(new CreateTrailCommand({ Name: TRAIL, S3BucketName: BUCKET, EnableLogFileValidation: true }));
    assert.equal(out.TrailARN, TRAIL_ARN);
    await ct().send(new StartLoggingCommand({ Name: TRAIL }));
  });

  it('delivers the calls in gzip log files within an interval, and a signed digest every digest interval', async () => {
    const t0 = Date.now();
    keyId = (await clients().kms().send(new CreateKeyCommand({ Description: 'trail test' }))).KeyMetadata!.KeyId!;
    await clients().kms().send(new DescribeKeyCommand({ KeyId: keyId }));
    await clients().iam().send(new CreateUserCommand({ UserName: 'trail-user' }));
    await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'not-a-log.txt', Body: 'x' }));
    // The calls may straddle two log intervals: wait for the last one's record.
    await until('the CreateUser record in a log file', async () => (await deliveredRecords()).some((r) => r.eventName === 'CreateUser'));
    firstDelivery = Date.now() - t0;
    const records = await deliveredRecords();
    const names = records.map((r) => r.eventName);
    for (const n of ['StartLogging', 'CreateKey', 'DescribeKey', 'CreateUser']) assert.ok(names.includes(n), `${n} delivered (got ${names.join(',')})`);
    // Default selectors: management events only; S3 PutObject is a data event.
    assert.ok(!names.includes('PutObject'));
    const createKey = records.find((r) => r.eventName === 'CreateKey')!;
    assert.equal(createKey.eventSource, 'kms.amazonaws.com');
    assert.equal(createKey.recipientAccountId, TEST_ACCOUNT);
    assert.equal(createKey.responseElements.keyMetadata.keyId, keyId);
    const logs = await logKeys();
    for (const k of logs) assert.match(k, new RegExp(`^AWSLogs/${TEST_ACCOUNT}/CloudTrail/us-east-1/\\d{4}/\\d{2}/\\d{2}/${TEST_ACCOUNT}_CloudTrail_us-east-1_\\d{8}T\\d{4}Z_[A-Za-z0-9]{16}\\.json\\.gz$`));
    // Stored like any new object: SSE-S3 by default.
    assert.equal((await s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: logs[0]! }))).ServerSideEncryption, 'AES256');

    await until('two digest files', async () => (await digestKeys()).length >= 2);
    const keys = (await digestKeys()).sort();
    const head = await s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: keys[0]! }));
    assert.equal(head.Metadata?.['signature-algorithm'], 'SHA256withRSA');
    assert.match(head.Metadata?.signature ?? '', /^[0-9a-f]{512}$/);
    const first = JSON.parse(gunzipSync(await body(keys[0]!)).toString('utf8'));
    assert.equal(first.previousDigestSignature, null);
    assert.equal(first.digestS3Object, keys[0]);
    const second = JSON.parse(gunzipSync(await body(keys[1]!)).toString('utf8'));
    assert.equal(second.previousDigestS3Object, keys[0]);
    assert.equal(second.digestStartTime, first.digestEndTime);
    const status = await ct().send(new GetTrailStatusCommand({ Name: TRAIL }));
    assert.ok(status.LatestDeliveryTime && status.LatestDigestDeliveryTime);
    assert.equal(status.LatestDeliveryError, undefined);
  });

  it('aws cloudtrail validate-logs reports every digest and log file valid', { skip }, async () => {
    const res = await validateLogs(server.url, TRAIL_ARN, startTime);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.doesNotMatch(res.stdout + res.stderr, /INVALID/);
    // The digests validate-logs saw (another may land while it runs: the digest interval is 2 s), all valid.
    const digests = [...res.stdout.matchAll(new RegExp(`Digest file\ts3://${BUCKET}/(\\S+)\tvalid`, 'g'))].map((m) => m[1]!);
    assert.ok(digests.length >= 2);
    for (const k of digests) assert.ok((await digestKeys()).includes(k));
    assert.match(res.stdout, new RegExp(`${digests.length}/${digests.length} digest files valid`));
    // Every log file those digests list is checked (the newest may wait for the next digest).
    const listed: string[] = [];
    for (const k of digests) listed.push(...JSON.parse(gunzipSync(await body(k)).toString('utf8')).logFiles.map((f: { s3Object: string }) => f.s3Object));
    assert.ok(listed.length >= 1);
    assert.match(res.stdout, new RegExp(`${listed.length}/${listed.length} log files valid`));
    for (const k of listed) assert.ok(res.stdout.includes(`Log file\ts3://${BUCKET}/${k}\tvalid`));
  });

  it('a restart on the same data dir neither loses nor repeats a record, and the digest chain goes on', async () => {
    closeClients();
    await server.app.close();
    server = await start(dataDir);
    await clients().kms().send(new DescribeKeyCommand({ KeyId: keyId }));
    await clients().iam().send(new CreateUserCommand({ UserName: 'after-restart' }));
    await until('the record of a call after the restart', async () => (await deliveredRecords()).some((r) => r.eventName === 'CreateUser' && r.requestParameters?.userName === 'after-restart'));
    const before = (await digestKeys()).length;
    await until('a digest after the restart', async () => (await digestKeys()).length > before);
    const ids = (await deliveredRecords()).map((r) => r.eventID as string);
    assert.equal(new Set(ids).size, ids.length, 'no record delivered twice');
    if (!skip) {
      const res = await validateLogs(server.url, TRAIL_ARN, startTime);
      assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
      assert.doesNotMatch(res.stdout + res.stderr, /INVALID|No log files were delivered/);
    }
  });

  it('a log file edited in place is reported INVALID', { skip }, async () => {
    // A log file a digest lists (the newest one may not be listed yet).
    const listed: string[] = [];
    for (const k of await digestKeys()) listed.push(...(JSON.parse(gunzipSync(await body(k)).toString('utf8')).logFiles as { s3Object: string }[]).map((f) => f.s3Object));
    const victim = listed[0] ?? assert.fail('no digest lists a log file');
    const doc = JSON.parse(gunzipSync(await body(victim)).toString('utf8'));
    doc.Records[0].sourceIPAddress = '203.0.113.66';
    await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: victim, Body: gzipSync(JSON.stringify(doc)) }));
    const res = await validateLogs(server.url, TRAIL_ARN, startTime);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, new RegExp(`Log file\\ts3://${BUCKET}/${victim.replace(/[.]/g, '\\.')}\\tINVALID: hash value doesn't match`));
    t_log(`first log delivery after the calls: ${firstDelivery} ms`);
  });

  it('a bucket that refuses CloudTrail: LatestDeliveryError AccessDenied, nothing lost, delivered once the policy is back', async () => {
    await s3().send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    await clients().iam().send(new CreateUserCommand({ UserName: 'while-refused' }));
    await until('AccessDenied in GetTrailStatus', async () => (await ct().send(new GetTrailStatusCommand({ Name: TRAIL }))).LatestDeliveryError === 'AccessDenied');
    assert.ok(!(await deliveredRecords()).some((r) => r.requestParameters?.userName === 'while-refused'));
    await s3().send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: BUCKET_POLICY }));
    await until('the held record delivered', async () => (await deliveredRecords()).some((r) => r.requestParameters?.userName === 'while-refused'));
    await until('the error cleared', async () => (await ct().send(new GetTrailStatusCommand({ Name: TRAIL }))).LatestDeliveryError === undefined);
    const ids = (await deliveredRecords()).map((r) => r.eventID as string);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('S3 data events are delivered when the selectors ask for the objects', async () => {
    await ct().send(
      new PutEventSelectorsCommand({
        TrailName: TRAIL,
        EventSelectors: [{ ReadWriteType: 'WriteOnly', IncludeManagementEvents: true, DataResources: [{ Type: 'AWS::S3::Object', Values: [`arn:aws:s3:::${BUCKET}/data/`] }] }],
      }),
    );
    await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'data/watched.txt', Body: 'x' }));
    await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'elsewhere.txt', Body: 'x' }));
    await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'data/watched.txt' }));
    await until('the PutObject data event', async () => (await deliveredRecords()).some((r) => r.eventName === 'PutObject' && r.requestParameters?.key === 'data/watched.txt'));
    await sleep(1_500);
    const data = (await deliveredRecords()).filter((r) => r.eventCategory === 'Data');
    assert.deepEqual(data.map((r) => [r.eventName, r.requestParameters?.key]), [['PutObject', 'data/watched.txt']]);
  });
});

function t_log(s: string): void {
  process.stdout.write(`# ${s}\n`);
}

// CloudTrail end to end on PostgreSQL (issue 10's representative set): LookupEvents finds the calls of every
// service in the PostgreSQL audit log, and a trail (CreateTrail + StartLogging, short intervals) delivers log
// files and digest files into its bucket — whose bodies are in PostgreSQL too — that the real
// `aws cloudtrail validate-logs` validates.
import { CloudTrailClient, CreateTrailCommand, GetTrailStatusCommand, LookupEventsCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateUserCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { postgresSkip } from '../../helpers/postgres.js';
import { Clients } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer } from '../../helpers/server.js';
import { startPostgresServer } from './pg-server.js';
import { assertAllLogFilesValid, validateLogs } from '../../helpers/validate-logs.js';

const BUCKET = 'pg-trail-logs';
const TRAIL_ARN = `arn:aws:cloudtrail:${TEST_REGION}:${TEST_ACCOUNT}:trail/pg-trail`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cliUnavailable(): string | undefined {
  const res = spawnSync('aws', ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
  if (res.error) return `aws cannot be run (${(res.error as NodeJS.ErrnoException).code ?? res.error.message})`;
  return /^aws-cli\/1\./.test(`${res.stdout}${res.stderr}`.trim()) ? undefined : 'aws on PATH is not aws CLI v1';
}

describe('CloudTrail on PostgreSQL', { skip: postgresSkip() }, () => {
  let server: TestServer;
  let clients: Clients;
  let ct: CloudTrailClient;
  const startTime = new Date(Date.now() - 60_000);
  before(async () => {
    server = await startPostgresServer({ trails: { logIntervalMs: 300, digestIntervalMs: 1_500 } });
    clients = new Clients(server);
    ct = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  });
  after(async () => {
    ct?.destroy();
    clients.destroy();
    await server?.destroy();
  });
  const until = async (what: string, cond: () => Promise<boolean>, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await sleep(100);
    }
  };
  const objectText = async (Key: string) =>
    gunzipSync(Buffer.from(await (await server.s3().send(new GetObjectCommand({ Bucket: BUCKET, Key }))).Body!.transformToByteArray())).toString('utf8');
  const keysUnder = async (prefix: string) => ((await server.s3().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);

  it('LookupEvents finds the KMS, IAM and S3 calls just made, newest first, with their identities and resources', async () => {
    const key = (await clients.kms().send(new CreateKeyCommand({ Description: 'looked up' }))).KeyMetadata!;
    await clients.kms().send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    await clients.iam().send(new CreateUserCommand({ UserName: 'pg-looked-up' }));
    await server.s3().send(new CreateBucketCommand({ Bucket: BUCKET }));
    const { Events } = await ct.send(new LookupEventsCommand({ MaxResults: 50 }));
    const names = Events!.map((e) => e.EventName);
    for (const n of ['CreateKey', 'Encrypt', 'CreateUser', 'CreateBucket']) assert.ok(names.includes(n), `${n} in ${names.join(',')}`);
    assert.ok(names.indexOf('CreateBucket') < names.indexOf('CreateKey'), 'newest first');
    const encrypt = (await ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: key.Arn! }] }))).Events!;
    assert.deepEqual(encrypt.map((e) => e.EventName).sort(), ['CreateKey', 'Encrypt']);
    const record = JSON.parse(encrypt.find((e) => e.EventName === 'Encrypt')!.CloudTrailEvent!);
    assert.equal(record.eventSource, 'kms.amazonaws.com');
    assert.equal(record.userIdentity.accessKeyId, TEST_CREDENTIALS.accessKeyId);
    assert.equal(record.recipientAccountId, TEST_ACCOUNT);
    const user = (await ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateUser' }] }))).Events!;
    assert.equal(user.length, 1);
    assert.equal(JSON.parse(user[0]!.CloudTrailEvent!).requestParameters.userName, 'pg-looked-up');
  });

  it('a logging trail delivers gzip log files holding the calls, and digest files, into its bucket', async () => {
    const cloudTrail = { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' } };
    await server.s3().send(new PutBucketPolicyCommand({
      Bucket: BUCKET,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { ...cloudTrail, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${BUCKET}` },
          { ...cloudTrail, Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/AWSLogs/${TEST_ACCOUNT}/*`, Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } },
        ],
      }),
    }));
    await ct.send(new CreateTrailCommand({ Name: 'pg-trail', S3BucketName: BUCKET, EnableLogFileValidation: true }));
    await ct.send(new StartLoggingCommand({ Name: 'pg-trail' }));
    await clients.iam().send(new CreateUserCommand({ UserName: 'pg-delivered' }));
    await server.s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'not-a-log', Body: 'x' }));
    const logPrefix = `AWSLogs/${TEST_ACCOUNT}/CloudTrail/${TEST_REGION}/`;
    let delivered: Record<string, unknown>[] = [];
    await until('a log file with the CreateUser call', async () => {
      delivered = [];
      for (const k of await keysUnder(logPrefix)) delivered.push(...(JSON.parse(await objectText(k)) as { Records: Record<string, unknown>[] }).Records);
      return delivered.some((r) => r.eventName === 'CreateUser' && (r.requestParameters as { userName?: string } | null)?.userName === 'pg-delivered');
    });
    for (const k of await keysUnder(logPrefix)) assert.match(k, new RegExp(`^${logPrefix}\\d{4}/\\d{2}/\\d{2}/${TEST_ACCOUNT}_CloudTrail_${TEST_REGION}_\\d{8}T\\d{4}Z_[A-Za-z0-9]{16}\\.json\\.gz$`));
    assert.ok(delivered.some((r) => r.eventName === 'PutObject' || r.eventName === 'StartLogging'));
    await until('a digest file', async () => (await keysUnder(`AWSLogs/${TEST_ACCOUNT}/CloudTrail-Digest/`)).length > 0);
    const status = await ct.send(new GetTrailStatusCommand({ Name: 'pg-trail' }));
    assert.equal(status.IsLogging, true);
    assert.ok(status.LatestDeliveryTime);
    assert.equal(status.LatestDeliveryError, undefined);
  });

  const skip = cliUnavailable();
  if (skip && process.env.CI) throw new Error(skip);
  it('aws cloudtrail validate-logs validates the digest chain and the log files', { skip: skip ?? false }, async () => {
    await until('a digest listing a log file', async () => {
      for (const k of await keysUnder(`AWSLogs/${TEST_ACCOUNT}/CloudTrail-Digest/`)) if ((JSON.parse(await objectText(k)) as { logFiles: unknown[] }).logFiles.length > 0) return true;
      return false;
    });
    assertAllLogFilesValid(await validateLogs(server.url, TRAIL_ARN, startTime));
  });
});

// A trail whose log files are SSE-KMS encrypted (KmsKeyId), end to end: CreateTrail/UpdateTrail check the key
// as CloudTrail does — a GenerateDataKey as cloudtrail.amazonaws.com, recorded in the key owner's account —
// and answer AWS's errors (KmsKeyNotFoundException, InsufficientEncryptionPolicyException, KmsException,
// InvalidKmsKeyIdException); log files are aws:kms objects under the key with the trail's encryption context,
// readable by a user allowed kms:Decrypt and by nobody else; digest files stay SSE-S3, and the real
// `aws cloudtrail validate-logs` still validates the chain. A bucket whose default is SSE-KMS is honoured too.
import { CloudTrailClient, CreateTrailCommand, GetTrailCommand, GetTrailStatusCommand, LookupEventsCommand, StartLoggingCommand, UpdateTrailCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateKeyCommand, DisableKeyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketEncryptionCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { Clients, Credentials, allow, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';
import { assertAllLogFilesValid, validateLogs } from '../../helpers/validate-logs.js';

const BUCKET = 'encrypted-trail-logs';
const TRAIL = 'encrypted';
const TRAIL_ARN = `arn:aws:cloudtrail:${TEST_REGION}:${TEST_ACCOUNT}:trail/${TRAIL}`;
const ROOT = `arn:aws:iam::${TEST_ACCOUNT}:root`;

/** The bucket policy AWS documents for CloudTrail. */
function bucketPolicy(bucket: string): string {
  const cloudTrail = { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' } };
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { ...cloudTrail, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${bucket}` },
      { ...cloudTrail, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/AWSLogs/${TEST_ACCOUNT}/*`, Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } },
    ],
  });
}

/**
 * The key policy AWS documents for trails (create-kms-key-policy-for-cloudtrail.html): the account's IAM
 * decides for its principals; CloudTrail may GenerateDataKey* for this account's trails and this trail only
 * (kms:EncryptionContext:aws:cloudtrail:arn, aws:SourceArn), and DescribeKey.
 */
const KEY_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Enable IAM user permissions', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' },
    {
      Sid: 'Allow CloudTrail to encrypt logs',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 'kms:GenerateDataKey*',
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:SourceArn': TRAIL_ARN },
        StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:aws:cloudtrail:*:${TEST_ACCOUNT}:trail/*` },
      },
    },
    { Sid: 'Allow CloudTrail to describe key', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'kms:DescribeKey', Resource: '*' },
  ],
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cliUnavailable(): string | undefined {
  const res = spawnSync('aws', ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
  if (res.error) return `aws cannot be run (${(res.error as NodeJS.ErrnoException).code ?? res.error.message})`;
  return /^aws-cli\/1\./.test(`${res.stdout}${res.stderr}`.trim()) ? undefined : 'aws on PATH is not aws CLI v1';
}

describe('trails with SSE-KMS log files', () => {
  const skip = cliUnavailable();
  if (skip && process.env.CI) throw new Error(skip);
  let server: TestServer;
  let clients: Clients;
  const made: { destroy(): void }[] = [];
  const track = <T extends { destroy(): void }>(c: T): T => (made.push(c), c);
  const ct = () => track(new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 }));
  const s3 = (credentials: Credentials = TEST_CREDENTIALS) => track(new S3Client({ endpoint: server.url, region: TEST_REGION, credentials, forcePathStyle: true }));
  const keysUnder = async (bucket: string, prefix: string) => ((await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();
  const logKeys = (bucket = BUCKET) => keysUnder(bucket, `AWSLogs/${TEST_ACCOUNT}/CloudTrail/`);
  const digestKeys = () => keysUnder(BUCKET, `AWSLogs/${TEST_ACCOUNT}/CloudTrail-Digest/`);
  const until = async (what: string, cond: () => Promise<boolean>, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await sleep(100);
    }
  };
  let cloudTrailKey: string;
  let plainKey: string;
  const startTime = new Date(Date.now() - 60_000);

  before(async () => {
    server = await startServer({ trails: { logIntervalMs: 400, digestIntervalMs: 1_500 } });
    clients = new Clients(server);
    await s3().send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3().send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: bucketPolicy(BUCKET) }));
    cloudTrailKey = (await clients.kms().send(new CreateKeyCommand({ Description: 'trail logs', Policy: KEY_POLICY }))).KeyMetadata!.Arn!;
    await clients.kms().send(new CreateAliasCommand({ AliasName: 'alias/trail-logs', TargetKeyId: cloudTrailKey }));
    // The default key policy: the account only, nothing for CloudTrail.
    plainKey = (await clients.kms().send(new CreateKeyCommand({ Description: 'not for CloudTrail' }))).KeyMetadata!.Arn!;
  });
  after(async () => {
    for (const c of made) c.destroy();
    clients.destroy();
    await server.destroy();
  });

  it("CreateTrail checks the key as CloudTrail does and answers AWS's errors", async () => {
    const refused = await rejection(ct().send(new CreateTrailCommand({ Name: TRAIL, S3BucketName: BUCKET, KmsKeyId: plainKey })));
    assert.equal(refused.name, 'InsufficientEncryptionPolicyException');
    assert.equal(refused.message, `Insufficient permissions to access S3 bucket ${BUCKET} or KMS key ${plainKey}.`);
    const missing = await rejection(ct().send(new CreateTrailCommand({ Name: TRAIL, S3BucketName: BUCKET, KmsKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' })));
    assert.equal(missing.name, 'KmsKeyNotFoundException');
    assert.equal((await rejection(ct().send(new CreateTrailCommand({ Name: TRAIL, S3BucketName: BUCKET, KmsKeyId: 'alias/none' })))).name, 'KmsKeyNotFoundException');
    assert.equal((await rejection(ct().send(new CreateTrailCommand({ Name: TRAIL, S3BucketName: BUCKET, KmsKeyId: 'not a key' })))).name, 'InvalidKmsKeyIdException');
    // The policy names this trail: another trail of the account may not use the key.
    assert.equal((await rejection(ct().send(new CreateTrailCommand({ Name: 'other', S3BucketName: BUCKET, KmsKeyId: cloudTrailKey })))).name, 'InsufficientEncryptionPolicyException');
    // Nothing was created by the refusals.
    assert.equal((await rejection(ct().send(new GetTrailCommand({ Name: TRAIL })))).name, 'TrailNotFoundException');
  });

  it('CreateTrail by alias keeps the key ARN (GetTrail KmsKeyId); the check is a GenerateDataKey by cloudtrail.amazonaws.com in the key owner’s log', async () => {
    const out = await ct().send(new CreateTrailCommand({ Name: TRAIL, S3BucketName: BUCKET, KmsKeyId: 'alias/trail-logs', EnableLogFileValidation: true }));
    assert.equal(out.KmsKeyId, cloudTrailKey);
    assert.equal((await ct().send(new GetTrailCommand({ Name: TRAIL }))).Trail!.KmsKeyId, cloudTrailKey);
    const { Events } = await ct().send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'GenerateDataKey' }] }));
    const byCloudTrail = Events!.map((e) => JSON.parse(e.CloudTrailEvent!)).filter((r) => r.userIdentity.type === 'AWSService');
    assert.ok(byCloudTrail.length >= 1);
    const r = byCloudTrail[0];
    assert.deepEqual(r.userIdentity, { type: 'AWSService', invokedBy: 'cloudtrail.amazonaws.com' });
    assert.equal(r.sourceIPAddress, 'cloudtrail.amazonaws.com');
    assert.equal(r.requestParameters.encryptionContext['aws:cloudtrail:arn'], TRAIL_ARN);
    assert.equal(r.recipientAccountId, TEST_ACCOUNT);
    assert.deepEqual(r.resources, [{ accountId: TEST_ACCOUNT, type: 'AWS::KMS::Key', ARN: cloudTrailKey }]);
    assert.equal(r.responseElements, null);
    await ct().send(new StartLoggingCommand({ Name: TRAIL }));
  });

  it('log files are aws:kms objects under the key with the trail’s context; digest files SSE-S3; only kms:Decrypt reads them', async () => {
    await clients.iam().send(new CreateUserCommand({ UserName: 'reader' }));
    await until('a log file', async () => (await logKeys()).length > 0);
    const key = (await logKeys())[0]!;
    const head = await s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(head.ServerSideEncryption, 'aws:kms');
    assert.equal(head.SSEKMSKeyId, cloudTrailKey);
    const records = JSON.parse(gunzipSync(Buffer.from(await (await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray())).toString('utf8')).Records;
    assert.ok(records.length > 0);
    await until('a digest file', async () => (await digestKeys()).length > 0);
    assert.equal((await s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: (await digestKeys())[0]! }))).ServerSideEncryption, 'AES256');

    // Two users who may read the bucket; only one may decrypt with the key.
    const userWith = async (name: string, actions: string[]) => {
      await clients.iam().send(new CreateUserCommand({ UserName: name }));
      await clients.iam().send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: policyDocument(allow(actions, '*')) }));
      const ak = (await clients.iam().send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
      return { accessKeyId: ak.AccessKeyId!, secretAccessKey: ak.SecretAccessKey! };
    };
    const auditor = await userWith('auditor', ['s3:GetObject', 's3:ListBucket', 'kms:Decrypt']);
    const s3Only = await userWith('s3-only', ['s3:GetObject', 's3:ListBucket']);
    const got = await s3(auditor).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.ok(JSON.parse(gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString('utf8')).Records.length > 0);
    const denied = await rejection(s3(s3Only).send(new GetObjectCommand({ Bucket: BUCKET, Key: key })));
    assert.equal(denied.name, 'AccessDenied');
  });

  it('aws cloudtrail validate-logs validates the digest chain over SSE-KMS log files', { skip }, async () => {
    await until('a digest listing a log file', async () => {
      for (const k of await digestKeys()) {
        const d = JSON.parse(gunzipSync(Buffer.from(await (await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: k }))).Body!.transformToByteArray())).toString('utf8'));
        if (d.logFiles.length > 0) return true;
      }
      return false;
    });
    assertAllLogFilesValid(await validateLogs(server.url, TRAIL_ARN, startTime));
  });

  it('UpdateTrail: another key is checked; an empty KmsKeyId goes back to SSE-S3 for the next log file', async () => {
    const refused = await rejection(ct().send(new UpdateTrailCommand({ Name: TRAIL, KmsKeyId: plainKey })));
    assert.equal(refused.name, 'InsufficientEncryptionPolicyException');
    assert.equal((await ct().send(new GetTrailCommand({ Name: TRAIL }))).Trail!.KmsKeyId, cloudTrailKey);
    const out = await ct().send(new UpdateTrailCommand({ Name: TRAIL, KmsKeyId: '' }));
    assert.equal(out.KmsKeyId, undefined);
    const before = new Set(await logKeys());
    await clients.iam().send(new CreateUserCommand({ UserName: 'after-kms' }));
    await until('a new log file', async () => (await logKeys()).some((k) => !before.has(k)));
    const fresh = (await logKeys()).filter((k) => !before.has(k));
    for (const k of fresh) assert.equal((await s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: k }))).ServerSideEncryption, 'AES256');
  });

  it('a key that stops letting CloudTrail in, or is disabled: KmsException at UpdateTrail, LatestDeliveryError at delivery', async () => {
    if (skip) await ct().send(new UpdateTrailCommand({ Name: TRAIL, KmsKeyId: cloudTrailKey }));
    else {
      // The aws CLI's --kms-key-id, by alias: the trail answers the key's ARN.
      const env = { ...awsClientEnv(), AWS_ENDPOINT_URL: server.url };
      const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile('aws', ['cloudtrail', 'update-trail', '--name', TRAIL, '--kms-key-id', 'alias/trail-logs', '--output', 'json'], { env, timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        ),
      );
      assert.equal(out.code, 0, out.stderr);
      assert.equal(JSON.parse(out.stdout).KmsKeyId, cloudTrailKey);
    }
    const noCloudTrail = JSON.stringify({ Version: '2012-10-17', Statement: [JSON.parse(KEY_POLICY).Statement[0]] });
    await clients.kms().send(new PutKeyPolicyCommand({ KeyId: cloudTrailKey, PolicyName: 'default', Policy: noCloudTrail }));
    await clients.iam().send(new CreateUserCommand({ UserName: 'while-key-refuses' }));
    await until('the refusal in GetTrailStatus', async () => (await ct().send(new GetTrailStatusCommand({ Name: TRAIL }))).LatestDeliveryError === 'AccessDenied');
    await clients.kms().send(new PutKeyPolicyCommand({ KeyId: cloudTrailKey, PolicyName: 'default', Policy: KEY_POLICY }));
    await until('delivery again', async () => (await ct().send(new GetTrailStatusCommand({ Name: TRAIL }))).LatestDeliveryError === undefined);
    const disabled = (await clients.kms().send(new CreateKeyCommand({ Policy: KEY_POLICY }))).KeyMetadata!.Arn!;
    await clients.kms().send(new DisableKeyCommand({ KeyId: disabled }));
    assert.equal((await rejection(ct().send(new UpdateTrailCommand({ Name: TRAIL, KmsKeyId: disabled })))).name, 'KmsException');
  });

  it('a bucket whose default encryption is SSE-KMS gets log files under that key, KMS called as CloudTrail', async () => {
    const bucket = 'kms-default-bucket';
    await s3().send(new CreateBucketCommand({ Bucket: bucket }));
    await s3().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: bucketPolicy(bucket) }));
    // S3's default encryption sends no aws:cloudtrail:arn context: the key policy lets this trail in by aws:SourceArn.
    const statements = JSON.parse(KEY_POLICY).Statement;
    delete statements[1].Condition.StringLike;
    const defaultKey = (await clients.kms().send(new CreateKeyCommand({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }))).KeyMetadata!.Arn!;
    await s3().send(
      new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: defaultKey } }] } }),
    );
    await ct().send(new UpdateTrailCommand({ Name: TRAIL, S3BucketName: bucket, KmsKeyId: '' }));
    await clients.iam().send(new CreateUserCommand({ UserName: 'into-kms-default' }));
    await until('a log file in the SSE-KMS bucket', async () => (await logKeys(bucket)).length > 0);
    const head = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: (await logKeys(bucket))[0]! }));
    assert.equal(head.ServerSideEncryption, 'aws:kms');
    assert.equal(head.SSEKMSKeyId, defaultKey);
  });
});

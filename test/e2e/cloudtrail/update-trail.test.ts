// UpdateTrail and ListTrails end to end: @aws-sdk/client-cloudtrail and the aws CLI. UpdateTrail changes what
// it names (bucket, prefix, validation, global events, multi-region), with CreateTrail's checks on a new
// bucket or prefix, from the home region only; the next log file goes to the new place while the trail keeps
// logging. ListTrails lists the account's trails of every region. Log intervals are 500 ms.
import {
  CloudTrailClient, CreateTrailCommand, GetTrailCommand, GetTrailStatusCommand, ListTrailsCommand, StartLoggingCommand, UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { CreateUserCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { Clients } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

const arnOf = (name: string, region = 'us-east-1') => `arn:aws:cloudtrail:${region}:${TEST_ACCOUNT}:trail/${name}`;

/** AWS's documented bucket policy for CloudTrail, any trail of the account, any prefix. */
function bucketPolicy(bucket: string): string {
  const cloudTrail = { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' } };
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { ...cloudTrail, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${bucket}` },
      { ...cloudTrail, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } },
    ],
  });
}

function aws(url: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('aws', [...args, '--endpoint-url', url, '--output', 'json'], { env: awsClientEnv(), timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(`aws did not run: ${err.message}`));
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CloudTrail UpdateTrail and ListTrails', () => {
  let server: TestServer;
  let clients: Clients;
  const made: CloudTrailClient[] = [];
  const ct = (region = 'us-east-1') => {
    const c = new CloudTrailClient({ endpoint: server.url, region, credentials: { accessKeyId: 'AKIATESTROOT00000001', secretAccessKey: 'test-root-secret-access-key-0000000000001' }, maxAttempts: 1 });
    made.push(c);
    return c;
  };
  const keysIn = async (bucket: string, prefix = ''): Promise<string[]> =>
    ((await server.s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);
  const recordsIn = async (bucket: string, prefix: string): Promise<Record<string, any>[]> => {
    const out: Record<string, any>[] = [];
    for (const key of await keysIn(bucket, prefix)) {
      if (!key.includes('/CloudTrail/')) continue;
      const body = Buffer.from(await (await server.s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
      out.push(...(JSON.parse(gunzipSync(body).toString('utf8')) as { Records: Record<string, any>[] }).Records);
    }
    return out;
  };
  const until = async (what: string, cond: () => Promise<boolean>, ms = 15_000) => {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await sleep(100);
    }
  };

  before(async () => {
    server = await startServer({ regions: 'us-east-1,us-west-2', trails: { logIntervalMs: 500, digestIntervalMs: 60_000 } });
    clients = new Clients(server);
    for (const bucket of ['first-bucket', 'second-bucket', 'closed-bucket']) await server.s3().send(new CreateBucketCommand({ Bucket: bucket }));
    for (const bucket of ['first-bucket', 'second-bucket']) await server.s3().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: bucketPolicy(bucket) }));
  });
  after(async () => {
    for (const c of made) c.destroy();
    clients.destroy();
    await server.destroy();
  });

  it('ListTrails lists the account’s trails of every region with their home region, from any region', async () => {
    await ct().send(new CreateTrailCommand({ Name: 'east', S3BucketName: 'first-bucket' }));
    await ct('us-west-2').send(new CreateTrailCommand({ Name: 'west', S3BucketName: 'first-bucket' }));
    for (const region of ['us-east-1', 'us-west-2']) {
      const { Trails } = await ct(region).send(new ListTrailsCommand({}));
      assert.deepEqual(
        Trails!.map((t) => [t.Name, t.HomeRegion, t.TrailARN]),
        [
          ['east', 'us-east-1', arnOf('east')],
          ['west', 'us-west-2', arnOf('west', 'us-west-2')],
        ],
      );
    }
  });

  it('UpdateTrail changes what it names and keeps the rest; GetTrail shows the new settings', async () => {
    const out = await ct().send(new UpdateTrailCommand({ Name: 'east', S3KeyPrefix: 'audit', EnableLogFileValidation: true, IsMultiRegionTrail: true }));
    assert.equal(out.Name, 'east');
    assert.equal(out.TrailARN, arnOf('east'));
    assert.equal(out.S3BucketName, 'first-bucket');
    assert.equal(out.S3KeyPrefix, 'audit');
    assert.equal(out.LogFileValidationEnabled, true);
    assert.equal(out.IsMultiRegionTrail, true);
    assert.equal(out.IncludeGlobalServiceEvents, true);
    const { Trail } = await ct().send(new GetTrailCommand({ Name: arnOf('east') }));
    assert.deepEqual([Trail!.S3KeyPrefix, Trail!.LogFileValidationEnabled, Trail!.IsMultiRegionTrail, Trail!.HomeRegion], ['audit', true, true, 'us-east-1']);
    // Now multi-region, it is seen from us-west-2 too; an empty prefix removes the prefix.
    assert.equal((await ct('us-west-2').send(new GetTrailCommand({ Name: 'east' }))).Trail!.HomeRegion, 'us-east-1');
    const cleared = await ct().send(new UpdateTrailCommand({ Name: 'east', S3KeyPrefix: '', IsMultiRegionTrail: false }));
    assert.equal(cleared.S3KeyPrefix, undefined);
    assert.equal(cleared.IsMultiRegionTrail, false);
    assert.equal(cleared.LogFileValidationEnabled, true);
  });

  it('UpdateTrail makes CreateTrail’s checks, from the home region only, with botocore’s errors', async () => {
    const cases: [Promise<unknown>, string][] = [
      [ct().send(new UpdateTrailCommand({ Name: 'missing', S3KeyPrefix: 'x' })), 'TrailNotFoundException'],
      [ct().send(new UpdateTrailCommand({ Name: 'east', S3BucketName: 'no-such-bucket' })), 'S3BucketDoesNotExistException'],
      [ct().send(new UpdateTrailCommand({ Name: 'east', S3BucketName: 'closed-bucket' })), 'InsufficientS3BucketPolicyException'],
      [ct().send(new UpdateTrailCommand({ Name: 'east', S3BucketName: 'Bad_Bucket' })), 'InvalidS3BucketNameException'],
      [ct().send(new UpdateTrailCommand({ Name: 'east', IsMultiRegionTrail: true, IncludeGlobalServiceEvents: false })), 'InvalidParameterCombinationException'],
      [ct().send(new UpdateTrailCommand({ Name: 'east', SnsTopicName: 'topic' })), 'UnsupportedOperationException'],
      [ct('us-west-2').send(new UpdateTrailCommand({ Name: arnOf('east'), S3KeyPrefix: 'x' })), 'TrailNotFoundException'],
      // A multi-region trail is seen from elsewhere, and changed only from home.
      [ct().send(new UpdateTrailCommand({ Name: 'east', IsMultiRegionTrail: true })).then(() => ct('us-west-2').send(new UpdateTrailCommand({ Name: 'east', S3KeyPrefix: 'x' }))), 'InvalidHomeRegionException'],
      // Made multi-region, 'west' would be seen in us-east-1 next to another 'west'.
      [ct().send(new CreateTrailCommand({ Name: 'west', S3BucketName: 'first-bucket' })).then(() => ct('us-west-2').send(new UpdateTrailCommand({ Name: 'west', IsMultiRegionTrail: true }))), 'TrailAlreadyExistsException'],
    ];
    for (const [p, code] of cases) assert.equal((await rejection(p)).name, code);
    // Nothing of the refused updates stuck.
    const { Trail } = await ct().send(new GetTrailCommand({ Name: 'east' }));
    assert.deepEqual([Trail!.S3BucketName, Trail!.S3KeyPrefix, Trail!.IncludeGlobalServiceEvents], ['first-bucket', undefined, true]);
  });

  it('a logging trail moved by UpdateTrail delivers its next log file to the new bucket and prefix, without a restart of logging', async () => {
    await ct().send(new StartLoggingCommand({ Name: 'east' }));
    await clients.iam().send(new CreateUserCommand({ UserName: 'before-move' }));
    await until('the record in the first bucket', async () => (await recordsIn('first-bucket', `AWSLogs/${TEST_ACCOUNT}/CloudTrail/`)).some((r) => r.requestParameters?.userName === 'before-move'));
    await ct().send(new UpdateTrailCommand({ Name: 'east', S3BucketName: 'second-bucket', S3KeyPrefix: 'moved' }));
    await clients.iam().send(new CreateUserCommand({ UserName: 'after-move' }));
    await until('the record in the second bucket', async () => (await recordsIn('second-bucket', `moved/AWSLogs/${TEST_ACCOUNT}/CloudTrail/`)).some((r) => r.requestParameters?.userName === 'after-move'));
    const moved = await recordsIn('second-bucket', 'moved/');
    assert.ok(moved.some((r) => r.eventName === 'UpdateTrail'), 'the UpdateTrail record itself goes to the new place');
    assert.ok(!(await recordsIn('first-bucket', '')).some((r) => r.requestParameters?.userName === 'after-move'));
    assert.equal((await ct().send(new GetTrailStatusCommand({ Name: 'east' }))).IsLogging, true);
  });

  it('the aws CLI: update-trail answers the new settings, list-trails lists the trails', async () => {
    const upd = await aws(server.url, ['cloudtrail', 'update-trail', '--name', 'east', '--s3-key-prefix', 'cli', '--no-enable-log-file-validation']);
    assert.equal(upd.code, 0, upd.stderr);
    const shown = JSON.parse(upd.stdout);
    assert.equal(shown.S3KeyPrefix, 'cli');
    assert.equal(shown.LogFileValidationEnabled, false);
    assert.equal(shown.TrailARN, arnOf('east'));
    const list = await aws(server.url, ['cloudtrail', 'list-trails']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      JSON.parse(list.stdout).Trails.map((t: { Name: string; HomeRegion: string }) => `${t.Name}@${t.HomeRegion}`),
      ['east@us-east-1', 'west@us-east-1', 'west@us-west-2'],
    );
    const bad = await aws(server.url, ['cloudtrail', 'update-trail', '--name', 'east', '--s3-bucket-name', 'no-such-bucket']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /S3BucketDoesNotExistException/);
  });
});

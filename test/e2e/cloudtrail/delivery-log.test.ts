// A trail delivery the bucket refuses is told in the server's log (pino, warn), not only in GetTrailStatus:
// one line per trail, kind and error per interval — not one per retry or per file — naming the trail, the
// bucket and the S3 error, and nothing of the records; the first delivery after it is logged once (info).
import { CloudTrailClient, CreateTrailCommand, GetTrailStatusCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateUserCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, DeleteBucketPolicyCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Clients } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TestServer, startServer } from '../../helpers/server.js';

const BUCKET = 'refusing-bucket';
const TRAIL_ARN = `arn:aws:cloudtrail:us-east-1:${TEST_ACCOUNT}:trail/watched`;
const INTERVAL_MS = 250;
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${BUCKET}` },
    { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
  ],
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('trail delivery failures in the server log', () => {
  let server: TestServer;
  let clients: Clients;
  let ct: CloudTrailClient;
  const lines = (msg: string) =>
    server.logs
      .flatMap((chunk) => chunk.split('\n'))
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === msg);

  before(async () => {
    server = await startServer({ trails: { logIntervalMs: INTERVAL_MS, digestIntervalMs: 60_000 } });
    clients = new Clients(server);
    ct = new CloudTrailClient({ endpoint: server.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    await server.s3().send(new CreateBucketCommand({ Bucket: BUCKET }));
    await server.s3().send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: POLICY }));
    await ct.send(new CreateTrailCommand({ Name: 'watched', S3BucketName: BUCKET }));
    await ct.send(new StartLoggingCommand({ Name: 'watched' }));
  });
  after(async () => {
    ct.destroy();
    clients.destroy();
    await server.destroy();
  });

  it('a refused delivery is one warn line per interval naming trail, bucket and error; its recovery one info line', async () => {
    await server.s3().send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    // Many records, several files' worth over time: still one line per interval.
    for (let i = 0; i < 5; i += 1) await clients.iam().send(new CreateUserCommand({ UserName: `refused-${i}` }));
    const t0 = Date.now();
    while (lines('trail delivery refused; it is retried at the next interval').length === 0) {
      assert.ok(Date.now() - t0 < 10_000, 'no warning logged');
      await sleep(50);
    }
    await sleep(INTERVAL_MS * 6);
    const warned = lines('trail delivery refused; it is retried at the next interval');
    const elapsedIntervals = Math.ceil((Date.now() - t0) / INTERVAL_MS) + 1;
    assert.ok(warned.length >= 2, `retried and told again at a later interval (${warned.length})`);
    assert.ok(warned.length <= elapsedIntervals, `${warned.length} lines for ~${elapsedIntervals} intervals: at most one per interval`);
    for (const w of warned) {
      assert.equal(w.level, 40, 'warn');
      assert.equal(w.trailArn, TRAIL_ARN);
      assert.equal(w.error, 'AccessDenied');
      assert.equal(w.kind, 'log');
      assert.equal(w.bucket, BUCKET);
      assert.match(String(w.key), new RegExp(`^AWSLogs/${TEST_ACCOUNT}/CloudTrail/us-east-1/`));
    }
    // Nothing of the records (user names, keys) in the lines; no stack trace for a refusal.
    const text = JSON.stringify(warned);
    assert.doesNotMatch(text, /refused-\d|AKIA|"stack"|"err"/);
    assert.equal((await ct.send(new GetTrailStatusCommand({ Name: 'watched' }))).LatestDeliveryError, 'AccessDenied');

    await server.s3().send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: POLICY }));
    const t1 = Date.now();
    while (lines('trail delivery resumed').length === 0) {
      assert.ok(Date.now() - t1 < 10_000, 'no recovery logged');
      await sleep(50);
    }
    await sleep(INTERVAL_MS * 3);
    const resumed = lines('trail delivery resumed');
    assert.equal(resumed.length, 1);
    assert.deepEqual([resumed[0]!.level, resumed[0]!.trailArn, resumed[0]!.kind], [30, TRAIL_ARN, 'log']);
    assert.equal((await ct.send(new GetTrailStatusCommand({ Name: 'watched' }))).LatestDeliveryError, undefined);
  });
});

// PostgreSQL down or unreachable, end to end (issue 10: "requests get AWS's retryable 5xx error quickly,
// nothing hangs, nothing half-written; service resumes by itself when the database returns"): a server on
// PostgreSQL, its database crashed (pg_ctl stop -m immediate) or frozen (SIGSTOP: no answer, no RST) while
// the SDKs (maxAttempts 1) call KMS, S3, IAM, STS and CloudTrail, and while trail delivery, the lifecycle
// sweep, the leases and the LISTEN connection keep trying in the background.
// Its own file, so its own cluster (test/helpers/postgres.ts): stopping it disturbs no other suite.
import { CloudTrailClient, CreateTrailCommand, LookupEventsCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateUserCommand, GetUserCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, GenerateDataKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresCluster, postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { Clients } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

const BUCKET = 'pg-outage';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a call answered: 'ok', or its error's name and HTTP status; and how long it took. */
interface Answer {
  readonly what: string;
  readonly ms: number;
}

async function answer(call: () => Promise<unknown>): Promise<Answer> {
  const t0 = performance.now();
  const what = await call().then(
    () => 'ok',
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => `${e.name} ${e.$metadata?.httpStatusCode}`,
  );
  return { what, ms: Math.round(performance.now() - t0) };
}

describe('a server on PostgreSQL when the database goes away', { skip: postgresSkip() }, () => {
  let cluster: PostgresCluster;
  let url: string;
  let server: TestServer;
  let clients: Clients;
  let ct: CloudTrailClient;
  let keyId: string;
  let ciphertext: Uint8Array;
  before(async () => {
    cluster = await postgresCluster();
    url = await cluster.createDatabase();
    // Background work at short intervals, so that it runs (and fails) during the outages too.
    server = await startServer({ databaseUrl: url, trails: { logIntervalMs: 200, digestIntervalMs: 1_000 }, sweepIntervalMs: 200, leases: { ttlMs: 600 } });
    clients = new Clients(server);
    ct = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    keyId = (await clients.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    ciphertext = (await clients.kms().send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('before') }))).CiphertextBlob!;
    const s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'before', Body: 'stored before' }));
    const cloudTrail = { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' } };
    await s3.send(new PutBucketPolicyCommand({
      Bucket: BUCKET,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { ...cloudTrail, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${BUCKET}` },
          { ...cloudTrail, Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/AWSLogs/*` },
        ],
      }),
    }));
    await ct.send(new CreateTrailCommand({ Name: 'outage', S3BucketName: BUCKET }));
    await ct.send(new StartLoggingCommand({ Name: 'outage' }));
  });
  after(async () => {
    ct?.destroy();
    clients?.destroy();
    await server?.destroy();
  });

  /** Every kind of call, named by what it must answer while the database is away (maxAttempts 1 everywhere). */
  const calls = (tag: string): [string, string[], () => Promise<unknown>][] => {
    const kms = clients.kms();
    const s3 = server.s3();
    return [
      ['KMS Encrypt', ['KMSInternalException 500'], () => kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }))],
      ['KMS Decrypt', ['KMSInternalException 500'], () => kms.send(new DecryptCommand({ CiphertextBlob: ciphertext }))],
      ['KMS GenerateDataKey', ['KMSInternalException 500'], () => kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }))],
      ['KMS CreateKey', ['KMSInternalException 500'], () => kms.send(new CreateKeyCommand({ Description: `during ${tag}` }))],
      ['S3 PutObject', ['ServiceUnavailable 503', 'InternalError 500'], () => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `during-${tag}`, Body: 'x' }))],
      ['S3 GetObject', ['ServiceUnavailable 503', 'InternalError 500'], () => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'before' })).then((r) => r.Body!.transformToString())],
      ['IAM CreateUser', ['ServiceFailureException 500'], () => clients.iam().send(new CreateUserCommand({ UserName: `during-${tag}` }))],
      ['IAM ListUsers', ['ServiceFailureException 500'], () => clients.iam().send(new ListUsersCommand({}))],
      ['STS GetCallerIdentity', ['InternalFailure 500'], () => clients.sts().send(new GetCallerIdentityCommand({}))],
      ['CloudTrail LookupEvents', ['InternalFailure 500'], () => ct.send(new LookupEventsCommand({ MaxResults: 1 }))],
    ];
  };

  /** Calls everything while the database is away: each gets its retryable 5xx within `withinMs`. */
  async function duringOutage(tag: string, withinMs: number, allWithinMs = withinMs): Promise<void> {
    const t0 = performance.now();
    for (const [name, expected, call] of calls(tag)) {
      const a = await answer(call);
      assert.ok(expected.includes(a.what), `${name}: ${a.what}, expected ${expected.join(' or ')}`);
      assert.ok(a.ms < withinMs, `${name} answered in ${a.ms} ms, not within ${withinMs} ms`);
    }
    const all = Math.round(performance.now() - t0);
    assert.ok(all < allWithinMs, `the ten calls took ${all} ms, not within ${allWithinMs} ms`);
  }

  /** Once the database is back: every call succeeds again (the first ones may still meet a dead connection). */
  async function resumes(tag: string): Promise<void> {
    const deadline = performance.now() + 15_000;
    while ((await answer(calls(tag)[0]![2])).what !== 'ok') {
      assert.ok(performance.now() < deadline, 'KMS serves again within 15 s of the database coming back');
      await sleep(100);
    }
    for (const [name, , call] of calls(`${tag}-after`)) assert.equal((await answer(call)).what, 'ok', `${name} after the outage`);
  }

  /** What the calls made during the outage must not have left: no user, no object, no key; no record of them. */
  async function nothingHalfWritten(tag: string): Promise<void> {
    assert.equal((await answer(() => clients.iam().send(new GetUserCommand({ UserName: `during-${tag}` })))).what, 'NoSuchEntityException 404');
    assert.equal((await answer(() => server.s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: `during-${tag}` })))).what, 'NotFound 404');
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const keys = await db.query("SELECT count(*)::int AS n FROM kms_keys WHERE description = $1", [`during ${tag}`]).catch(() => undefined);
      if (keys) assert.equal(keys.rows[0].n, 0, 'no key created');
    } finally {
      await db.end();
    }
    const events = (await ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateUser' }] }))).Events!;
    assert.ok(!events.some((e) => JSON.parse(e.CloudTrailEvent!).requestParameters?.userName === `during-${tag}`), 'no record of a refused call');
  }

  it('database crashed (stop -m immediate): every service answers its retryable 5xx at once; after a restart everything is served again, nothing half-written', async () => {
    cluster.stop('immediate');
    try {
      await duringOutage('crash', 3000);
      // A load balancer's health check sees it: 503 while the database does not answer.
      const health = await fetch(`${server.url}/_strongroom/health`);
      assert.deepEqual([health.status, await health.json()], [503, { status: 'database unreachable' }]);
      await sleep(1500); // background work (delivery, sweeps, leases, LISTEN reconnects) fails meanwhile: the process survives
      await duringOutage('crash-later', 3000);
    } finally {
      cluster.start();
    }
    await resumes('crash');
    const healthAfter = await fetch(`${server.url}/_strongroom/health`);
    assert.deepEqual([healthAfter.status, await healthAfter.json()], [200, { status: 'ok' }]);
    await nothingHalfWritten('crash');
    await nothingHalfWritten('crash-later');
    assert.equal((await clients.kms().send(new ListKeysCommand({}))).Keys!.length >= 1, true);
  });

  it('database frozen (SIGSTOP: connections open, nothing answers): calls get their 5xx within the timeouts instead of hanging; service resumes on SIGCONT', { timeout: 120_000 }, async (t) => {
    if (process.getuid?.() !== 0) return t.skip('freezes the postgres user’s server processes: needs root');
    // The postmaster (the parent of any backend) and every process it started.
    const probe = new pg.Client({ connectionString: url });
    await probe.connect();
    const backend = (await probe.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]);
    const postmaster = parentOf(backend); // while the backend still runs
    await probe.end();
    const cluster = [postmaster, ...readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
      try {
        return parentOf(pid) === postmaster;
      } catch {
        return false; // gone meanwhile
      }
    })];
    const signal = (sig: NodeJS.Signals) => {
      for (const pid of cluster) {
        try {
          process.kill(pid, sig);
        } catch {
          // a short-lived child that already exited
        }
      }
    };
    try {
      signal('SIGSTOP');
      // Each call is bounded by the pool's timeouts (connect 5 s, query 6 s: src/store/metadata/postgres/database.ts);
      // once one met them, the calls that follow fail at once (reachability.ts), not each after a timeout of its own.
      await duringOutage('freeze', 10_000, 15_000);
    } finally {
      signal('SIGCONT');
    }
    await resumes('freeze');
    await nothingHalfWritten('freeze');
  });

  it('the audit log is whole after the outages: strongroom audit verify --database-url passes', () => {
    const res = spawnSync(process.execPath, ['bin/strongroom.js', 'audit', 'verify', '--database-url', url, '--root-of-trust-file', `${server.dataDir}/root-of-trust.key`], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, STRONGROOM_LOG_LEVEL: 'warn' },
    });
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
    assert.ok(TEST_ACCOUNT);
  });
});

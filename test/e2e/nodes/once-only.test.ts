// Work that must happen once, on two real `strongroom serve` nodes sharing one PostgreSQL database (issue 10):
// a key due for deletion and a key due for rotation, found by both nodes as they start at once and sweep every
// 100 ms, are deleted once and rotated once (one AwsServiceEvent record each, counted in the shared audit log);
// trail delivery puts each record in exactly one log file, and when the node delivering is killed the other
// takes delivery over within seconds, still without a record in two files.
import { CreateTrailCommand, LookupEventsCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateUserCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, DescribeKeyCommand, EnableKeyRotationCommand, KeyMetadata, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, ListObjectVersionsCommand, PutBucketPolicyCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { NODE_ROOT_ENV, NodeClients, outcome, until } from '../../helpers/nodes.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { ServeProcess, killAll, spawnServe } from '../../helpers/process.js';

const ACCOUNT = '333344445555';
const BUCKET = 'trail-logs';
const SWEEP_INTERVAL_MS = 100;
const DOOMED_KEYS = 20;
const TRAIL_INTERVAL_S = 0.3;
const TRAIL_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${BUCKET}` },
    { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
  ],
});
const env = {
  ...NODE_ROOT_ENV,
  STRONGROOM_ACCOUNT_ID: ACCOUNT,
  STRONGROOM_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
  STRONGROOM_TRAIL_LOG_INTERVAL_SECONDS: String(TRAIL_INTERVAL_S),
};

describe('work that must happen once, on two serve nodes sharing one PostgreSQL database', { skip: postgresSkip() }, () => {
  let dir: string;
  let databaseUrl: string;
  let db: pg.Client;
  const nodes: { proc: ServeProcess; clients: NodeClients }[] = [];
  const start = async (name: string) => {
    const proc = await spawnServe(['--database-url', databaseUrl, '--root-of-trust-file', join(dir, 'root.key'), '--data-dir', join(dir, name)], env);
    return { proc, clients: new NodeClients(proc.url) };
  };

  /** The AwsServiceEvent records named `eventName` of the key `keyArn`, in the shared log. */
  const serviceEvents = async (eventName: string, keyArn: string): Promise<number> => {
    const res = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit_events WHERE event_name = $1 AND record::jsonb ->> 'eventType' = 'AwsServiceEvent' AND record::jsonb -> 'resources' @> $2::jsonb`,
      [eventName, JSON.stringify([{ ARN: keyArn }])],
    );
    return Number(res.rows[0]!.n);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sr-once-'));
    databaseUrl = await (await postgresCluster()).createDatabase();
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
  });

  after(async () => {
    for (const n of nodes) n.clients.destroy();
    await db?.end();
    killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('20 keys due for deletion and one due for rotation, found by two nodes starting at once, are each deleted once and rotated once', async () => {
    // One node makes the keys, then stops; their dates are moved into the past in the database (the domain
    // clock is real time here); then two nodes start at once, each sweeping at start and every 100 ms.
    const first = await start('first');
    const kms = first.clients.kms();
    // Many keys due at once: a sweep takes a while, so sweeps of both nodes would overlap without the lease.
    const doomed: KeyMetadata[] = [];
    for (let i = 0; i < DOOMED_KEYS; i++) {
      const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
      doomed.push(key);
    }
    const rotating = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await kms.send(new EnableKeyRotationCommand({ KeyId: rotating.KeyId, RotationPeriodInDays: 90 }));
    first.clients.destroy();
    assert.equal(await first.proc.terminate(), 0);
    const past = Date.now() - 60_000;
    await db.query('UPDATE kms_keys SET deletion_date = $1 WHERE key_id = ANY($2)', [past, doomed.map((k) => k.KeyId)]);
    await db.query('UPDATE kms_keys SET next_rotation_date = $1 WHERE key_id = $2', [past, rotating.KeyId]);

    nodes.push(...(await Promise.all([start('a'), start('b')])));
    await until('the DeleteKey and RotateKey service events', async () => {
      for (const key of doomed) if ((await serviceEvents('DeleteKey', key.Arn!)) === 0) return false;
      return (await serviceEvents('RotateKey', rotating.Arn!)) > 0;
    });
    await sleep(20 * SWEEP_INTERVAL_MS); // many sweeps on both nodes since
    for (const key of doomed) assert.equal(await serviceEvents('DeleteKey', key.Arn!), 1, `one DeleteKey record for ${key.KeyId}`);
    assert.equal(await serviceEvents('RotateKey', rotating.Arn!), 1, 'one RotateKey record');
    for (const n of nodes) {
      for (const key of doomed) assert.equal(await outcome(n.clients.kms().send(new DescribeKeyCommand({ KeyId: key.KeyId }))), 'NotFoundException');
      // LookupEvents on either node shows the one record.
      const events = (await n.clients.cloudtrail().send(new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: rotating.Arn! }],
      }))).Events ?? [];
      assert.equal(events.filter((e) => e.EventName === 'RotateKey' && JSON.parse(e.CloudTrailEvent!).eventType === 'AwsServiceEvent').length, 1);
    }
  });

  it('trail delivery puts every record in one log file; the delivering node killed, the other delivers within seconds, still once', async () => {
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const s3 = a.clients.s3();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: TRAIL_POLICY }));
    await a.clients.cloudtrail().send(new CreateTrailCommand({ Name: 'once', S3BucketName: BUCKET }));
    await a.clients.cloudtrail().send(new StartLoggingCommand({ Name: 'once' }));

    /** Every log file version in the bucket, and the eventIDs of the records in each. */
    const delivered = async (through: NodeClients) => {
      const s3c = through.s3();
      const versions = [];
      let marker: { KeyMarker?: string; VersionIdMarker?: string } = {};
      for (;;) {
        const page = await s3c.send(new ListObjectVersionsCommand({ Bucket: BUCKET, ...marker }));
        versions.push(...(page.Versions ?? []));
        if (!page.IsTruncated) break;
        marker = { KeyMarker: page.NextKeyMarker!, VersionIdMarker: page.NextVersionIdMarker! };
      }
      const logs = versions.filter((v) => /_CloudTrail_[^/]+\.json\.gz$/.test(v.Key!));
      const files = await Promise.all(logs.map(async (v) => {
        const body = await (await s3c.send(new GetObjectCommand({ Bucket: BUCKET, Key: v.Key!, VersionId: v.VersionId! }))).Body!.transformToByteArray();
        const records = JSON.parse(gunzipSync(Buffer.from(body)).toString('utf8')).Records as { eventID: string; eventName: string; requestParameters?: { userName?: string } }[];
        return { key: v.Key!, records };
      }));
      return files;
    };
    const users = (files: Awaited<ReturnType<typeof delivered>>) =>
      new Set(files.flatMap((f) => f.records.filter((r) => r.eventName === 'CreateUser').map((r) => r.requestParameters!.userName!)));
    const assertOnce = (files: Awaited<ReturnType<typeof delivered>>) => {
      const keys = files.map((f) => f.key);
      assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), [], 'no log file written twice');
      const ids = files.flatMap((f) => f.records.map((r) => r.eventID));
      assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], `no record in two log files (${files.length} files)`);
    };

    for (let i = 0; i < 12; i++) await (i % 2 ? b : a).clients.iam().send(new CreateUserCommand({ UserName: `before-${i}` }));
    await until('the users made on both nodes in the log files', async () => users(await delivered(b.clients)).size === 12, 15_000);
    await sleep(5 * TRAIL_INTERVAL_S * 1000);
    assertOnce(await delivered(b.clients));

    // The node holding the delivery lease dies; the other takes it over at its next renewal (its holder is a process
    // of this host that no longer runs: src/core/leases/claim.ts), where a node elsewhere would wait out the 10 s.
    const lease = await db.query<{ holder: string }>(`SELECT holder FROM leases WHERE name = 'trail-delivery'`);
    const holderPid = Number(/^\d+/.exec(lease.rows[0]!.holder)?.[0]);
    const [holder, survivor] = a.proc.child.pid === holderPid ? [a, b] : [b, a];
    assert.equal(holder.proc.child.pid, holderPid, `the lease holder ${lease.rows[0]!.holder} is one of the nodes`);
    holder.proc.child.kill('SIGKILL');
    for (let i = 0; i < 6; i++) await survivor.clients.iam().send(new CreateUserCommand({ UserName: `after-${i}` }));
    const killedAt = performance.now();
    await until('the survivor to deliver', async () => users(await delivered(survivor.clients)).size === 18, 30_000);
    const takeover = Math.round(performance.now() - killedAt);
    console.log(`trail delivery moved to the surviving node: delivered ${takeover} ms after the holder was killed`);
    await sleep(5 * TRAIL_INTERVAL_S * 1000);
    assertOnce(await delivered(survivor.clients));
  });
});

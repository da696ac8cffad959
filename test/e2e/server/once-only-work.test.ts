// Work that must happen once (issue 10): two servers on one data dir stand for two nodes on one database; the
// key lifecycle sweep runs on the holder of its lease only, and moves to the other server when the holder stops.
import { CloudTrailClient, CreateTrailCommand, LookupEventsCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateUserCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, ListObjectVersionsCommand, PutBucketPolicyCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Clients } from '../../helpers/query-clients.js';
import {
  CreateKeyCommand, DescribeKeyCommand, EnableKeyRotationCommand, EncryptCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, ListAliasesCommand,
  ListKeysCommand, ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { AuditSink } from '../../../src/core/audit/audit-log.js';
import { InProcessInvalidation } from '../../../src/core/cache/invalidation.js';
import { DAY_MS, ManualClock } from '../../../src/core/clock.js';
import { TEST_CREDENTIALS, TEST_REGION, TestServer, TestServerOptions, rejection, startServer } from '../../helpers/server.js';

const SWEEP_INTERVAL_MS = 50;
const LEASE_TTL_MS = 600;
const TRAIL_INTERVAL_MS = 100;
const BUCKET = 'trail-bucket';
const TRAIL_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${BUCKET}` },
    { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
  ],
});

/** The `eventName` (DeleteKey, RotateKey) AwsServiceEvent records of `keyArn`, as LookupEvents shows them. */
async function serviceEvents(server: TestServer, eventName: string, keyArn: string): Promise<unknown[]> {
  const t = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  try {
    const events = (await t.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: keyArn }] }))).Events ?? [];
    return events.filter((e) => e.EventName === eventName).map((e) => JSON.parse(e.CloudTrailEvent!)).filter((r) => r.eventType === 'AwsServiceEvent');
  } finally {
    t.destroy();
  }
}

/** The DeleteKey AwsServiceEvent records of `keyArn`. */
const deleteKeyRecords = (server: TestServer, keyArn: string) => serviceEvents(server, 'DeleteKey', keyArn);
/** The RotateKey AwsServiceEvent records of `keyArn`. */
const rotateKeyRecords = (server: TestServer, keyArn: string) => serviceEvents(server, 'RotateKey', keyArn);

async function until(what: string, done: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await done())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('work that must happen once, on two servers sharing one data dir', () => {
  /**
   * Two servers on one data dir and one domain clock (the leases' clock is real time: moving the domain clock by
   * days must not expire the leases), sweeping every 50 ms. Each commit's durability takes 300 ms while
   * `slow` (a slow disk): a sweep deleting a key then spends 300 ms between re-reading the key and deleting it,
   * so without the lease the other server's sweeps would find the key still due and delete (and record) it too.
   */
  async function twoServers(overrides: Partial<TestServerOptions> = {}) {
    const clock = new ManualClock();
    const state = { slow: false, slowCommits: false };
    const slowSink = (sink: AuditSink): AuditSink => ({
      append: async (build) => {
        if (state.slowCommits) await sleep(200);
        return sink.append(build);
      },
      durable: async () => {
        if (state.slow) await sleep(300);
        await sink.durable?.();
      },
    });
    const port = new InProcessInvalidation();
    const options: TestServerOptions = {
      clock, trails: { logIntervalMs: TRAIL_INTERVAL_MS, digestIntervalMs: 60_000 }, sweepIntervalMs: SWEEP_INTERVAL_MS,
      leases: { ttlMs: LEASE_TTL_MS, clock: new ManualClock() }, auditSink: slowSink, cache: { port }, ...overrides,
    };
    const a = await startServer(options);
    const b = await startServer({ ...options, dataDir: a.dataDir });
    /** Stops A before B's destroy removes the data dir they share (stop is a no-op on a stopped server). */
    const close = async () => {
      await a.stop();
      await b.destroy();
      await a.destroy();
    };
    return { clock, state, a, b, close };
  }

  it('a key whose deletion window ends is deleted once, with one DeleteKey record; stopped, the holder hands the sweep to the other server', async () => {
    const { clock, state, a, b, close } = await twoServers();
    try {
      const kmsB = b.kms();
      const first = (await kmsB.send(new CreateKeyCommand({}))).KeyMetadata!;
      await kmsB.send(new ScheduleKeyDeletionCommand({ KeyId: first.KeyId, PendingWindowInDays: 7 }));
      state.slow = true;
      clock.advance(7 * DAY_MS + 60_000);
      // Nobody reads the key: only the sweeps can delete it. Many sweep intervals pass while it is deleted.
      await until('the sweep to delete the key', async () => (await deleteKeyRecords(b, first.Arn!)).length > 0);
      await sleep(20 * SWEEP_INTERVAL_MS);
      state.slow = false;
      assert.equal((await deleteKeyRecords(a, first.Arn!)).length, 1);
      assert.equal((await rejection(kmsB.send(new DescribeKeyCommand({ KeyId: first.KeyId })))).name, 'NotFoundException');

      // A, the first to start, holds the lease; stopped, it gives the lease up and B sweeps from then on.
      await a.stop();
      const second = (await kmsB.send(new CreateKeyCommand({}))).KeyMetadata!;
      await kmsB.send(new ScheduleKeyDeletionCommand({ KeyId: second.KeyId, PendingWindowInDays: 7 }));
      clock.advance(7 * DAY_MS + 60_000);
      await until('B to take the sweep over', async () => (await deleteKeyRecords(b, second.Arn!)).length > 0, 3 * LEASE_TTL_MS + 2_000);
      assert.equal((await deleteKeyRecords(b, second.Arn!)).length, 1);
    } finally {
      await close();
    }
  });

  it('imported key material whose ValidTo passes is deleted once, with one DeleteExpiredKeyMaterial record; both servers then see the key PendingImport', async () => {
    const { clock, state, a, b, close } = await twoServers();
    try {
      const kmsA = a.kms();
      const key = (await kmsA.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!;
      const p = await kmsA.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
      const publicKey = createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' });
      const EncryptedKeyMaterial = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
      await kmsA.send(new ImportKeyMaterialCommand({
        KeyId: key.KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(clock.now() + DAY_MS),
      }));
      state.slow = true;
      clock.advance(DAY_MS + 60_000);
      // Nobody reads the key: only the sweeps delete the material.
      await until('the sweep to delete the expired material', async () => (await serviceEvents(b, 'DeleteExpiredKeyMaterial', key.Arn!)).length > 0);
      await sleep(20 * SWEEP_INTERVAL_MS);
      state.slow = false;
      assert.equal((await serviceEvents(a, 'DeleteExpiredKeyMaterial', key.Arn!)).length, 1);
      for (const s of [a, b]) assert.equal((await s.kms().send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.KeyState, 'PendingImport');
    } finally {
      await close();
    }
  });

  it('trail delivery writes each log file once: in a versioned bucket no log file has a second version', async () => {
    const { state, a, b, close } = await twoServers();
    const ct = new CloudTrailClient({ endpoint: a.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const clients = [new Clients(a), new Clients(b)];
    try {
      const s3 = a.s3();
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
      await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: TRAIL_POLICY }));
      await ct.send(new CreateTrailCommand({ Name: 'once', S3BucketName: BUCKET }));
      await ct.send(new StartLoggingCommand({ Name: 'once' }));
      // Slow commits: a delivery spends 300 ms per file between reading what is pending and marking it written.
      state.slow = true;
      for (let i = 0; i < 6; i++) await clients[i % 2]!.iam().send(new CreateUserCommand({ UserName: `u${i}` }));
      const versions = async () => (await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET }))).Versions ?? [];
      await until('log files', async () => (await versions()).length >= 3);
      await sleep(10 * TRAIL_INTERVAL_MS);
      state.slow = false;
      const all = await versions();
      const keys = all.map((v) => v.Key!);
      assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), [], `log files written twice among ${keys.length}`);
    } finally {
      ct.destroy();
      for (const c of clients) c.destroy();
      await close();
    }
  });

  it('two servers starting at once on a new data dir both start, and one audit signing key signs every tree head', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'strongroom-test-'));
    const started = await Promise.allSettled([startServer({ dataDir }), startServer({ dataDir })]);
    const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      assert.deepEqual(started.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started')), ['started', 'started']);
      for (const server of servers) await server.kms().send(new CreateKeyCommand({}));
      for (const server of servers) await server.stop();
      const res = spawnSync(process.execPath, ['bin/strongroom.js', 'audit', 'verify', '--data-dir', dataDir], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
      assert.match(res.stdout, /signed tree heads: \d+ valid; the newest, #\d+, covers every record/);
    } finally {
      for (const server of servers) await server.destroy();
    }
  });

  it('a key found due by reads on both servers at once is deleted once (one DeleteKey record) and is gone for every caller', async () => {
    const { clock, state, a, b, close } = await twoServers({ sweepIntervalMs: 3_600_000 });
    try {
      const [kmsA, kmsB] = [a.kms(), b.kms()];
      const key = (await kmsA.send(new CreateKeyCommand({}))).KeyMetadata!;
      await kmsA.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
      state.slow = true;
      clock.advance(7 * DAY_MS + 60_000);
      const answers = await Promise.all([kmsA, kmsB, kmsA, kmsB].map(async (kms) => (await rejection(kms.send(new DescribeKeyCommand({ KeyId: key.KeyId })))).name));
      state.slow = false;
      assert.deepEqual(answers, ['NotFoundException', 'NotFoundException', 'NotFoundException', 'NotFoundException']);
      await until('the DeleteKey record', async () => (await deleteKeyRecords(a, key.Arn!)).length > 0);
      await sleep(500);
      assert.equal((await deleteKeyRecords(b, key.Arn!)).length, 1);
    } finally {
      await close();
    }
  });

  it('a key found due for rotation by calls on both servers at once is rotated once (one RotateKey record)', async () => {
    const { clock, state, a, b, close } = await twoServers({ sweepIntervalMs: 3_600_000 });
    try {
      const [kmsA, kmsB] = [a.kms(), b.kms()];
      const key = (await kmsA.send(new CreateKeyCommand({}))).KeyMetadata!;
      await kmsA.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
      state.slow = true;
      clock.advance(91 * DAY_MS);
      await Promise.all([kmsA, kmsB, kmsA, kmsB].map((kms) => kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }))));
      state.slow = false;
      await until('the RotateKey record', async () => (await rotateKeyRecords(a, key.Arn!)).length > 0);
      await sleep(500);
      assert.equal((await rotateKeyRecords(b, key.Arn!)).length, 1);
    } finally {
      await close();
    }
  });

  it('the AWS managed key aws/s3, first needed by both servers at once, is made once: every upload succeeds under it', async () => {
    const { state, a, b, close } = await twoServers({ sweepIntervalMs: 3_600_000 });
    try {
      const [s3A, s3B] = [a.s3(), b.s3()];
      await s3A.send(new CreateBucketCommand({ Bucket: 'managed' }));
      // Slow commits widen the window in which each server has made a key (its CreateKey record committing)
      // but not yet its alias.
      state.slowCommits = true;
      const puts = await Promise.all(
        [s3A, s3B, s3A, s3B].map((s3, i) => s3.send(new PutObjectCommand({ Bucket: 'managed', Key: `o${i}`, Body: `body ${i}`, ServerSideEncryption: 'aws:kms' }))),
      );
      state.slowCommits = false;
      const keyIds = new Set(puts.map((p) => p.SSEKMSKeyId));
      assert.equal(keyIds.size, 1, `one key for every upload, got ${[...keyIds].join(', ')}`);
      const keys = (await a.kms().send(new ListKeysCommand({}))).Keys ?? [];
      assert.deepEqual(keys.map((k) => k.KeyArn), [...keyIds], 'no second, unaliased AWS managed key');
      const aliases = (await b.kms().send(new ListAliasesCommand({}))).Aliases ?? [];
      assert.equal(aliases.find((x) => x.AliasName === 'alias/aws/s3')?.TargetKeyId, keys[0]!.KeyId);
    } finally {
      await close();
    }
  });
});

// Any process serves what any other stored, and a process killed with SIGKILL in the middle of a burst of
// writes loses nothing it acknowledged (issue 10): two `strongroom serve` nodes on one PostgreSQL database, and
// one serve with `--workers 2` on one SQLite data dir (one worker killed). Every write A answered with a 2xx is
// there through B, every acknowledged call's audit record is in the log (found by its request id), and the log
// still verifies (`strongroom audit verify`; on PostgreSQL also checked here: gap-free, every chain hash, the
// newest signed tree head).
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { SQLITE_FILE } from '../../../src/store/metadata/sqlite/database.js';
import { AuditRows, assertAuditLogVerifies } from '../../helpers/audit-chain.js';
import { NODE_ROOT_ENV, NodeClients, until } from '../../helpers/nodes.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { ServeProcess, killAll, spawnServe } from '../../helpers/process.js';

const BUCKET = 'crash';
const BURST = 200;
/** SIGKILL once this many of the burst's calls were answered: the rest are in flight or not sent yet. */
const KILL_AFTER_ACKS = 25;
/** How long the burst may take, kill included: a call still unsettled then hangs. */
const BURST_SETTLE_MS = 20_000;
const BIG = 300 * 1024; // over the 128 KiB that SQLite keeps in the database: the body goes to a file

type Acked =
  | { readonly kind: 'CreateKey'; readonly requestId: string; readonly keyId: string }
  | { readonly kind: 'PutObject'; readonly requestId: string; readonly key: string; readonly body: Buffer; readonly etag: string }
  | { readonly kind: 'Encrypt'; readonly requestId: string; readonly plaintext: Buffer; readonly ciphertext: Uint8Array };

/**
 * Sends BURST calls at once to `a` (a third each CreateKey, PutObject with SSE-KMS, Encrypt), and calls `kill`
 * once KILL_AFTER_ACKS were answered. Resolves to the answered ones, and how many failed.
 */
async function burst(a: NodeClients, keyId: string, kill: () => void): Promise<{ acked: Acked[]; failed: number }> {
  const acked: Acked[] = [];
  let failed = 0;
  let killed = false;
  const kms = a.kms();
  const s3 = a.s3();
  const answered = (x: Acked) => {
    acked.push(x);
    if (!killed && acked.length >= KILL_AFTER_ACKS) {
      killed = true;
      kill();
    }
  };
  let settled = 0;
  const calls = Promise.all(
    Array.from({ length: BURST }, async (_, i) => {
      try {
        if (i % 3 === 0) {
          const r = await kms.send(new CreateKeyCommand({ Description: `burst ${i}` }));
          answered({ kind: 'CreateKey', requestId: r.$metadata.requestId!, keyId: r.KeyMetadata!.KeyId! });
        } else if (i % 3 === 1) {
          const body = randomBytes(1024 + i);
          const key = `burst/${i}`;
          const r = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }));
          answered({ kind: 'PutObject', requestId: r.$metadata.requestId!, key, body, etag: r.ETag! });
        } else {
          const plaintext = randomBytes(32);
          const r = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }));
          answered({ kind: 'Encrypt', requestId: r.$metadata.requestId!, plaintext, ciphertext: r.CiphertextBlob! });
        }
      } catch {
        failed++;
      } finally {
        settled++;
      }
    }),
  );
  // Every call is answered or fails (connection reset) soon after the kill: none may hang (the SDK has no timeout).
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${BURST - settled} of ${BURST} calls neither answered nor failed ${BURST_SETTLE_MS} ms after the burst began`)), BURST_SETTLE_MS);
  });
  try {
    await Promise.race([calls, hung]);
  } finally {
    clearTimeout(timer);
  }
  if (!killed) kill();
  return { acked, failed };
}

/** Asserts that every acknowledged write is there, read through `b`. */
async function assertAckedWritesThere(b: NodeClients, acked: readonly Acked[]): Promise<void> {
  const kms = b.kms();
  const s3 = b.s3();
  for (const x of acked) {
    if (x.kind === 'CreateKey') {
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: x.keyId }))).KeyMetadata!.KeyState, 'Enabled', `acknowledged key ${x.keyId}`);
    } else if (x.kind === 'PutObject') {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: x.key }));
      assert.equal(got.ETag, x.etag, x.key);
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(x.body), `acknowledged object ${x.key}`);
    } else {
      const opened = await kms.send(new DecryptCommand({ CiphertextBlob: x.ciphertext }));
      assert.ok(Buffer.from(opened.Plaintext!).equals(x.plaintext), 'an acknowledged ciphertext decrypts');
    }
  }
}

/** PUT a `BIG` SSE-KMS object through `put`, GET it through `get`: the same bytes, the same key. */
async function putThenGet(put: NodeClients, get: NodeClients, keyArn: string, name: string): Promise<void> {
  const body = randomBytes(BIG);
  const stored = await put.s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: name, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
  assert.equal(stored.ServerSideEncryption, 'aws:kms');
  const got = await get.s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: name }));
  assert.equal(got.ServerSideEncryption, 'aws:kms');
  assert.equal(got.SSEKMSKeyId, keyArn);
  assert.equal(got.ContentLength, BIG);
  const bytes = Buffer.from(await got.Body!.transformToByteArray());
  assert.equal(createHash('sha256').update(bytes).digest('hex'), createHash('sha256').update(body).digest('hex'), name);
}

describe('two nodes on one PostgreSQL database: PUT on A, GET on B; A killed mid-burst', { skip: postgresSkip() }, () => {
  let dir: string;
  let databaseUrl: string;
  let a: ServeProcess;
  let b: ServeProcess;
  let onA: NodeClients;
  let onB: NodeClients;
  let keyArn: string;
  let db: pg.Client;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sr-crash-'));
    databaseUrl = await (await postgresCluster()).createDatabase();
    a = await spawnServe(['--database-url', databaseUrl, '--root-of-trust-file', join(dir, 'a.key'), '--data-dir', join(dir, 'a')], NODE_ROOT_ENV);
    copyFileSync(join(dir, 'a.key'), join(dir, 'b.key'));
    b = await spawnServe(['--database-url', databaseUrl, '--root-of-trust-file', join(dir, 'b.key'), '--data-dir', join(dir, 'b')], NODE_ROOT_ENV);
    onA = new NodeClients(a.url);
    onB = new NodeClients(b.url);
    keyArn = (await onA.kms().send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await onA.s3().send(new CreateBucketCommand({ Bucket: BUCKET }));
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
  });

  after(async () => {
    onA?.destroy();
    onB?.destroy();
    await db?.end();
    killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an object PUT on A with SSE-KMS (300 KiB) is read on B, and one PUT on B is read on A', async () => {
    await putThenGet(onA, onB, keyArn, 'a-to-b');
    await putThenGet(onB, onA, keyArn, 'b-to-a');
  });

  it('A killed with SIGKILL during 200 concurrent writes: B keeps serving, every write A acknowledged and its audit record are there, the log verifies', async () => {
    const { acked, failed } = await burst(onA, keyArn, () => a.child.kill('SIGKILL'));
    assert.ok(acked.length >= KILL_AFTER_ACKS && failed > 0, `the kill cut the burst (${acked.length} answered, ${failed} failed)`);
    await until('A to be gone', async () => a.child.exitCode !== null || a.child.signalCode !== null);

    // B serves at once: a new key, an object and a ciphertext of it.
    const fresh = (await onB.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    await onB.s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'after', Body: 'after', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: fresh.Arn }));
    await assertAckedWritesThere(onB, acked);

    const ids = acked.map((x) => x.requestId);
    const found = await db.query<{ id: string }>(`SELECT record::jsonb ->> 'requestID' AS id FROM audit_events WHERE record::jsonb ->> 'requestID' = ANY($1)`, [ids]);
    const recorded = new Set(found.rows.map((r) => r.id));
    assert.deepEqual(ids.filter((id) => !recorded.has(id)), [], 'every acknowledged call has its audit record');

    const events = await db.query<{ seq: string; hash: string; record: string }>('SELECT seq, hash, record FROM audit_events ORDER BY seq');
    const head = await db.query<{ tree_size: string; root_hash: Buffer; timestamp: string; key_id: string; signature: Buffer }>(
      'SELECT tree_size, root_hash, timestamp, key_id, signature FROM audit_tree_heads ORDER BY id DESC LIMIT 1',
    );
    const key = await db.query<{ public_key: Buffer }>('SELECT public_key FROM audit_tree_key WHERE id = 1');
    const h = head.rows[0];
    const rows: AuditRows = {
      events: events.rows.map((e) => ({ seq: Number(e.seq), hash: e.hash, record: e.record })),
      newestHead: h && { treeSize: Number(h.tree_size), rootHash: h.root_hash, timestamp: Number(h.timestamp), keyId: h.key_id, signature: h.signature },
      publicKey: key.rows[0]!.public_key,
    };
    // B's last call was committed with a tree head: the newest head covers every record.
    assert.equal(assertAuditLogVerifies(rows), rows.events.length);
    const res = spawnSync(process.execPath, ['bin/strongroom.js', 'audit', 'verify', '--database-url', databaseUrl], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
    assert.match(res.stdout, /signed tree heads: \d+ valid; the newest, #\d+, covers every record/);
  });
});

describe('--workers 2 on one SQLite data dir: PUT and GET on either worker; one worker killed mid-burst', () => {
  let dir: string;
  let server: ServeProcess;
  let clients: NodeClients;
  let keyArn: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sr-crash-'));
    server = await spawnServe(['--data-dir', join(dir, 'data')], { ...NODE_ROOT_ENV, STRONGROOM_WORKERS: '2' });
    clients = new NodeClients(server.url);
    keyArn = (await clients.kms().send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await clients.s3().send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(() => {
    clients?.destroy();
    killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('300 KiB SSE-KMS objects PUT on one connection are read on the next (round-robin: the other worker)', async () => {
    for (let i = 0; i < 4; i++) await putThenGet(clients, clients, keyArn, `big-${i}`);
  });

  it('a worker killed with SIGKILL during 200 concurrent writes: the other keeps serving, every acknowledged write and audit record is there, audit verify passes', async () => {
    const workers = execFileSync('ps', ['-o', 'pid=', '--ppid', String(server.child.pid)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((p) => p > 0);
    assert.equal(workers.length, 2, `two worker processes: ${workers.join(', ')}`);
    const victim = workers[0]!;
    const { acked, failed } = await burst(clients, keyArn, () => process.kill(victim, 'SIGKILL'));
    assert.ok(acked.length >= KILL_AFTER_ACKS && failed > 0, `the kill cut the burst (${acked.length} answered, ${failed} failed)`);
    await assertAckedWritesThere(clients, acked);
    assert.equal(await server.terminate(), 0);

    const database = new Database(join(dir, 'data', SQLITE_FILE), { readonly: true });
    try {
      const ids = acked.map((x) => x.requestId);
      const recorded = new Set(
        (database.prepare(`SELECT json_extract(record, '$.requestID') AS id FROM audit_events`).all() as { id: string }[]).map((r) => r.id),
      );
      assert.deepEqual(ids.filter((id) => !recorded.has(id)), [], 'every acknowledged call has its audit record');
    } finally {
      database.close();
    }
    const res = spawnSync(process.execPath, ['bin/strongroom.js', 'audit', 'verify', '--data-dir', join(dir, 'data')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
    assert.match(res.stdout, /signed tree heads: \d+ valid; the newest, #\d+, covers every record/);
  });
});

// Tamper evidence and crash durability of the audit log: `strongroom audit verify` recomputes the hash chain
// offline and names the first bad sequence number after a record is edited, removed, reordered or the tail
// truncated (each edit made with better-sqlite3 directly, on a copy of the data dir). A `strongroom serve`
// process killed with SIGKILL right after N acknowledged calls has all N records after restart, and the aws CLI
// v2 finds them with `cloudtrail lookup-events`.
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SQLITE_FILE } from '../../../src/store/metadata/sqlite/database.js';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { killAll, spawnServe } from '../../helpers/process.js';
import { TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

function verify(dataDir: string): { code: number; out: string } {
  const res = spawnSync(process.execPath, ['bin/strongroom.js', 'audit', 'verify', '--data-dir', dataDir], { encoding: 'utf8', timeout: 30_000 });
  return { code: res.status ?? -1, out: `${res.stdout}${res.stderr}` };
}

describe('strongroom audit verify', () => {
  let server: TestServer;
  const copies: string[] = [];
  let records = 0;

  /** A copy of the stopped server's database, changed by `tamper`. */
  const tampered = (tamper: (db: Database.Database) => void): string => {
    const dir = mkdtempSync(join(tmpdir(), 'strongroom-audit-'));
    copies.push(dir);
    copyFileSync(join(server.dataDir, SQLITE_FILE), join(dir, SQLITE_FILE));
    const db = new Database(join(dir, SQLITE_FILE));
    try {
      tamper(db);
    } finally {
      db.close();
    }
    return dir;
  };

  before(async () => {
    server = await startServer();
    const kms = server.kms();
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    for (let i = 0; i < 5; i++) await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId!, Plaintext: Buffer.from(`p${i}`) }));
    await server.stop();
    const db = new Database(join(server.dataDir, SQLITE_FILE), { readonly: true });
    records = (db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    db.close();
  });
  after(async () => {
    await server.destroy();
    for (const d of copies) rmSync(d, { recursive: true, force: true });
  });

  it('passes on the log as the server wrote it', () => {
    assert.equal(records, 6);
    const res = verify(server.dataDir);
    assert.equal(res.code, 0, res.out);
    assert.match(res.out, /verified: 6 records, head 6 [0-9a-f]{64}/);
  });

  it('an edited record: exits 1 naming it', () => {
    const dir = tampered((db) => db.prepare("UPDATE audit_events SET record = replace(record, '\"Encrypt\"', '\"ListKeys\"') WHERE seq = 3").run());
    const res = verify(dir);
    assert.equal(res.code, 1);
    assert.match(res.out, /INVALID at sequence number 3:/);
  });

  it('an edited record whose hash was recomputed: the next record breaks the chain', () => {
    const dir = tampered((db) => db.prepare("UPDATE audit_events SET record = record || ' ', hash = '00' || substr(hash, 3) WHERE seq = 4").run());
    const res = verify(dir);
    assert.equal(res.code, 1);
    assert.match(res.out, /INVALID at sequence number 4:/);
  });

  it('a removed record: exits 1 naming the missing sequence number', () => {
    const dir = tampered((db) => {
      db.prepare('DELETE FROM audit_resources WHERE seq = 2').run();
      db.prepare('DELETE FROM audit_events WHERE seq = 2').run();
    });
    const res = verify(dir);
    assert.equal(res.code, 1);
    assert.match(res.out, /INVALID at sequence number 2: record 2 is missing/);
  });

  it('reordered records: exits 1 at the first swapped one', () => {
    const dir = tampered((db) => {
      const [a, b] = db.prepare('SELECT record, hash FROM audit_events WHERE seq IN (2, 3) ORDER BY seq').all() as { record: string; hash: string }[];
      db.prepare('UPDATE audit_events SET record = ?, hash = ? WHERE seq = 2').run(b!.record, b!.hash);
      db.prepare('UPDATE audit_events SET record = ?, hash = ? WHERE seq = 3').run(a!.record, a!.hash);
    });
    const res = verify(dir);
    assert.equal(res.code, 1);
    assert.match(res.out, /INVALID at sequence number 2:/);
  });

  it('a truncated tail: the checkpoint names the first missing record', () => {
    const dir = tampered((db) => {
      db.prepare('DELETE FROM audit_resources WHERE seq >= 5').run();
      db.prepare('DELETE FROM audit_events WHERE seq >= 5').run();
    });
    const res = verify(dir);
    assert.equal(res.code, 1);
    assert.match(res.out, /INVALID at sequence number 5: the log ends at record 4 but the checkpoint names record 6 \(truncated\)/);
  });
});

describe('audit records survive SIGKILL', () => {
  const CLI = '/usr/bin/aws';
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'strongroom-crash-'));
  });
  after(() => {
    killAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every acknowledged call of a killed server is recorded after restart; aws cloudtrail lookup-events finds them', async (t) => {
    const env = { STRONGROOM_ROOT_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, STRONGROOM_ROOT_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey };
    const first = await spawnServe(['--data-dir', dataDir], env);
    const kms = new KMSClient({ endpoint: first.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const N = 40;
    const acknowledged: string[] = [];
    try {
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId!, Plaintext: Buffer.from('crash') }));
      await Promise.all(
        Array.from({ length: N }, async () => {
          const out = await kms.send(new DecryptCommand({ CiphertextBlob }));
          acknowledged.push(out.$metadata.requestId!);
        }),
      );
    } finally {
      kms.destroy();
    }
    const exited = once(first.child, 'exit');
    first.child.kill('SIGKILL');
    await exited;
    assert.equal(acknowledged.length, N);

    const res = verify(dataDir);
    assert.equal(res.code, 0, res.out);

    const second = await spawnServe(['--data-dir', dataDir], env);
    try {
      const probe = spawnSync(CLI, ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
      if (probe.status !== 0 || !/^aws-cli\/2\./.test(`${probe.stdout}${probe.stderr}`)) {
        if (process.env.CI) assert.fail(`${CLI} is not the aws CLI v2`);
        t.skip(`${CLI} is not the aws CLI v2`);
        return;
      }
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(
          CLI,
          ['cloudtrail', 'lookup-events', '--lookup-attributes', 'AttributeKey=EventName,AttributeValue=Decrypt', '--endpoint-url', second.url, '--output', 'json'],
          { env: awsClientEnv(), timeout: 60_000, encoding: 'utf8' },
          (err, out, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(out)),
        ),
      );
      const events = (JSON.parse(stdout) as { Events: { EventName: string; CloudTrailEvent: string; Username: string }[] }).Events;
      assert.equal(events.length, N);
      assert.ok(events.every((e) => e.EventName === 'Decrypt' && e.Username === 'root'));
      const ids = events.map((e) => (JSON.parse(e.CloudTrailEvent) as { requestID: string }).requestID).sort();
      assert.deepEqual(ids, [...acknowledged].sort());
    } finally {
      await second.terminate();
    }
  });
});

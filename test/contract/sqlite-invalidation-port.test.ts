import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TOPICS } from '../../src/core/cache/invalidation.js';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { SqliteInvalidationOptions, SqliteInvalidationPort } from '../../src/store/metadata/sqlite/invalidation-port.js';
import { listen, until } from './invalidation-listening.js';

const CHILD = fileURLToPath(new URL('./sqlite-invalidation-child.js', import.meta.url));

/**
 * Cache invalidation between processes on one SQLite data dir (issue 10, `--workers N` on SQLite). Two
 * SqliteDatabase instances on one file are two connections, as two processes have: SQLite tells them apart
 * the same way (data_version, WAL snapshots).
 */
describe('SQLite invalidation port (polled table)', () => {
  const closing: (() => void)[] = [];
  after(() => {
    for (const c of closing.reverse()) c();
  });

  function file(): string {
    return join(mkdtempSync(join(tmpdir(), 'sr-inval-')), 'strongroom.db');
  }
  function node(path: string, options: SqliteInvalidationOptions = {}): { db: SqliteDatabase; port: SqliteInvalidationPort } {
    const db = new SqliteDatabase(path);
    const port = new SqliteInvalidationPort(db, options);
    closing.push(() => db.close(), () => port.close());
    return { db, port };
  }
  const count = (db: SqliteDatabase) => (db.stmt('SELECT COUNT(*) AS n FROM invalidations').get() as { n: number }).n;

  it('a publication in one process reaches the subscribers of its topic in another within one second, its own before publish resolves, once each', async (t) => {
    const path = file();
    const a = node(path);
    const b = node(path);
    const aKeys = listen(a.port, TOPICS.kmsKeys);
    const bKeys = listen(b.port, TOPICS.kmsKeys);
    const bGrants = listen(b.port, TOPICS.kmsGrants);

    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await a.port.publish(TOPICS.kmsKeys, `key-${i}`);
      assert.equal(aKeys.length, i + 1, 'own subscribers told before publish resolves');
      assert.ok(await until(() => bKeys.length === i + 1, 1000), `publication ${i} reached B within 1 s`);
      latencies.push(bKeys[i]!.at - t0);
    }
    await b.port.publish(TOPICS.kmsKeys);
    assert.ok(await until(() => aKeys.length === 11, 1000));
    assert.equal(aKeys[10]!.key, undefined, 'a whole-topic publication arrives as one');

    await new Promise((r) => setTimeout(r, 400)); // several polls: nothing delivered twice
    assert.deepEqual(bKeys.map((h) => h.key), [...Array.from({ length: 10 }, (_, i) => `key-${i}`), undefined]);
    assert.equal(aKeys.length, 11);
    assert.equal(bGrants.length, 0, 'other topics untouched');
    latencies.sort((x, y) => x - y);
    t.diagnostic(`publish → other process's handler: median ${latencies[5]!.toFixed(1)} ms, max ${latencies[9]!.toFixed(1)} ms (10 publications, 150 ms polls)`);
  });

  it('two processes on one file: each one\'s publication reaches the other within one second', async () => {
    const path = file();
    const a = node(path);
    const heard = listen(a.port, TOPICS.kmsKeys);
    const child = spawn(process.execPath, [CHILD, path], { stdio: ['pipe', 'pipe', 'inherit'] });
    closing.push(() => child.kill());
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
    assert.ok(await until(() => lines.includes('ready'), 10_000), 'child ready');

    await a.port.publish(TOPICS.kmsKeys, 'from-parent');
    assert.ok(await until(() => lines.includes('heard from-parent'), 1000), 'the child heard the parent within 1 s');
    child.stdin.write('publish from-child\n');
    assert.ok(await until(() => heard.some((h) => h.key === 'from-child'), 1000), 'the parent heard the child within 1 s');
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    assert.deepEqual(lines, ['ready', 'heard from-parent', 'heard from-child']);
    assert.deepEqual(heard.map((h) => h.key), ['from-parent', 'from-child']);
  });

  it('a port started after rows exist does not replay them', async () => {
    const path = file();
    const a = node(path);
    await a.port.publish(TOPICS.credentials, 'AKIAOLD');
    await a.port.publish(TOPICS.credentials);
    const late = node(path);
    const heard = listen(late.port, TOPICS.credentials);
    await a.port.publish(TOPICS.credentials, 'AKIANEW');
    assert.ok(await until(() => heard.length > 0, 1000));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(heard.map((h) => h.key), ['AKIANEW']);
  });

  it('publishers prune rows older than the retention; a reader that missed pruned rows invalidates every topic', async () => {
    const path = file();
    let now = 1_000_000_000_000;
    const clock = { now: () => now, pollMs: 60_000 }; // polled by hand below
    const a = node(path, clock);
    const b = node(path, clock);
    const keys = listen(b.port, TOPICS.kmsKeys);
    const buckets = listen(b.port, TOPICS.s3Buckets);
    for (let i = 0; i < 5; i++) await a.port.publish(TOPICS.kmsKeys, `old-${i}`);
    assert.equal(count(a.db), 5);

    now += 61_000; // past the minute: the next publication prunes them
    await a.port.publish(TOPICS.kmsKeys, 'new');
    assert.equal(count(a.db), 1, 'rows older than a minute pruned');

    // B never read the pruned rows: it cannot know what they named, so it drops everything.
    b.port.poll();
    assert.deepEqual(keys.map((h) => h.key), [undefined, 'new']);
    assert.deepEqual(buckets.map((h) => h.key), [undefined]);

    // Up to date again: the next row is delivered alone.
    await a.port.publish(TOPICS.s3Buckets, 'b1');
    b.port.poll();
    assert.deepEqual(buckets.map((h) => h.key), [undefined, 'b1']);
    assert.equal(keys.length, 2);
  });

  it('a publisher that prunes its own rows does not take that for missed rows', async () => {
    const path = file();
    let now = 1_000_000_000_000;
    const clock = { now: () => now, pollMs: 60_000 };
    const a = node(path, clock);
    const b = node(path, clock);
    const aBuckets = listen(a.port, TOPICS.s3Buckets);
    await a.port.publish(TOPICS.kmsKeys, 'k1');
    now += 61_000;
    await a.port.publish(TOPICS.kmsKeys, 'k2'); // prunes k1's row, which A itself wrote
    await b.port.publish(TOPICS.s3Buckets, 'b1');
    a.port.poll();
    assert.deepEqual(aBuckets.map((h) => h.key), ['b1']);
  });

  it('sync delivers at once, every time, what another connection committed before it (no timer poll needed)', async () => {
    const path = file();
    const a = node(path, { pollMs: 60_000 });
    const b = node(path, { pollMs: 60_000 });
    const heard = listen(b.port, TOPICS.kmsKeys);
    for (let i = 0; i < 5; i++) {
      await a.port.publish(TOPICS.kmsKeys, `key-${i}`);
      b.port.sync();
      assert.deepEqual(heard.map((h) => h.key), Array.from({ length: i + 1 }, (_, j) => `key-${j}`), `publication ${i} delivered by sync`);
      b.port.sync(); // nothing new: nothing delivered twice
      assert.equal(heard.length, i + 1);
    }
  });

  it('a poll with nothing new from others reads no rows', async () => {
    const path = file();
    const a = node(path, { pollMs: 60_000 });
    const heard = listen(a.port, TOPICS.kmsKeys);
    await a.port.publish(TOPICS.kmsKeys, 'own');
    // Rows appear behind the port's back through its own connection (data_version unchanged): not read.
    a.db.stmt("INSERT INTO invalidations (topic, key, origin, at) VALUES ('kms.keys', 'sneaked', 'x', 0)").run();
    a.port.poll();
    assert.deepEqual(heard.map((h) => h.key), ['own']);
  });

  it('a poll that cannot read the table invalidates every topic, with one warning', async () => {
    const path = file();
    const a = node(path);
    const warns: string[] = [];
    const b = node(path, { pollMs: 60_000, log: { warn: (_o, m) => warns.push(m), info: () => undefined } });
    const heard = listen(b.port, TOPICS.kmsKeys);
    a.db.db.exec('DROP TABLE invalidations');
    b.port.poll();
    b.port.poll();
    assert.deepEqual(heard.map((h) => h.key), [undefined, undefined]);
    assert.equal(warns.length, 1);
  });

  it('publish never rejects when the database refuses the write', async () => {
    const path = file();
    const a = node(path, { pollMs: 60_000 });
    const heard = listen(a.port, TOPICS.kmsKeys);
    a.db.db.exec('DROP TABLE invalidations');
    await a.port.publish(TOPICS.kmsKeys, 'k');
    assert.deepEqual(heard.map((h) => h.key), ['k']);
  });
});

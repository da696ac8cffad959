import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { TOPICS } from '../../src/core/cache/invalidation.js';
import { InvalidationLog } from '../../src/core/cache/shared-invalidation.js';
import { PostgresDatabase, Queryable } from '../../src/store/metadata/postgres/database.js';
import { MAX_PAYLOAD_BYTES, PostgresInvalidationPort } from '../../src/store/metadata/postgres/invalidation-port.js';
import { postgresCluster, postgresSkip } from '../helpers/postgres.js';
import { listen, until } from './invalidation-listening.js';

function recordingLog(): InvalidationLog & { warns: string[]; infos: string[] } {
  const warns: string[] = [];
  const infos: string[] = [];
  return { warns, infos, warn: (_o, m) => warns.push(m), info: (_o, m) => infos.push(m) };
}

/**
 * Cache invalidation across nodes of one PostgreSQL database (issue 10: "Any change made on one node … is
 * enforced by every node within one second"): LISTEN/NOTIFY against a real cluster, two nodes being two
 * PostgresDatabase pools and two ports.
 */
describe('PostgreSQL invalidation port (LISTEN/NOTIFY)', { skip: postgresSkip() }, () => {
  const closing: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const c of closing.reverse()) await c.close().catch(() => undefined);
  });

  async function node(url: string, log?: InvalidationLog): Promise<{ db: PostgresDatabase; port: PostgresInvalidationPort }> {
    const db = await PostgresDatabase.open(url);
    closing.push(db);
    const port = await PostgresInvalidationPort.start(url, db, { log, reconnectMinMs: 50 });
    closing.push(port);
    return { db, port };
  }

  it('a publication on one node reaches the subscribers of its topic on another node within one second, its own node\'s before publish resolves, once each', async (t) => {
    const url = await (await postgresCluster()).createDatabase();
    const a = await node(url);
    const b = await node(url);
    const aKeys = listen(a.port, TOPICS.kmsKeys);
    const bKeys = listen(b.port, TOPICS.kmsKeys);
    const bBuckets = listen(b.port, TOPICS.s3Buckets);

    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await a.port.publish(TOPICS.kmsKeys, `key-${i}`);
      assert.equal(aKeys.length, i + 1, 'own subscribers told before publish resolves');
      assert.ok(await until(() => bKeys.length === i + 1, 1000), `publication ${i} reached node B within 1 s`);
      latencies.push(bKeys[i]!.at - t0);
    }
    assert.deepEqual(bKeys.map((h) => h.key), Array.from({ length: 20 }, (_, i) => `key-${i}`));
    // The other way, and a whole-topic publication (no key).
    await b.port.publish(TOPICS.kmsKeys);
    assert.ok(await until(() => aKeys.length === 21, 1000));
    assert.equal(aKeys[20]!.key, undefined);

    await new Promise((r) => setTimeout(r, 200)); // time for any duplicate (own echo) to arrive
    assert.equal(aKeys.length, 21, 'node A heard its own publications once, not again through NOTIFY');
    assert.equal(bKeys.length, 21);
    assert.equal(bBuckets.length, 0, 'other topics untouched');
    latencies.sort((x, y) => x - y);
    t.diagnostic(`publish → other node's handler: median ${latencies[10]!.toFixed(1)} ms, max ${latencies[19]!.toFixed(1)} ms (20 publications)`);
  });

  it('a key too long for a NOTIFY payload invalidates its whole topic on other nodes (its own node gets the key)', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const a = await node(url);
    const b = await node(url);
    const aHeard = listen(a.port, TOPICS.s3Buckets);
    const bHeard = listen(b.port, TOPICS.s3Buckets);
    const long = 'é'.repeat(MAX_PAYLOAD_BYTES / 2); // fits in characters, not in bytes
    await a.port.publish(TOPICS.s3Buckets, long);
    await a.port.publish(TOPICS.s3Buckets, 'after');
    assert.ok(await until(() => bHeard.length === 2, 1000));
    assert.deepEqual(bHeard.map((h) => h.key), [undefined, 'after']);
    assert.deepEqual(aHeard.map((h) => h.key), [long, 'after']);
  });

  it('a killed LISTEN connection is reconnected: every subscribed topic is invalidated, one warning, and later publications arrive again', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const a = await node(url);
    const log = recordingLog();
    const b = await node(url, log);
    const keys = listen(b.port, TOPICS.kmsKeys);
    const creds = listen(b.port, TOPICS.credentials);
    const pid = b.port.listenerPid;
    assert.ok(pid);

    const { rows } = await a.db.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid]);
    assert.equal(rows[0]!.ok, true);
    // Published while B is not listening: lost to B, which must therefore drop everything on reconnect.
    await a.port.publish(TOPICS.kmsKeys, 'missed');

    assert.ok(await until(() => b.port.listenerPid !== undefined && b.port.listenerPid !== pid, 5000), 'reconnected');
    // Once when the connection was lost, once when it was back (the reconnected listener delivers it in the
    // same turn as it becomes the listener); both topics, whole.
    assert.deepEqual(creds.map((h) => h.key), [undefined, undefined], 'credential topic invalidated whole, on loss and on reconnect');
    // (The old backend may still have delivered 'missed' before it exited: only the whole-topic ones count.)
    assert.equal(keys.filter((h) => h.key === undefined).length, 2, 'key topic too (the missed publication is covered)');
    assert.equal(log.warns.length, 1, 'one warning for the outage');
    assert.equal(log.infos.length, 1, 'one line when it ends');

    const before = keys.length;
    await a.port.publish(TOPICS.kmsKeys, 'later');
    assert.ok(await until(() => keys.length === before + 1, 1000), 'publications arrive again');
    assert.equal(keys.at(-1)!.key, 'later');
  });

  it('keeps reconnecting while the database refuses, invalidating every topic each second meanwhile, then recovers', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const a = await node(url);
    const log = recordingLog();
    const b = await node(url, log);
    const keys = listen(b.port, TOPICS.kmsKeys);
    // Refuse B's reconnections for a while: the database is closed to new connections.
    const name = new URL(url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).href });
    await admin.connect();
    closing.push({ close: () => admin.end() });
    await a.db.query('SELECT 1'); // A's pool holds a connection (it is opened on first use) to terminate B's with
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    try {
      await a.db.query('SELECT pg_terminate_backend($1)', [b.port.listenerPid]);
      await new Promise((r) => setTimeout(r, 1300)); // several failed attempts (50, 100, 200 … ms)
      assert.equal(b.port.listenerPid, undefined);
      // Deaf to the other nodes: its caches are dropped at once and every second, not kept until their TTL.
      assert.deepEqual(keys.map((h) => h.key), [undefined, undefined]);
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    }
    assert.ok(await until(() => b.port.listenerPid !== undefined, 5000), 'reconnected once allowed');
    assert.ok(await until(() => keys.some((h) => h.key === undefined), 1000));
    assert.equal(log.warns.length, 1, 'still one warning for the whole outage');
    await a.port.publish(TOPICS.kmsKeys, 'later');
    assert.ok(await until(() => keys.at(-1)?.key === 'later', 1000));
  });

  it('publish never rejects when the database cannot be reached: its own subscribers are told, one warning until it works again', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const { db } = await node(url);
    let failing = true;
    const flaky: Queryable = {
      query: (sql, params) => (failing ? Promise.reject(new Error('connection refused')) : db.query(sql, params)) as never,
    };
    const log = recordingLog();
    const port = await PostgresInvalidationPort.start(url, flaky, { log });
    closing.push(port);
    const heard = listen(port, TOPICS.kmsGrants);
    await port.publish(TOPICS.kmsGrants, 'k1');
    await port.publish(TOPICS.kmsGrants, 'k2');
    assert.deepEqual(heard.map((h) => h.key), ['k1', 'k2']);
    assert.equal(log.warns.length, 1);
    failing = false;
    await port.publish(TOPICS.kmsGrants, 'k3');
    assert.equal(log.infos.length, 1);
  });
});

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PostgresDatabase } from '../../src/store/metadata/postgres/database.js';
import { PostgresMetadataStore } from '../../src/store/metadata/postgres/postgres-store.js';
import { postgresCluster, postgresSkip } from '../helpers/postgres.js';

/**
 * A database that goes away and comes back (issue 10: "PostgreSQL down or unreachable: … quickly, nothing
 * hangs … service resumes by itself"). Its own file, so its own cluster: stopping it disturbs no other suite.
 */
describe('PostgreSQL stores when the database goes away', { skip: postgresSkip() }, () => {
  const opened: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const s of opened) await s.close().catch(() => undefined);
  });

  /** Milliseconds until `p` settles, and whether it rejected. */
  async function timed(p: Promise<unknown>): Promise<{ ms: number; rejected: boolean }> {
    const t0 = performance.now();
    const rejected = await p.then(() => false, () => true);
    return { ms: performance.now() - t0, rejected };
  }

  it('opening a database nobody listens on fails at once', async () => {
    const { ms, rejected } = await timed(PostgresDatabase.open('postgres://u:p@127.0.0.1:1/none'));
    assert.ok(rejected);
    assert.ok(ms < 2000, `${ms} ms`);
  });

  it('while the server is down every call fails quickly; once it is back the same store serves again without reopening', async () => {
    const cluster = await postgresCluster();
    const store = await PostgresMetadataStore.open(await cluster.createDatabase());
    opened.push(store);
    await store.initSetting('before', '1');
    // Several pooled connections, all of which the outage breaks.
    await Promise.all(Array.from({ length: 4 }, () => store.getSetting('before')));

    cluster.stop('immediate'); // a crash: connections cut, no goodbye
    try {
      for (const call of [() => store.getSetting('before'), () => store.initSetting('during', '1'), () => store.listAccessKeys('1')]) {
        const { ms, rejected } = await timed(call());
        assert.ok(rejected, 'a call during the outage fails');
        assert.ok(ms < 6000, `and does not hang (${ms} ms)`);
      }
    } finally {
      cluster.start();
    }

    // Broken connections are dropped, not handed out again: at most the first call after the restart may
    // still meet one; within a second every call is served.
    const deadline = performance.now() + 10_000;
    let served = false;
    while (!served && performance.now() < deadline) {
      served = await store.getSetting('before').then((v) => v === '1', () => false);
      if (!served) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(served, 'served again after the restart');
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => store.getSetting('before')));
    assert.deepEqual(results.map((r) => r.status), Array(8).fill('fulfilled'));
    assert.equal(await store.getSetting('during'), undefined);
  });
});

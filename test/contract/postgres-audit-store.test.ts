import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AuditLog } from '../../src/core/audit/audit-log.js';
import { TreeHeadSigner } from '../../src/core/audit/tree-head-key.js';
import { StoredLink, verifyLog } from '../../src/core/audit/verify.js';
import { FileRootOfTrust } from '../../src/core/crypto/root-of-trust/file.js';
import { PostgresAuditStore } from '../../src/store/metadata/postgres/audit-store.js';
import { PostgresDatabase } from '../../src/store/metadata/postgres/database.js';
import { postgresCluster, postgresSkip } from '../helpers/postgres.js';
import { auditStoreContract } from './audit-store.contract.js';
import { freshPostgres } from './fresh-postgres.js';
import { auditRecord } from './trail-stores.js';

describe('PostgreSQL audit store', { skip: postgresSkip() }, () => {
  const opened: PostgresDatabase[] = [];
  after(async () => {
    for (const d of opened) await d.close();
  });
  /** A node on the database at `url`: its own pool, its own store. */
  const node = async (url: string) => {
    const d = await PostgresDatabase.open(url);
    opened.push(d);
    return { database: d, store: new PostgresAuditStore(d) };
  };

  // A fresh database per test; `another` is a second node (its own pool) on it.
  auditStoreContract(freshPostgres((database) => new PostgresAuditStore(database)));

  it('two nodes appending concurrently through their own AuditLogs form one gap-free chain that verifies', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const [a, b] = [await node(url), await node(url)];
    // Nodes on one database share the root of trust, hence the audit signing key.
    const signer = new TreeHeadSigner(generateKeyPairSync('ed25519').privateKey);
    const logs = [new AuditLog(a.store, signer), new AuditLog(b.store, signer)];
    const perNode = 150;
    // Bursts of concurrent appends on both nodes at once: their groups contend for the checkpoint row.
    await Promise.all(
      logs.map(async (log, n) => {
        for (let burst = 0; burst < perNode / 15; burst++) {
          await Promise.all(Array.from({ length: 15 }, (_, i) => log.append(auditRecord(`n${n}-${burst * 15 + i}`))));
        }
      }),
    );
    const links: StoredLink[] = [];
    for (let batch = await b.store.links(0, 100); batch.length > 0; batch = await b.store.links(links[links.length - 1]!.seq, 100)) links.push(...batch);
    assert.equal(links.length, 2 * perNode);
    assert.deepEqual(links.map((l) => l.seq), Array.from({ length: 2 * perNode }, (_, i) => i + 1), 'sequence numbers 1…N, no gap, no duplicate');
    const ids = new Set(links.map((l) => (JSON.parse(l.record) as { eventID: string }).eventID));
    assert.equal(ids.size, 2 * perNode, 'every acknowledged record is in the log once');
    // Both nodes' records interleave in the chain (they really committed concurrently, not one after the other).
    const origins = links.map((l) => (JSON.parse(l.record) as { eventID: string }).eventID.slice(0, 2));
    const switches = origins.filter((o, i) => i > 0 && o !== origins[i - 1]).length;
    assert.ok(switches >= 2, `the nodes took turns (${switches} switches)`);
    for (const s of [a.store, b.store]) {
      const report = verifyLog({ rows: links, checkpoint: await s.checkpoint(), treeHeads: await s.treeHeads(), key: { keyId: signer.keyId, publicKey: signer.publicKey } });
      assert.deepEqual(report.problems, []);
      assert.equal(report.ok, true);
      assert.equal(report.records, 2 * perNode);
      assert.equal(report.latestTreeHead?.treeSize, 2 * perNode, 'the newest signed head covers the last record');
    }
  });

  it('nodes starting together on an empty database end up with one audit signing key', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'sr-pg-audit-key-'));
    try {
      const root = FileRootOfTrust.openOrCreate(dir);
      const stores = await Promise.all(Array.from({ length: 4 }, async () => (await node(url)).store));
      const signers = await Promise.all(stores.map((s) => TreeHeadSigner.openOrCreate(s, root)));
      assert.equal(new Set(signers.map((s) => s.keyId)).size, 1);
      assert.equal((await stores[0]!.treeHeadKey())?.keyId, signers[0]!.keyId);
      await root.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

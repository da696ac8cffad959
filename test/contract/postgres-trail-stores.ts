import { AuditCommit, LogHead } from '../../src/core/audit/audit-log.js';
import { MerkleFrontier } from '../../src/core/audit/merkle.js';
import { GENESIS_HASH } from '../../src/core/audit/record.js';
import { PostgresDatabase } from '../../src/store/metadata/postgres/database.js';
import { PostgresTrailDeliveryStore } from '../../src/store/metadata/postgres/trail-delivery-store.js';
import { PostgresTrailStore } from '../../src/store/metadata/postgres/trail-store.js';
import { AuditStore } from '../../src/store/metadata/audit-types.js';
import { postgresCluster } from '../helpers/postgres.js';
import { OpenFresh } from './reopenable.js';
import { TrailStores } from './trail-stores.js';

/**
 * The audit log as trail delivery reads it on PostgreSQL: audit_events (seq, record) and audit_checkpoint
 * (id = 1, seq). Until the PostgreSQL audit store exists (it owns those tables), this writer makes the two
 * tables with just those columns and commits records to them as AuditLog would (the contracts only append);
 * once it exists, the tests use it instead and this goes.
 */
class AuditTablesWriter {
  #head: LogHead = { seq: 0, hash: GENESIS_HASH, tree: MerkleFrontier.empty() };

  constructor(private database: PostgresDatabase) {}

  /** After a reopen: the log goes on from its head on the new pool. */
  use(database: PostgresDatabase): void {
    this.database = database;
  }

  static async open(database: PostgresDatabase): Promise<AuditTablesWriter> {
    await database.query(`
      CREATE TABLE IF NOT EXISTS audit_events (seq bigint PRIMARY KEY, record text NOT NULL);
      CREATE TABLE IF NOT EXISTS audit_checkpoint (id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL)`);
    return new AuditTablesWriter(database);
  }

  async append(build: (head: LogHead) => AuditCommit): Promise<void> {
    const commit = build(this.#head);
    await this.database.transaction(async (tx) => {
      for (const r of commit.rows) await tx.query('INSERT INTO audit_events (seq, record) VALUES ($1, $2)', [r.seq, r.canonical]);
      await tx.query('INSERT INTO audit_checkpoint (id, seq) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq', [commit.head.seq]);
    });
    this.#head = commit.head;
  }
}

const opened: PostgresDatabase[] = [];

/** Closes every pool the tests opened (each test file's after()). */
export async function closeAll(): Promise<void> {
  for (const d of opened.splice(0)) await d.close();
}

/**
 * A fresh database per location. `another` is a second pool on it (another node); `reopen` closes every
 * pool open on it and opens a new one.
 */
export const freshPostgresTrailStores: OpenFresh<TrailStores> = async () => {
  const url = await (await postgresCluster()).createDatabase();
  const here: PostgresDatabase[] = [];
  let writer: AuditTablesWriter | undefined;
  const openOne = async (): Promise<TrailStores> => {
    const db = await PostgresDatabase.open(url);
    here.push(db);
    opened.push(db);
    if (writer) writer.use(db);
    else writer = await AuditTablesWriter.open(db);
    return { trails: new PostgresTrailStore(db), delivery: new PostgresTrailDeliveryStore(db), audit: writer as unknown as AuditStore };
  };
  return {
    store: await openOne(),
    another: openOne,
    reopen: async () => {
      for (const d of here.splice(0)) {
        opened.splice(opened.indexOf(d), 1);
        await d.close();
      }
      return openOne();
    },
  };
};

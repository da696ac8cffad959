import pg from 'pg';
import { MIGRATIONS } from './migrations.js';
import { Reachability } from './reachability.js';

/** What runs a query: the pool (one statement, autocommit) or the client of a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface PostgresOptions {
  /** Connections in the pool (default 10). */
  readonly maxConnections?: number;
  /** How long to wait for a connection before failing (default 5 s): a database that is down fails fast. */
  readonly connectionTimeoutMs?: number;
  /**
   * The server cancels a statement that runs (or waits for a lock) longer than this (default 5 s): a stuck
   * statement answers an error instead of holding its request and its connection.
   */
  readonly statementTimeoutMs?: number;
  /**
   * The client gives up on a statement whose answer has not arrived this long after the statement timeout
   * (default 1 s more): a database host that vanished without closing the connection (no RST) is noticed.
   */
  readonly queryTimeoutMs?: number;
}

/**
 * A statement the client stopped waiting for (pg's query_timeout): the server may still be running it, or be
 * gone without a word, so the connection it ran on cannot be trusted again.
 */
function timedOut(err: unknown): boolean {
  return err instanceof Error && err.message === 'Query read timeout';
}

/**
 * Session-level advisory lock key held while migrating ("SRMIG" in ASCII), so that nodes starting together
 * on an empty database migrate it once, one after the other:
 * https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
const MIGRATION_LOCK = 0x53524d4947;

/** SQLSTATE unique_violation: https://www.postgresql.org/docs/current/errcodes-appendix.html */
export const UNIQUE_VIOLATION = '23505';

/**
 * One PostgreSQL database behind a `pg` pool, migrated at open. Every PostgreSQL-backed store shares it.
 * Durability is PostgreSQL's: a statement or transaction that returned is committed (synchronous_commit on,
 * the server's default). Queries are parameterised ($1, $2 …); no value is ever spliced into SQL text.
 */
export class PostgresDatabase {
  readonly #pool: pg.Pool;
  /** Calls fail at once for a moment after one found the database out of reach (see Reachability). */
  readonly #reach = new Reachability();

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** False once a call found the database out of reach, until one reaches it again. */
  get reachable(): boolean {
    return this.#reach.reachable;
  }

  /** Connects and brings the schema up to date (safe when several nodes open the same database at once). */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresDatabase> {
    const connectionTimeoutMillis = options.connectionTimeoutMs ?? 5000;
    const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
    // Migrations first, on a connection of their own without the timeouts: a migration of a large table may
    // run long, and a node waits for another that migrates (the advisory lock) as long as that takes.
    await migrate(url, connectionTimeoutMillis);
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis,
      // Requests must answer within seconds when the database cannot (issue 10: "quickly, nothing hangs"):
      // the server cancels what runs too long (https://www.postgresql.org/docs/current/runtime-config-client.html),
      // the client stops waiting for a server that no longer answers at all, and a transaction left open by a
      // node that froze does not hold its locks (the audit checkpoint row) for longer than that either.
      statement_timeout: statementTimeoutMs,
      query_timeout: options.queryTimeoutMs ?? statementTimeoutMs + 1000,
      idle_in_transaction_session_timeout: 2 * statementTimeoutMs,
      // TCP keepalive: a connection to a database host that vanished is noticed instead of waited on forever.
      keepAlive: true,
    });
    // An idle connection that breaks (server restart, network) emits 'error' on the pool; unhandled, that
    // would end the process. The pool drops the connection; the next query opens a new one or fails itself.
    pool.on('error', () => undefined);
    return new PostgresDatabase(pool);
  }

  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.#reach.run(() => this.#reach.note(this.#pool.query<R>(sql, params)));
  }

  /**
   * Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws
   * (and the error rethrown). READ COMMITTED, PostgreSQL's default: a caller that reads before it writes
   * locks what it reads (SELECT … FOR UPDATE) or relies on a constraint.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#inTransaction('BEGIN', fn);
  }

  /**
   * Runs `fn` in one read-only REPEATABLE READ transaction: every statement of it sees the snapshot taken by
   * its first, whatever other connections commit meanwhile; it takes no row lock, so no writer waits for it.
   * https://www.postgresql.org/docs/current/transaction-iso.html#XACT-REPEATABLE-READ
   */
  readSnapshot<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
  }

  #inTransaction<T>(begin: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#reach.run(() => this.#onOneConnection(begin, fn));
  }

  async #onOneConnection<T>(begin: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const reach = this.#reach;
    const client = await reach.note(this.#pool.connect());
    let broken: Error | undefined;
    // A checked-out client has no listener of the pool's: the 'error' it emits when its connection is cut
    // mid-transaction (database crash or restart) would be an uncaught exception, ending the process. The
    // queries in flight reject with it anyway; the connection must not go back to the pool.
    const lost = (err: Error) => void (broken ??= err);
    client.on('error', lost);
    try {
      await reach.note(client.query(begin));
      // Only the outcomes of pg's statements say whether the database is reachable, not an error of fn's own
      // (even one fn throws after catching a statement's error).
      const tx: Queryable = { query: <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) => reach.note(client.query<R>(sql, params)) };
      const result = await fn(tx);
      await reach.note(client.query('COMMIT'));
      return result;
    } catch (e) {
      if (timedOut(e)) {
        // No answer from the server: a ROLLBACK would wait as long again. Closing the connection rolls back.
        broken ??= e as Error;
      } else if (!broken) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError as Error; // the connection is unusable: the pool must not hand it out again
        }
      }
      throw e;
    } finally {
      client.removeListener('error', lost);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

/** Brings the schema up to date on a connection of its own, one node at a time (the advisory lock). */
async function migrate(url: string, connectionTimeoutMillis: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis, keepAlive: true });
  // A connection cut while migrating fails the query in flight; the 'error' event must not end the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)');
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      const applied = new Set(rows.map((r) => r.version));
      const newest = rows.length > 0 ? rows[rows.length - 1]!.version : 0;
      if (newest > MIGRATIONS.length) {
        // A newer Strongroom migrated this database: running older code on it could corrupt what it added.
        throw new Error(`the database schema is at version ${newest}, newer than this Strongroom knows (${MIGRATIONS.length}): upgrade this node`);
      }
      for (let i = 0; i < MIGRATIONS.length; i++) {
        if (applied.has(i + 1)) continue;
        await client.query('BEGIN');
        try {
          await client.query(MIGRATIONS[i]!); // no parameters: the simple protocol runs every statement
          await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [i + 1, Date.now()]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw e;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    // Ending the session releases the advisory lock and rolls back whatever it left open.
    await client.end().catch(() => undefined);
  }
}

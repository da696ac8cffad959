import pg from 'pg';

/** How long calls fail at once after the database could not be reached, before one call tries it again. */
export const RETRY_AFTER_MS = 1000;

/** A call refused without trying: the database could not be reached a moment ago (the caller answers a retryable 5xx). */
export class DatabaseUnreachableError extends Error {
  constructor(cause: unknown) {
    super(`the database could not be reached a moment ago (${cause instanceof Error ? cause.message : String(cause)}); it is tried again shortly`);
    this.name = 'DatabaseUnreachableError';
  }
}

/**
 * Whether `err`, thrown by pg for a query or a connection (never ask of another error: any error that is not
 * the server's counts), says the database could not be reached rather than
 * that it refused the statement: pg's own errors (connection refused, reset or terminated, connect and query
 * timeouts) and the server's SQLSTATEs of class 08 (connection exception), 57P01-57P03 (shutting down,
 * crashed, starting up) and 53300 (too many connections).
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
export function unreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof DatabaseUnreachableError) return true;
  if (!(err instanceof pg.DatabaseError)) return true;
  const code = err.code ?? '';
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/**
 * Remembers that the database could not be reached, so that the calls that follow fail at once instead of each
 * waiting out a connect or query timeout (issue 10: "quickly, nothing hangs"): a request makes several
 * statements, and a database that stopped answering would otherwise cost each of them the full timeout. After
 * RETRY_AFTER_MS one call at a time is let through to try; the first that reaches the database lets every call
 * through again, so service resumes by itself within about a second of the database's return.
 */
export class Reachability {
  /** Why the database is taken for unreachable; undefined while it answers. */
  #cause: unknown;
  #retryAt = 0;
  #probing = false;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Whether the last call that reached a verdict found the database reachable. */
  get reachable(): boolean {
    return this.#cause === undefined;
  }

  /**
   * Runs `call` unless the database is taken for unreachable (then rejects at once with
   * DatabaseUnreachableError), or as the one call that tries it again. `call` tells what its statements met
   * with `reached` and `failed` (only pg's outcomes: an error of the caller's own says nothing of the database).
   */
  async run<T>(call: () => Promise<T>): Promise<T> {
    let probe = false;
    if (this.#cause !== undefined) {
      if (this.#probing || this.#now() < this.#retryAt) throw new DatabaseUnreachableError(this.#cause);
      this.#probing = probe = true;
    }
    try {
      return await call();
    } finally {
      if (probe) this.#probing = false;
    }
  }

  /** `p`, a pg query or connection, with its outcome noted. */
  note<T>(p: Promise<T>): Promise<T> {
    return p.then(
      (result) => {
        this.#cause = undefined;
        return result;
      },
      (err: unknown) => {
        this.failed(err);
        throw err;
      },
    );
  }

  /** Takes note of a pg error: one that says the database is out of reach starts the fast failures. */
  failed(err: unknown): void {
    if (!unreachable(err) || err instanceof DatabaseUnreachableError) return;
    this.#cause = err;
    this.#retryAt = this.#now() + RETRY_AFTER_MS;
  }
}

import pg from 'pg';
import { InvalidationHandler, InvalidationPort } from '../../../core/cache/invalidation.js';
import { InvalidationLog, LocalSubscribers, SILENT_LOG } from '../../../core/cache/shared-invalidation.js';
import { Queryable } from './database.js';

/** The channel every node of one database listens on. */
const CHANNEL = 'strongroom_invalidation';
/** Reconnect delays of a lost LISTEN connection double per failure up to this. */
const RECONNECT_MAX_MS = 5000;
/** While the LISTEN connection is down, every topic is invalidated this often (issue 10's one second). */
const BLIND_INVALIDATE_MS = 1000;

/**
 * A NOTIFY payload must be shorter than 8000 bytes in the default configuration
 * (https://www.postgresql.org/docs/current/sql-notify.html); a publication whose key would not fit is sent
 * without its key, which invalidates the whole topic: more than needed, never less.
 */
export const MAX_PAYLOAD_BYTES = 7999;

export interface PostgresInvalidationOptions {
  readonly log?: InvalidationLog;
  /** First delay before reconnecting a lost LISTEN connection (default 100 ms), doubled per failure up to 5 s. */
  readonly reconnectMinMs?: number;
}

/** What travels in a notification: who sent it, the topic, the key (absent: the whole topic). */
interface Payload {
  o: string;
  t: string;
  k?: string;
}

/**
 * The invalidation port of nodes and processes that share one PostgreSQL database (issue 10): `publish` is
 * `pg_notify(channel, payload)` through the pool, delivered by PostgreSQL to every session that LISTENs on the
 * channel once the notifying statement commits (https://www.postgresql.org/docs/current/sql-listen.html);
 * every port holds one dedicated LISTEN connection (not from the pool: a pooled connection would be handed to
 * queries and released, its LISTEN with it) and calls its subscribers for what arrives there.
 *
 * A lost LISTEN connection (database restart, network, pg_terminate_backend) is reconnected with exponential
 * backoff; notifications sent meanwhile are gone, so on reconnect every subscribed topic is invalidated, and
 * while it is down every topic is invalidated every `blindInvalidateMs` (1 s): a node that cannot hear the
 * others does not keep answering from caches for longer than the one second issue 10 allows. One warning per
 * outage, one info line when it ends. A `publish` whose NOTIFY fails never rejects (the write it follows has
 * happened): the other nodes' caches fall back on their TTL.
 */
export class PostgresInvalidationPort implements InvalidationPort {
  readonly #url: string;
  readonly #db: Queryable;
  readonly #log: InvalidationLog;
  readonly #minMs: number;
  #blind: NodeJS.Timeout | undefined;
  readonly #local = new LocalSubscribers();
  #listener: pg.Client | undefined;
  #closed = false;
  #reconnecting = false;
  #publishFailing = false;
  #timer: NodeJS.Timeout | undefined;
  /** Clients whose connection ended or failed (it may happen before a reconnected client becomes the listener). */
  readonly #dead = new WeakSet<pg.Client>();

  private constructor(url: string, db: Queryable, options: PostgresInvalidationOptions) {
    this.#url = url;
    this.#db = db;
    this.#log = options.log ?? SILENT_LOG;
    this.#minMs = options.reconnectMinMs ?? 100;
  }

  /**
   * Opens the LISTEN connection to `url` and publishes through `db` (the PostgresDatabase's pool). Rejects when
   * the database cannot be reached now: a node that starts must hear the others from its first request.
   */
  static async start(url: string, db: Queryable, options: PostgresInvalidationOptions = {}): Promise<PostgresInvalidationPort> {
    const port = new PostgresInvalidationPort(url, db, options);
    port.#listener = await port.#listen();
    return port;
  }

  async publish(topic: string, key?: string): Promise<void> {
    this.#local.deliver(topic, key);
    try {
      await this.#db.query('SELECT pg_notify($1, $2)', [CHANNEL, encode({ o: this.#local.origin, t: topic, k: key })]);
      if (this.#publishFailing) {
        this.#publishFailing = false;
        this.#log.info({ channel: CHANNEL }, 'cache invalidations reach other nodes again');
      }
    } catch (err) {
      // Other nodes keep their entry until its TTL: log once until a publication gets through again.
      if (!this.#publishFailing) {
        this.#publishFailing = true;
        this.#log.warn({ err: String(err), channel: CHANNEL }, 'cache invalidation not sent to other nodes; they rely on the cache TTL');
      }
    }
  }

  subscribe(topic: string, handler: InvalidationHandler): () => void {
    return this.#local.subscribe(topic, handler);
  }

  /** The backend pid of the LISTEN connection (tests terminate it), undefined while reconnecting. */
  get listenerPid(): number | undefined {
    return (this.#listener as unknown as { processID?: number } | undefined)?.processID;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#blind);
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** A connected client LISTENing on the channel, with its handlers; rejects (and ends it) on failure. */
  async #listen(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.#url,
      connectionTimeoutMillis: 5000,
      // This connection only receives: without keepalive probes a vanished database host goes unnoticed.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    client.on('error', () => this.#lost(client)); // also keeps an error from ending the process
    client.on('end', () => this.#lost(client));
    client.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || msg.payload === undefined) return;
      const p = decode(msg.payload);
      if (!p || p.o === this.#local.origin) return; // our own: delivered when published
      this.#local.deliver(p.t, p.k);
    });
    try {
      await client.connect();
      // The channel is an identifier: quoted by the client library, never spliced raw.
      await client.query(`LISTEN ${client.escapeIdentifier(CHANNEL)}`);
    } catch (e) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw e;
    }
    return client;
  }

  #lost(client: pg.Client): void {
    this.#dead.add(client);
    if (this.#closed || client !== this.#listener) return;
    this.#listener = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    this.#log.warn({ channel: CHANNEL }, 'cache invalidation listener lost; reconnecting (caches are dropped every second meanwhile)');
    this.#local.deliverAll();
    this.#blind = setInterval(() => this.#local.deliverAll(), BLIND_INVALIDATE_MS);
    this.#blind.unref();
    this.#reconnect(this.#minMs);
  }

  #reconnect(delayMs: number): void {
    if (this.#closed || this.#reconnecting) return;
    this.#reconnecting = true;
    this.#timer = setTimeout(() => {
      this.#listen().then(
        (client) => {
          this.#reconnecting = false;
          if (this.#closed) {
            void client.end().catch(() => undefined);
            return;
          }
          if (this.#dead.has(client)) {
            this.#reconnect(this.#minMs); // lost again before it could be used
            return;
          }
          this.#listener = client;
          clearInterval(this.#blind);
          this.#blind = undefined;
          // Whatever was published while we were not listening is lost: drop everything.
          this.#local.deliverAll();
          this.#log.info({ channel: CHANNEL }, 'cache invalidation listener reconnected; every cache entry invalidated');
        },
        () => {
          this.#reconnecting = false;
          this.#reconnect(Math.min(delayMs * 2, RECONNECT_MAX_MS));
        },
      );
    }, delayMs);
    this.#timer.unref();
  }
}

/** The payload, without the key when it would not fit (the whole topic is then invalidated). */
export function encode(p: Payload): string {
  const full = JSON.stringify(p);
  if (Buffer.byteLength(full, 'utf8') <= MAX_PAYLOAD_BYTES) return full;
  return JSON.stringify({ o: p.o, t: p.t });
}

function decode(text: string): Payload | undefined {
  try {
    const p = JSON.parse(text) as Partial<Payload>;
    if (typeof p.o !== 'string' || typeof p.t !== 'string') return undefined;
    return { o: p.o, t: p.t, k: typeof p.k === 'string' ? p.k : undefined };
  } catch {
    return undefined; // not ours (someone else NOTIFYing on the channel): ignore
  }
}

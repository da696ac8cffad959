import { KeyLastUsageRecord, KeyRecord, MetadataStore, keyRowId } from '../../store/metadata/types.js';
import { Clock } from '../clock.js';

/**
 * The operations whose success counts as a key's use: KeyLastUsageTrackingOperation of the KMS model
 * (model-newer.json). ReEncrypt counts for both its keys.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyLastUsage.html
 */
export const TRACKED_OPERATIONS: ReadonlySet<string> = new Set([
  'Decrypt', 'DeriveSharedSecret', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext',
  'GenerateDataKeyWithoutPlaintext', 'GenerateMac', 'ReEncrypt', 'Sign', 'Verify', 'VerifyMac', 'Encapsulate', 'Decapsulate',
]);

/** How often a server writes the uses it saw (at most; and once more when it stops). */
export const DEFAULT_LAST_USAGE_FLUSH_MS = 5_000;

/** The setting that records when this deployment began tracking use (its first start with this feature). */
const TRACKING_START_SETTING = 'kms_key_usage_tracking_start';

/** What GetKeyLastUsage answers of a key. */
export interface KeyLastUsageView {
  readonly usage?: KeyLastUsageRecord;
  /** When tracking began for this key: the deployment's tracking start or the key's creation, whichever is later. */
  readonly trackingStartDate: number;
}

/**
 * Each key's last successful cryptographic use, cheap on the hot path: a call only replaces an entry of an
 * in-memory map (no database write per request: Decrypt runs at thousands per second); the map is written
 * every `flushMs` (and at stop) in one statement whose upsert keeps the later time, so servers and workers
 * sharing the database (DESIGN.md §6), flushing in any order, never move a key's last use backwards.
 * A server reads the database's entry and its own unwritten one, whichever is later: its own uses show at
 * once, another server's within its flush interval (AWS documents a delay of its own). A server that dies
 * loses at most its last interval's uses.
 */
export class KeyLastUsage {
  #pending = new Map<string, KeyLastUsageRecord>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #trackingStart: Promise<number> | undefined;

  constructor(
    private readonly store: MetadataStore,
    private readonly clock: Clock,
    private readonly onFlushError: (err: unknown) => void = () => undefined,
  ) {}

  /** A successful use of `keyId` (the key's row id, types.ts#keyRowId) by `operation` (one of TRACKED_OPERATIONS), as its CloudTrail record says. */
  note(usage: KeyLastUsageRecord): void {
    const seen = this.#pending.get(usage.keyId);
    if (seen === undefined || usage.usedAt >= seen.usedAt) this.#pending.set(usage.keyId, usage);
  }

  /** Starts the periodic flush, and fixes the deployment's tracking start if this is the first server to track. */
  async start(flushMs: number = DEFAULT_LAST_USAGE_FLUSH_MS): Promise<void> {
    await this.#trackingStartDate();
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.flush().catch(this.onFlushError), flushMs);
    this.#timer.unref();
  }

  /** Stops the periodic flush and writes what is left. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  /** Writes the uses seen since the last flush. One flush at a time; a failed one keeps its uses for the next. */
  flush(): Promise<void> {
    const run = this.#flushing.then(async () => {
      if (this.#pending.size === 0) return;
      const batch = this.#pending;
      this.#pending = new Map();
      try {
        await this.store.recordKeyLastUsage([...batch.values()]);
      } catch (err) {
        for (const u of batch.values()) this.note(u);
        throw err;
      }
    });
    this.#flushing = run.catch(() => undefined);
    return run;
  }

  async get(key: KeyRecord): Promise<KeyLastUsageView> {
    // Kept per key row: each key of a multi-Region key has its own last use (types.ts#keyRowId).
    const [stored, start] = await Promise.all([this.store.getKeyLastUsage(keyRowId(key)), this.#trackingStartDate()]);
    const own = this.#pending.get(keyRowId(key));
    const usage = own !== undefined && (stored === undefined || own.usedAt >= stored.usedAt) ? own : stored;
    return { ...(usage ? { usage } : {}), trackingStartDate: Math.max(start, key.createdAt) };
  }

  #trackingStartDate(): Promise<number> {
    this.#trackingStart ??= this.store.initSetting(TRACKING_START_SETTING, String(this.clock.now())).then(Number, (err: unknown) => {
      this.#trackingStart = undefined;
      throw err;
    });
    return this.#trackingStart;
  }
}

import { Clock } from '../clock.js';
import { TrailRecord, TrailStore } from '../../store/metadata/trail-types.js';
import { DigestSigningKeys } from './digest-keys.js';
import { StoredEvent } from './lookup.js';
import { CloudTrailRecord } from './record.js';
import { DigestedLogFile, PreviousDigest, buildLogFile, digestFileKey, logFileKey, signDigest } from './trail-files.js';
import { trailWants } from './trail-selectors.js';
import { TrailDeliveryError, TrailDestination, trailTarget } from './trails.js';

/** A file a trail decided to write, with its exact bytes, not yet in the bucket. */
export interface PlannedObject {
  readonly kind: 'log' | 'digest';
  readonly region: string;
  readonly bucket: string;
  readonly key: string;
  readonly body: Buffer;
  readonly metadata: Readonly<Record<string, string>>;
  /** Log files: SHA-256 of the uncompressed content (what the next digest lists). */
  readonly sha256: string;
  readonly oldestEventTime: number | null;
  readonly newestEventTime: number | null;
}

export interface PendingObject extends PlannedObject {
  readonly id: number;
  readonly trailArn: string;
}

/** The last digest of a trail in a region: where the next one starts and what it links to. */
export interface DigestChain {
  readonly region: string;
  readonly lastEndTime: number;
  readonly previous: PreviousDigest | undefined;
}

/**
 * What delivery remembers (SQLite: cloudtrail_delivery, cloudtrail_pending_objects, cloudtrail_log_files,
 * cloudtrail_digest_chains). Each plan… call is one transaction: the files' bytes are stored as pending in
 * the same commit that moves the trail's position (delivered sequence number, digest chain), so a restart
 * resumes exactly there — pending files are written again with the same key and bytes, none is made twice.
 * Async, so a networked backend implements it too; implementations run test/contract/trail-delivery-store.contract.ts.
 */
export interface TrailDeliveryStore {
  recordsAfter(seq: number, limit: number): Promise<StoredEvent[]>;
  deliveredSeq(trailArn: string): Promise<number>;
  /**
   * Plans log files and moves the trail's position from `fromSeq` to `deliveredSeq` — only if it still is at
   * `fromSeq` (resolves false, writing nothing, when another process moved it meanwhile: a holder whose lease
   * lapsed mid-step must not plan the same records twice).
   */
  planLogs(trailArn: string, files: readonly PlannedObject[], fromSeq: number, deliveredSeq: number, now: number): Promise<boolean>;
  /** Plans a digest: moves the region's chain to it and takes the log files it lists off the undigested list. */
  planDigest(trailArn: string, digest: PlannedObject, endTime: number, signature: string, listed: readonly string[], now: number): Promise<void>;
  pending(trailArn: string): Promise<PendingObject[]>;
  /** The object is in the bucket: forget it; a log file joins the undigested list (when the trail validates). */
  delivered(p: PendingObject, digested: boolean, now: number): Promise<void>;
  failed(trailArn: string, kind: 'log' | 'digest', error: string): Promise<void>;
  undigested(trailArn: string, region: string): Promise<DigestedLogFile[]>;
  chains(trailArn: string): Promise<DigestChain[]>;
}

/** A delivery the bucket refused (or could not take), as the server log shows it: no body, no secret. */
export interface DeliveryRefusal {
  readonly trailArn: string;
  readonly kind: 'log' | 'digest';
  /** What GetTrailStatus shows: NoSuchBucket, AccessDenied, KMS.… */
  readonly code: string;
  readonly bucket: string;
  readonly key: string;
}

/** What the delivery loop tells the server's log. */
export interface TrailDeliveryEvents {
  /** An unexpected failure (a bug, the database): logged as an error. */
  failed(err: unknown, trailArn: string): void;
  /** A refusal the trail's owner can fix: at most once per trail, kind and code per delivery step (interval). */
  refused(r: DeliveryRefusal): void;
  /** The first file of that kind written after refusals. */
  resumed(trailArn: string, kind: 'log' | 'digest', bucket: string): void;
}

const NO_EVENTS: TrailDeliveryEvents = { failed: () => {}, refused: () => {}, resumed: () => {} };

export interface TrailDeliveryOptions {
  readonly logIntervalMs: number;
  readonly digestIntervalMs: number;
}

/** Runs a delivery step, or skips it (another process holds the delivery lease). */
export type DeliveryGate = (step: () => Promise<void>) => Promise<unknown>;

/** Records read per step; each step's matching records make one log file per region. */
const BATCH = 2_000;

/**
 * The trails' delivery loop, as CloudTrail's: every log interval (AWS: about 5 minutes) each logging trail
 * gets the records committed since its last delivery that its selectors want, as one gzip'd log file per
 * region; every digest interval (AWS: one hour) a trail with log file validation gets, per region, a signed
 * digest listing the log files delivered since the previous digest — an empty one too, so the chain shows
 * there was nothing. A bucket that refuses (no bucket, policy) is shown by GetTrailStatus
 * (LatestDeliveryError / LatestDigestDeliveryError) and retried at the next interval; nothing is skipped.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/how-cloudtrail-works.html
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html
 */
export class TrailDelivery {
  #timers: NodeJS.Timeout[] = [];
  #gate: DeliveryGate = (step) => step();
  /** Ticks run one after the other, never overlapping. */
  #queue: Promise<void> = Promise.resolve();
  /** Refusals already logged in the running step (trail, kind, code): one line each per interval, not per retry. */
  #toldThisStep = new Set<string>();
  /** Trail and kind whose last write was refused: the next success is logged once. */
  #refused = new Set<string>();

  constructor(
    private readonly trails: TrailStore,
    private readonly store: TrailDeliveryStore,
    private readonly destination: TrailDestination,
    private readonly keys: DigestSigningKeys,
    private readonly clock: Clock,
    private readonly options: TrailDeliveryOptions,
    private readonly events: TrailDeliveryEvents = NO_EVENTS,
  ) {}

  /**
   * Starts the intervals. `gate`: every step runs through it — app.ts passes its lease's `run`
   * (src/core/leases/leased-job.ts), so of the processes and nodes sharing a database one delivers at a time.
   */
  start(gate: DeliveryGate = (step) => step()): void {
    this.#gate = gate;
    const every = (ms: number, f: () => Promise<void>) => {
      const t = setInterval(() => void this.#enqueue(async () => void (await this.#gate(f))), ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.options.logIntervalMs, () => this.deliverLogs());
    every(this.options.digestIntervalMs, () => this.deliverDigests());
  }

  /** Stops the timers and, once the running step ended, delivers the last log files (not a digest: AWS does not either). */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#enqueue(async () => void (await this.#gate(() => this.deliverLogs())));
  }

  #enqueue(f: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue
      .then(() => {
        this.#toldThisStep.clear();
        return f();
      })
      .catch((err: unknown) => this.events.failed(err, ''));
    return this.#queue;
  }

  /** One log step for every logging trail. */
  async deliverLogs(): Promise<void> {
    for (const trail of await this.trails.loggingTrails()) {
      try {
        if (!(await this.#flush(trail, 'log'))) continue;
        await this.#planLogs(trail);
        await this.#flush(trail, 'log');
      } catch (err) {
        this.events.failed(err, trail.arn);
      }
    }
  }

  /** One digest step for every logging trail with log file validation. */
  async deliverDigests(): Promise<void> {
    for (const trail of await this.trails.loggingTrails()) {
      if (!trail.logFileValidationEnabled) continue;
      try {
        // Log files still waiting go first: a digest lists only files that are in the bucket.
        await this.#flush(trail, 'log');
        await this.#planDigests(trail);
        await this.#flush(trail, 'digest');
      } catch (err) {
        this.events.failed(err, trail.arn);
      }
    }
  }

  async #planLogs(trail: TrailRecord): Promise<void> {
    let seq = await this.store.deliveredSeq(trail.arn);
    for (;;) {
      const rows = await this.store.recordsAfter(seq, BATCH);
      const last = rows[rows.length - 1];
      if (!last) return;
      const byRegion = new Map<string, string[]>();
      for (const row of rows) {
        const r = JSON.parse(row.record) as CloudTrailRecord;
        if (!trailWants(trail, r)) continue;
        const list = byRegion.get(r.awsRegion) ?? [];
        list.push(row.record);
        byRegion.set(r.awsRegion, list);
      }
      const now = this.clock.now();
      const files: PlannedObject[] = [...byRegion].map(([region, records]) => {
        const f = buildLogFile(records);
        return {
          kind: 'log',
          region,
          bucket: trail.s3BucketName,
          key: logFileKey(trail.s3KeyPrefix, trail.accountId, region, now),
          body: f.body,
          metadata: {},
          sha256: f.sha256,
          oldestEventTime: f.oldestEventTime,
          newestEventTime: f.newestEventTime,
        };
      });
      // Another process moved the position since we read it (it holds the work now): leave it to that one.
      if (!(await this.store.planLogs(trail.arn, files, seq, last.seq, now))) return;
      seq = last.seq;
      if (rows.length < BATCH) return;
    }
  }

  async #planDigests(trail: TrailRecord): Promise<void> {
    const now = this.clock.now();
    // Digest names carry the end time to the second: one digest per chain per second at most.
    const endTime = Math.floor(now / 1000) * 1000;
    const chains = new Map((await this.store.chains(trail.arn)).map((c) => [c.region, c]));
    const regions = new Set([trail.region, ...chains.keys()]);
    const key = await this.keys.current(trail.region, now);
    const privateKey = await this.keys.privateKey(key);
    for (const region of regions) {
      const chain = chains.get(region);
      const startTime = chain?.lastEndTime ?? trail.startLoggingTime ?? trail.createdAt;
      if (endTime <= startTime) continue;
      const logFiles = await this.store.undigested(trail.arn, region);
      const digestKey = digestFileKey(trail.s3KeyPrefix, trail.accountId, region, trail.name, trail.region, endTime);
      const signed = signDigest(
        { accountId: trail.accountId, bucket: trail.s3BucketName, key: digestKey, startTime, endTime, fingerprint: key.fingerprint, previous: chain?.previous, logFiles },
        privateKey,
      );
      await this.store.planDigest(
        trail.arn,
        { kind: 'digest', region, bucket: trail.s3BucketName, key: digestKey, body: signed.body, metadata: signed.metadata, sha256: signed.sha256, oldestEventTime: null, newestEventTime: null },
        endTime,
        signed.signature,
        logFiles.map((f) => f.key),
        now,
      );
    }
  }

  /**
   * Writes the trail's pending files of `kind` (log files also before digests), oldest first; stops at the
   * first refusal, which GetTrailStatus then shows and the server log tells (once per step). True when
   * nothing is left pending.
   */
  async #flush(trail: TrailRecord, kind: 'log' | 'digest'): Promise<boolean> {
    for (const p of await this.store.pending(trail.arn)) {
      if (kind === 'log' && p.kind !== 'log') continue;
      try {
        // Where it was planned: an UpdateTrail since then moves the next files, not these (a digest may list them there).
        // Log files under the trail's KMS key when it has one; digest files never (AWS: SSE-S3, or the bucket's default).
        const kmsKeyId = p.kind === 'log' && trail.kmsKeyId !== null ? trail.kmsKeyId : undefined;
        await this.destination.put({ ...trailTarget(trail), bucket: p.bucket }, p.key, p.body, p.metadata, kmsKeyId);
      } catch (err) {
        const code = err instanceof TrailDeliveryError ? err.code : 'InternalError';
        await this.store.failed(trail.arn, p.kind, code);
        if (!(err instanceof TrailDeliveryError)) this.events.failed(err, trail.arn);
        const told = `${trail.arn}\n${p.kind}\n${code}`;
        if (!this.#toldThisStep.has(told)) {
          this.#toldThisStep.add(told);
          this.events.refused({ trailArn: trail.arn, kind: p.kind, code, bucket: p.bucket, key: p.key });
        }
        this.#refused.add(`${trail.arn}\n${p.kind}`);
        return false;
      }
      await this.store.delivered(p, trail.logFileValidationEnabled, this.clock.now());
      if (this.#refused.delete(`${trail.arn}\n${p.kind}`)) this.events.resumed(trail.arn, p.kind, p.bucket);
    }
    return true;
  }
}

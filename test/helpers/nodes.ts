// Several real `strongroom serve` processes on one deployment (issue 10's multi-node tests): SDK clients that
// open a new connection for every request (so that node:cluster's round-robin spreads them over the workers),
// and the measure of how long a change made through one process takes to be enforced by another.
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The root credentials every test node is started with (STRONGROOM_ROOT_*). */
export const NODE_ROOT: Credentials = { accessKeyId: 'AKIANODESROOT0000001', secretAccessKey: 'nodes-root-secret-access-key-000000000001' };
export const NODE_ROOT_ENV = { STRONGROOM_ROOT_ACCESS_KEY_ID: NODE_ROOT.accessKeyId, STRONGROOM_ROOT_SECRET_ACCESS_KEY: NODE_ROOT.secretAccessKey };
export const NODE_REGION = 'us-east-1';

interface Destroyable {
  destroy(): void;
}

/** Clients of one endpoint, each request on a new TCP connection (keep-alive off); `destroy()` closes them all. */
export class NodeClients {
  readonly #made: Destroyable[] = [];
  constructor(
    readonly url: string,
    readonly credentials: Credentials = NODE_ROOT,
  ) {}

  #config(maxAttempts = 1) {
    return {
      endpoint: this.url,
      region: NODE_REGION,
      credentials: this.credentials,
      maxAttempts,
      requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: false }) }),
    };
  }

  #keep<T extends Destroyable>(client: T): T {
    this.#made.push(client);
    return client;
  }

  kms(): KMSClient {
    return this.#keep(new KMSClient(this.#config()));
  }
  iam(): IAMClient {
    return this.#keep(new IAMClient(this.#config()));
  }
  s3(): S3Client {
    return this.#keep(new S3Client({ ...this.#config(), forcePathStyle: true }));
  }
  cloudtrail(): CloudTrailClient {
    return this.#keep(new CloudTrailClient(this.#config()));
  }
  /** The same endpoint as another principal. */
  as(credentials: Credentials): NodeClients {
    const other = new NodeClients(this.url, credentials);
    this.#made.push(other);
    return other;
  }
  destroy(): void {
    for (const c of this.#made.splice(0)) c.destroy();
  }
}

/** What `probe` saw: the call's outcome as a word (`ok`, or the error's name). */
export async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    return (err as Error).name;
  }
}

export interface Convergence {
  /** Milliseconds from `since` to the first probe of the final run of probes that all saw `expected`. */
  readonly ms: number;
  /** Every probe's outcome, in order, with its time since `since`. */
  readonly probes: readonly { readonly at: number; readonly outcome: string }[];
}

/**
 * Probes every `intervalMs` (each probe a new connection, so successive probes reach different workers) until
 * `streak` probes in a row saw `expected`, or `limitMs` passed. The convergence time is when that final run
 * began: an answer that flips back (one worker current, another stale) restarts the run.
 */
export async function converge(
  since: number,
  expected: string,
  probe: () => Promise<string>,
  { intervalMs = 50, streak = 6, limitMs = 5_000 } = {},
): Promise<Convergence> {
  const probes: { at: number; outcome: string }[] = [];
  let runStart: number | undefined;
  let run = 0;
  for (;;) {
    const sent = performance.now();
    const seen = await probe();
    probes.push({ at: Math.round(sent - since), outcome: seen });
    if (seen === expected) {
      runStart ??= sent;
      if (++run >= streak) return { ms: Math.round(runStart - since), probes };
    } else {
      runStart = undefined;
      run = 0;
    }
    if (performance.now() - since > limitMs) {
      throw new Error(`not ${expected} within ${limitMs} ms: ${probes.map((p) => `${p.at}:${p.outcome}`).join(' ')}`);
    }
    await sleep(Math.max(0, intervalMs - (performance.now() - sent)));
  }
}

/** Polls `done` every 50 ms until it is true, or throws after `ms`. */
export async function until(what: string, done: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await done())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

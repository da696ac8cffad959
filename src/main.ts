import cluster, { Worker } from 'node:cluster';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { App, buildApp } from './app.js';
import { CREDENTIALS_FILE, Deployment } from './bootstrap.js';
import { Config } from './config/config.js';
import { closeStrandedHandoffs } from './http/cluster-handoff.js';
import { assertCanListen, listenError } from './http/listen-check.js';
import { describeDatabaseUrl } from './stores.js';
import { assertNbdCanListen, nbdUrlOf } from './protocols/nbd/start.js';
import { NBD_OWNER_ENV, NBD_PORT_ENV, nbdHere } from './protocols/nbd/thread/host.js';
import { PrimaryNbdFlush, workerNbdFlush } from './protocols/nbd/thread/cluster-flush.js';
import { VolumeExportsService } from './core/volumes/volume-exports.js';
import { PrimarySealing, workerSealControl } from './sealing/cluster-sealing.js';

/** A worker that dies is replaced, but not more often than this (a worker that cannot start must not spin). */
const RESPAWN_MIN_INTERVAL_MS = 1_000;

/** What a worker tells the primary once it listens. */
interface ReadyMessage {
  readonly type: 'ready';
  readonly url: string;
  readonly deployment: Deployment;
  /** The NBD server's URL, when --nbd-listen is set. */
  readonly nbdUrl?: string;
  /** The banner's line of a sealed start. */
  readonly sealed?: string;
}

/**
 * Starts the server and keeps it running until SIGTERM/SIGINT, then shuts down cleanly. With `workers` > 1
 * (default: the machine's cores) the process is a primary that forks that many worker processes sharing the
 * port (node:cluster; the primary hands connections out round-robin), each a whole server on the shared store:
 * the first one initialises a new deployment alone, then the others start; caches stay coherent through the
 * store's invalidation port and once-only work runs under leases, exactly as across nodes.
 */
export async function main(config: Config): Promise<void> {
  if (config.workers > 1 && cluster.isPrimary) return primary(config);
  if (cluster.isWorker) return worker(config);
  return single(config);
}

async function single(config: Config): Promise<void> {
  // A port that cannot be listened on is refused before anything is made (buildApp makes the data dir).
  await assertCanListen(config.host, config.port);
  if (config.nbd) await assertNbdCanListen(config.nbd);
  const { app, url } = await start(config);
  onSignals((signal) => {
    app.log.info({ signal }, 'shutting down');
    closeAndExit(app);
  });
  printBanner(config, app.deployment, url, 1, app.nbdUrl(), sealedLine(app));
}

/** A sealed start says so before its listening line (README "Sealed start"). */
function sealedLine(app: App): string | undefined {
  const s = app.sealing;
  if (!s?.sealed) return undefined;
  return `Sealed: serving nothing until ${s.params.threshold} of its ${s.params.shares} key shares are given (strongroom operator unseal, on this machine)\n`;
}

async function worker(config: Config): Promise<void> {
  // The NBD owner replacing one that died listens where its predecessor did when the port was 0 (NBD_PORT_ENV).
  const nbdPort = Number(process.env[NBD_PORT_ENV]);
  if (config.nbd?.port === 0 && nbdPort > 0) config = { ...config, nbd: { ...config.nbd, port: nbdPort } };
  const { app, url } = await start(config);
  // Sealed start with workers: unseal and seal go through the primary, which applies them to every worker.
  if (app.sealing) app.sealing.control = workerSealControl(app.sealing);
  // A snapshot taken here flushes the volume's device in the worker running NBD (cluster-flush.ts); before 'ready'.
  if (config.nbd && app.volumeExports instanceof VolumeExportsService) workerNbdFlush(app.volumeExports, nbdHere());
  let closing = false;
  const stop = (why: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ why }, 'worker shutting down');
    closeAndExit(app);
  };
  process.on('message', (m: { type?: string }) => m?.type === 'stop' && stop('asked by the primary'));
  // The primary is gone (killed): no new connections come; finish what is in flight and go.
  process.on('disconnect', () => stop('the primary process is gone'));
  // Signals go to the primary, which stops the workers; a worker signalled directly stops too.
  onSignals((signal) => stop(signal));
  const nbdUrl = app.nbdUrl();
  const sealed = sealedLine(app);
  process.send!({ type: 'ready', url, deployment: app.deployment, ...(nbdUrl ? { nbdUrl } : {}), ...(sealed ? { sealed } : {}) } satisfies ReadyMessage);
}

async function primary(config: Config): Promise<void> {
  await assertCanListen(config.host, config.port);
  // One worker listens on the NBD port (nbdHere); a busy port is reported before any worker starts.
  if (config.nbd) await assertNbdCanListen(config.nbd);
  let stopping = false;
  const ready = new Map<Worker, ReadyMessage>();
  const sealing = new PrimarySealing(() => [...ready.keys()]);
  // One worker runs the NBD server (in a thread of its own; see nbdHere): the first, and whichever replaces it.
  let nbdOwner: Worker | undefined;
  // The port the first owner listens on: with --nbd-listen's port 0 its replacements take the same (the banner's).
  let nbdPort: string | undefined;
  // Snapshots taken by the other workers flush the owner's devices through here, once it is ready.
  const nbdFlush = new PrimaryNbdFlush(() => (nbdOwner && ready.has(nbdOwner) ? nbdOwner : undefined));
  const fork = (): Promise<ReadyMessage> => {
    const owner = config.nbd !== undefined && (nbdOwner === undefined || nbdOwner.isDead());
    // Set for every worker (empty: not the owner), so that the primary's own environment cannot make two owners.
    const w = cluster.fork({ [NBD_OWNER_ENV]: owner ? '1' : '', [NBD_PORT_ENV]: (owner && nbdPort) || '' });
    if (owner) nbdOwner = w;
    return new Promise((resolve, reject) => {
      w.on('message', (m: ReadyMessage) => {
        if (sealing.onMessage(w, m as never)) return;
        if (nbdFlush.onMessage(w, m as never)) return;
        if (m?.type !== 'ready') return;
        ready.set(w, m);
        if (m.nbdUrl) nbdPort ??= new URL(m.nbdUrl).port;
        sealing.onReady(w);
        // Stopping began while this worker was starting (a SIGTERM right after a respawn): the stop sent then
        // came before it listened for one, so it is told again now, or it would serve on and the primary wait.
        if (stopping) w.send({ type: 'stop' });
        resolve(m);
      });
      // Before it is ready, a worker that exits failed to start (it printed why on the shared stderr).
      w.once('exit', (code, signal) => {
        if (!ready.has(w)) reject(new StartFailed(code ?? (signal ? 1 : 0)));
      });
    });
  };
  let first: ReadyMessage;
  try {
    // The first worker alone: on a new deployment it makes the root of trust, the account and its credentials.
    first = await fork();
    await Promise.all(Array.from({ length: config.workers - 1 }, fork));
  } catch (err) {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exitCode = err instanceof StartFailed ? err.code || 1 : 1;
    if (!(err instanceof StartFailed)) throw err;
    return;
  }
  let lastRespawn = 0;
  cluster.on('exit', (w, code, signal) => {
    ready.delete(w);
    if (w === nbdOwner) nbdFlush.ownerGone(w);
    // A connection the primary handed to this worker just before it died would otherwise hang its client forever.
    closeStrandedHandoffs();
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    // A worker that died (a crash, the OOM killer) is replaced; its in-flight requests were lost with it.
    process.stderr.write(`strongroom: worker ${w.process.pid} exited (${signal ?? `code ${code}`}); starting another\n`);
    const wait = Math.max(0, lastRespawn + RESPAWN_MIN_INTERVAL_MS - Date.now());
    setTimeout(() => {
      lastRespawn = Date.now();
      if (!stopping) fork().catch(() => undefined);
    }, wait).unref();
  });
  onSignals(() => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(0);
    for (const w of workers) w?.send({ type: 'stop' });
  });
  printBanner(config, first.deployment, first.url, config.workers, [...ready.values()].find((m) => m.nbdUrl)?.nbdUrl, first.sealed);
}

class StartFailed extends Error {
  constructor(readonly code: number) {
    super(`a worker exited with code ${code} before it was ready`);
  }
}

async function start(config: Config): Promise<{ app: App; url: string }> {
  const app = await buildApp(config);
  try {
    return { app, url: await app.listen() };
  } catch (err) {
    await app.close().catch(() => {});
    throw (err as NodeJS.ErrnoException).code ? listenError(err as NodeJS.ErrnoException, config.host, config.port) : err;
  }
}

function onSignals(handler: (signal: string) => void): void {
  let handled = false;
  const once = (signal: string) => {
    if (handled) return;
    handled = true;
    handler(signal);
  };
  // Before the listening line: a supervisor may signal as soon as it reads it.
  process.on('SIGTERM', () => once('SIGTERM'));
  process.on('SIGINT', () => once('SIGINT'));
}

function closeAndExit(app: App): void {
  app.close().then(
    () => process.exit(0),
    (err: unknown) => {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
}

function printBanner(config: Config, d: Deployment, url: string, workers = 1, nbdUrl?: string, sealed?: string): void {
  const out = process.stdout;
  if (sealed) out.write(sealed);
  if (d.generatedRoot) {
    out.write(
      `Root credentials (shown once; also saved to ${config.dataDir}/credentials, mode 0600):\n` +
        `  export AWS_ACCESS_KEY_ID=${d.generatedRoot.accessKeyId}\n` +
        `  export AWS_SECRET_ACCESS_KEY=${d.generatedRoot.secretAccessKey}\n` +
        `  export AWS_DEFAULT_REGION=${d.homeRegion}\n`,
    );
  } else if (config.rootAccessKeyId !== undefined) {
    out.write(`Root credentials: STRONGROOM_ROOT_ACCESS_KEY_ID (${config.rootAccessKeyId}) and STRONGROOM_ROOT_SECRET_ACCESS_KEY\n`);
  } else if (existsSync(join(config.dataDir, CREDENTIALS_FILE))) {
    out.write(`Root credentials: in ${join(config.dataDir, CREDENTIALS_FILE)} (export AWS_SHARED_CREDENTIALS_FILE=${join(config.dataDir, CREDENTIALS_FILE)})\n`);
  }
  if (config.tls?.selfSigned) {
    const cert = config.tls.certFile;
    out.write(`TLS: self-signed certificate ${cert}; trust it with AWS_CA_BUNDLE=${cert} (aws CLI, boto3) or NODE_EXTRA_CA_CERTS=${cert} (Node SDKs)\n`);
  }
  const tls = config.nbd?.tls ? ` (TLS with client certificates signed by ${config.nbd.tls.caFile})` : '';
  if (nbdUrl) out.write(`NBD: attached volumes exported on ${nbdUrl}/<volume-id>${tls}\n`);
  else if (sealed && config.nbd) {
    // Sealed, the NBD server starts at the unseal (with workers, in the NBD owner worker): say where it will be.
    const where = config.nbd.port > 0 ? `${nbdUrlOf(config.nbd, config.nbd.port)}/<volume-id>` : `a port chosen then (logged; --nbd-listen names one)`;
    out.write(`NBD: attached volumes exported on ${where} once unsealed${tls}\n`);
  }
  const where = config.databaseUrl !== undefined ? `database ${describeDatabaseUrl(config.databaseUrl)}` : `data ${config.dataDir}`;
  const processes = workers > 1 ? `, ${workers} workers` : '';
  // Last, so that a supervisor waiting for this line has everything above it.
  out.write(`Strongroom listening on ${url} (account ${d.accountId}, region ${d.homeRegion}, ${where}${processes})\n`);
}

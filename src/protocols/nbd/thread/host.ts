import cluster from 'node:cluster';
import { Worker } from 'node:worker_threads';
import { Logger, levels } from 'pino';
import { NbdConfig } from '../../../config/nbd.js';
import { ExportSession, VolumeExportsService } from '../../../core/volumes/volume-exports.js';
import { BlobStore, BlobWriter, readBlobBytes } from '../../../store/blob/blob-store.js';
import { VolumeStore } from '../../../store/metadata/volume-types.js';
import { Rpc } from './rpc.js';
import { ExportSpec, NbdThreadInit, STORE_METHODS } from './protocol.js';

export interface NbdThreadDeps {
  readonly exports: VolumeExportsService;
  readonly store: VolumeStore;
  readonly blobs: BlobStore;
  readonly durable: () => Promise<void>;
  /** The data dir when blobs live in its files (SQLite deployments): the thread reads and writes them itself. */
  readonly fileBlobsDir?: string;
  readonly log: Logger;
  readonly logLevel: string;
  /** Told when the thread exits other than by close() (superviseNbdThread starts it again). */
  readonly onUnexpectedExit?: () => void;
}

/** The running NBD server, in its thread. */
export interface NbdThread {
  /** nbd://HOST:PORT (nbds:// with TLS). */
  readonly url: string;
  /** Stops accepting, lets clients' in-flight requests finish and their devices close (flush), ends the thread. */
  close(): Promise<void>;
}

const ALLOWED_STORE_METHODS = new Set<string>(STORE_METHODS);

/** Set by the cluster primary in the environment of the one worker process that runs the NBD server. */
export const NBD_OWNER_ENV = 'STRONGROOM_NBD_OWNER';

/**
 * Set by the cluster primary, with NBD_OWNER_ENV, for a worker replacing the NBD owner when `--nbd-listen` asked
 * for port 0: the port the first owner was given, so that the replacement serves where the banner said.
 */
export const NBD_PORT_ENV = 'STRONGROOM_NBD_PORT';

/**
 * Whether this process runs the NBD server: a single process does; under node:cluster only the worker the
 * primary marked (NBD_OWNER_ENV) — the thread listens on the port itself, and one listener is all a port takes.
 */
export function nbdHere(): boolean {
  return !cluster.isWorker || process.env[NBD_OWNER_ENV] === '1';
}

/**
 * Starts the NBD server in a thread of its own (nbd-thread.ts says why) and answers its calls: opening exports
 * (VolumeExportsService.openSession: claim, data key, chunk map), usability checks, the metadata store and —
 * without blob files — the blob store. Snapshots flush a device open there (VolumeExportsService.flushElsewhere).
 */
export async function startNbdThread(config: NbdConfig, deps: NbdThreadDeps): Promise<NbdThread> {
  const init: NbdThreadInit = { nbd: config, logLevel: deps.logLevel, ...(deps.fileBlobsDir ? { fileBlobsDir: deps.fileBlobsDir } : {}) };
  // Without node:cluster's id, the thread's server listens itself (cluster's shared listening goes through the
  // process's IPC channel, which a thread does not have); under cluster one worker process runs it (main.ts).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_UNIQUE_ID'));
  const worker = new Worker(new URL('./nbd-thread.js', import.meta.url), { workerData: init, env });
  const sessions = new Map<number, ExportSession>();
  const writers = new Map<string, BlobWriter>();
  let nextSession = 1;
  let exited = false;
  let closing = false;

  const rpc = new Rpc(worker, async (method, args) => {
    switch (method) {
      case 'list':
        return deps.exports.list();
      case 'open': {
        const session = await deps.exports.openSession(args[0] as string);
        if (!session) return undefined;
        const id = nextSession++;
        sessions.set(id, session);
        const dataKey = Buffer.from(session.dataKey.reveal());
        session.dataKey.wipe();
        // postMessage copies the answer when this call resolves; this copy is wiped right after.
        setImmediate(() => dataKey.fill(0));
        return { session: id, volumeId: session.volumeId, size: session.size, dataKey, map: [...session.map.values()], checkEveryMs: session.checkEveryMs } satisfies ExportSpec;
      }
      case 'unusable': {
        const session = sessions.get(args[0] as number);
        return session ? session.unusable() : 'the export was closed';
      }
      case 'flushed': {
        const session = sessions.get(args[0] as number);
        return session?.flushed(args[1] as number);
      }
      case 'closed': {
        const id = args[0] as number;
        const session = sessions.get(id);
        sessions.delete(id);
        await session?.closed();
        return undefined;
      }
      case 'store': {
        const [name, params] = args as [string, unknown[]];
        if (!ALLOWED_STORE_METHODS.has(name)) throw new Error(`the NBD thread may not call store.${name}`);
        return (deps.store[name as (typeof STORE_METHODS)[number]] as (...a: unknown[]) => Promise<unknown>).apply(deps.store, params);
      }
      case 'durable':
        return deps.durable();
      case 'blob.readBytes': {
        const [id, start, length] = args as [string, number, number];
        return readBlobBytes(deps.blobs, id, start, length);
      }
      case 'blob.create': {
        const writer = await deps.blobs.create(args[0] as number | undefined);
        writers.set(writer.id, writer);
        return writer.id;
      }
      case 'blob.commit': {
        const [id, bytes, options] = args as [string, Uint8Array, { durable?: boolean }];
        const writer = writers.get(id);
        if (!writer) throw new Error(`no blob ${id} being written`);
        writers.delete(id);
        writer.stream.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        return writer.commit(options);
      }
      case 'blob.abort': {
        const writer = writers.get(args[0] as string);
        writers.delete(args[0] as string);
        return writer?.abort();
      }
      case 'blob.sync':
        return deps.blobs.sync?.(args[0] as string[]);
      case 'blob.size':
        return deps.blobs.size(args[0] as string);
      case 'blob.delete':
        return deps.blobs.delete(args[0] as string);
      case 'log': {
        const { level, msg, time: _time, pid: _pid, hostname: _host, ...fields } = JSON.parse(args[0] as string) as Record<string, unknown>;
        const label = levels.labels[level as number] as 'info' | 'warn' | 'error' | 'debug' | 'trace' | 'fatal' | undefined;
        deps.log[label ?? 'info'](fields, typeof msg === 'string' ? msg : '');
        return undefined;
      }
      default:
        throw new Error(`the main thread has no call ${method}`);
    }
  });

  const releaseAll = async () => {
    for (const w of writers.values()) await w.abort().catch(() => undefined);
    writers.clear();
    for (const s of sessions.values()) await s.closed().catch(() => undefined);
    sessions.clear();
  };
  worker.on('error', (err) => deps.log.error({ err }, 'nbd: the NBD thread failed'));
  worker.on('exit', (code) => {
    exited = true;
    rpc.failAll(new Error('the NBD thread exited'));
    if (!closing) deps.log.error({ code }, 'nbd: the NBD thread exited; its clients were disconnected and their unflushed writes lost');
    void releaseAll().then(() => {
      if (!closing) deps.onUnexpectedExit?.();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: { t?: string }) => {
      if (m?.t !== 'ready') return;
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      resolve();
    };
    const onExit = (code: number) => reject(new Error(`the NBD thread exited at start (code ${code})`));
    worker.on('message', onMessage);
    worker.once('exit', onExit);
  });
  let url: string;
  try {
    url = await rpc.call<string>('start');
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  deps.exports.flushElsewhere = (volumeId) => (exited ? Promise.resolve(false) : rpc.call<boolean>('flush', volumeId));
  deps.exports.stopElsewhere = (volumeId, reason, flushFirst) => (exited ? Promise.resolve() : rpc.call('stopDevice', volumeId, reason, flushFirst));
  return {
    url,
    async close() {
      closing = true;
      deps.exports.flushElsewhere = undefined;
      deps.exports.stopElsewhere = undefined;
      if (!exited) await rpc.call('stop').catch((err: unknown) => deps.log.error({ err }, 'nbd: stopping the NBD thread failed'));
      await worker.terminate();
      await releaseAll();
    },
  };
}

/**
 * Keeps the NBD thread running: one that exits other than by close() (a bug in it) is started again after
 * `restartDelayMs`, on the port it had (the URL clients were given stays right) — its clients were disconnected,
 * their devices' claims released and unflushed writes lost, as a crash of the whole server would lose them; a
 * start that fails is tried again after the same delay, until close().
 */
export async function superviseNbdThread(
  config: NbdConfig,
  deps: NbdThreadDeps,
  options: { start?: typeof startNbdThread; restartDelayMs?: number } = {},
): Promise<NbdThread> {
  const start = options.start ?? startNbdThread;
  const delay = options.restartDelayMs ?? 1_000;
  let closed = false;
  let port = config.port;
  let current: NbdThread | undefined;
  let restarting: NodeJS.Timeout | undefined;
  const launch = async (): Promise<NbdThread> => {
    const thread = await start({ ...config, port }, { ...deps, onUnexpectedExit: () => restartLater() });
    port = Number(new URL(thread.url).port);
    if (closed) {
      await thread.close();
    }
    return thread;
  };
  const restartLater = () => {
    if (closed || restarting) return;
    restarting = setTimeout(() => {
      restarting = undefined;
      if (closed) return;
      launch().then(
        (thread) => {
          current = thread;
          deps.log.warn({ url: thread.url }, 'nbd: the NBD thread was started again');
        },
        (err: unknown) => {
          deps.log.error({ err }, 'nbd: starting the NBD thread again failed; trying again');
          restartLater();
        },
      );
    }, delay);
    restarting.unref();
  };
  current = await launch();
  return {
    get url() {
      return current!.url;
    },
    async close() {
      closed = true;
      if (restarting) clearTimeout(restarting);
      await current?.close();
    },
  };
}


import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ChildServer, startChild } from './processes.js';
import { BENCH_ACCOUNT, BENCH_CREDENTIALS, BENCH_REGION } from './sigv4.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const STRONGROOM_BIN = join(REPO, 'bin', 'strongroom.js');

/**
 * Strongroom as `npm start` runs it (`strongroom serve` in its own process), in `dataDir`, with the bench's
 * known root credentials, account and region. Inherited STRONGROOM_* settings (TLS, regions, …) would
 * change what is measured: they are dropped.
 */
export function startStrongroom(opts: {
  name: string;
  dataDir: string;
  logFile: string;
  logLevel?: string;
  serveArgs?: readonly string[];
  cpuProfDir?: string | undefined;
  /** Settings of the run itself (e.g. the root of trust), set after the inherited ones are dropped. */
  env?: NodeJS.ProcessEnv;
}): Promise<ChildServer> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STRONGROOM_')));
  return startChild({
    name: opts.name,
    args: [
      ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []),
      STRONGROOM_BIN,
      'serve',
      '--port',
      '0',
      '--data-dir',
      opts.dataDir,
      // One process unless a bench asks for workers (serve's default is the machine's cores).
      ...(opts.serveArgs?.includes('--workers') ? [] : ['--workers', '1']),
      ...(opts.serveArgs ?? []),
    ],
    env: {
      ...env,
      STRONGROOM_ROOT_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
      STRONGROOM_ROOT_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
      STRONGROOM_ACCOUNT_ID: BENCH_ACCOUNT,
      STRONGROOM_REGION: BENCH_REGION,
      STRONGROOM_LOG_LEVEL: opts.logLevel ?? 'warn',
      ...opts.env,
    },
    logFile: opts.logFile,
    listening: /Strongroom listening on (https?:\/\/\S+)/,
    cwd: REPO,
  });
}

/** A positive number from the environment, or `fallback` when unset. */
export function positiveNumber(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got '${value}'`);
  return n;
}

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL cluster for the tests, started once per test process (node --test runs each test
 * file in its own process): initdb into a fresh temp dir, its own free port on 127.0.0.1 only, unix sockets
 * in the temp dir, password (SCRAM) authentication over TCP. Stopped and removed when the process exits — and,
 * if the process is killed before it can, by a watchdog that waits for it to go.
 *
 * PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the `postgres` user (`runuser`), which
 * owns the temp dir. Never assumes a cluster is already running; never touches one that is.
 */

export interface PostgresCluster {
  /** A new, empty database (ICU en-US collation); resolves to its URL (postgres://USER:PASS@127.0.0.1:PORT/DB). */
  createDatabase(): Promise<string>;
  /** Milliseconds initdb + start took in this process. */
  readonly startMs: number;
  /** Stops the server (`mode` as pg_ctl's -m: `immediate` is a crash), to test what a database outage does. */
  stop(mode?: 'fast' | 'immediate'): void;
  /** Starts it again on the same port, with the same data. */
  start(): void;
}

const SUPERUSER = 'strongroom_test';
const IS_ROOT = process.getuid?.() === 0;

/** The directory holding initdb/pg_ctl, or undefined when PostgreSQL's server binaries are not installed. */
function postgresBinDir(): string | undefined {
  const has = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'));
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (has(dir)) return dir;
  } catch {
    // pg_config is not on PATH (Debian puts it there only with libpq-dev): look where Debian installs servers.
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, 'bin')).find(has);
}

/**
 * Why the PostgreSQL tests cannot run here, or undefined when they can. Test files skip with this reason,
 * except under CI, where it is a failure (see `postgresSkip`).
 */
function postgresMissing(): string | undefined {
  if (!postgresBinDir()) return 'PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql';
  if (IS_ROOT && !userIds('postgres')) return 'running as root and there is no postgres user to run PostgreSQL as';
  return undefined;
}

/**
 * The `skip` option for a PostgreSQL suite: the reason when PostgreSQL is missing and CI is not set. Under CI a
 * missing PostgreSQL throws (the suite must run there: .ci/run installs it).
 */
export function postgresSkip(): string | false {
  const missing = postgresMissing();
  if (!missing) return false;
  if (process.env.CI) throw new Error(`${missing} (CI is set, so PostgreSQL must be installed)`);
  return `${missing}; skipped because CI is not set`;
}

let cluster: Promise<PostgresCluster> | undefined;

/** The process's cluster, started on first use. */
export function postgresCluster(): Promise<PostgresCluster> {
  cluster ??= startCluster();
  return cluster;
}

function userIds(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * A fresh temp dir for the cluster, owned by `owner` when given. TMPDIR when the postgres user can reach it and
 * the unix socket path fits (sun_path: 107 bytes), else /tmp (a root-only TMPDIR such as /root/tmp is common).
 */
function clusterDir(owner: { uid: number; gid: number } | undefined): string {
  for (const base of [tmpdir(), '/tmp']) {
    const dir = mkdtempSync(join(base, 'sr-pg-'));
    if (owner) chownSync(dir, owner.uid, owner.gid);
    const reachable = !owner || spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dir]).status === 0;
    if (reachable && join(dir, '.s.PGSQL.65535').length <= 107) return dir;
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error('no temp dir the postgres user can use');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function startCluster(): Promise<PostgresCluster> {
  const started = performance.now();
  const bin = postgresBinDir();
  if (!bin) throw new Error(postgresMissing());
  const owner = IS_ROOT ? userIds('postgres') : undefined;
  const dir = clusterDir(owner);
  const data = join(dir, 'data');
  // As root, everything PostgreSQL touches belongs to the postgres user; the temp dir stays 0700.
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = owner ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    const res = spawnSync(file, argv, { encoding: 'utf8', cwd: dir });
    if (res.status !== 0) throw new Error(`${cmd} failed (${res.status ?? res.signal}): ${res.stderr || res.stdout}`);
  };
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) chownSync(pwfile, owner.uid, owner.gid);

  const cleanup = () => {
    try {
      if (existsSync(join(data, 'postmaster.pid'))) run('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  process.once('exit', cleanup);

  try {
    // --no-sync: initdb skips its final fsync of a cluster that lives for one test process; the server
    // itself runs with fsync on (its default), as in production.
    run('initdb', ['-D', data, '-U', SUPERUSER, `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256',
      '--encoding=UTF8', '--no-sync', '--no-instructions']);
    rmSync(pwfile);
    // A watchdog outlives a killed test process (SIGKILL skips 'exit' handlers) and removes the cluster then.
    const stop = owner ? `runuser -u postgres -- '${join(bin, 'pg_ctl')}'` : `'${join(bin, 'pg_ctl')}'`;
    spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
      `${stop} stop -D '${data}' -m immediate >/dev/null 2>&1; rm -rf '${dir}'`], { detached: true, stdio: 'ignore' }).unref();

    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort(); // another process may take it before the server binds: retry then
      try {
        const start = () =>
          run('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', join(dir, 'server.log'), '-o',
            `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c max_connections=100 -c shared_buffers=32MB`]);
        start();
        const base = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
        return {
          createDatabase: () => createDatabase(base),
          startMs: Math.round(performance.now() - started),
          stop: (mode = 'fast') => run('pg_ctl', ['stop', '-D', data, '-m', mode, '-w']),
          start,
        };
      } catch (e) {
        lastError = new Error(`${(e as Error).message}\n${readLog(join(dir, 'server.log'))}`);
      }
    }
    throw lastError;
  } catch (e) {
    process.removeListener('exit', cleanup);
    cleanup();
    throw e;
  }
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

let databases = 0;

async function createDatabase(base: string): Promise<string> {
  const name = `t${process.pid}_${++databases}`;
  const admin = new pg.Client({ connectionString: `${base}/postgres` });
  await admin.connect();
  try {
    // name is ours (letters, digits, underscore). ICU's en-US collation, not the C locale initdb inherits on a
    // bare machine: databases in the field sort text by language rules ('a' < 'B'), and the stores must not
    // depend on byte order unless they ask for it.
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`);
  } finally {
    await admin.end();
  }
  return `${base}/${name}`;
}

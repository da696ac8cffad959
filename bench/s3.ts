/**
 * `npm run bench:s3`: S3 PUT and GET with server-side encryption (SSE-S3, SSE-KMS with and without a bucket
 * key, SSE-C over HTTPS) against Strongroom, next to a bare node:http(s) server that stores and streams the
 * same bodies as plain files (bench/bare-s3-server.ts, the floor), measured in the same run.
 *
 * - Large objects (BENCH_S3_LARGE_MIB, default 256 MiB): one streaming PUT then one GET per run with a
 *   node:http(s) client, MB/s of each (median of BENCH_REPEATS), and the Strongroom process's peak RSS
 *   (VmHWM, reset through /proc/<pid>/clear_refs before each transfer, and VmRSS sampled) for a 32 MiB and
 *   the large object: the memory must not grow with the object.
 * - 1 KiB objects: PUTs (a distinct key per request) and GETs (cycling over 1,000 stored keys) at
 *   BENCH_CONNECTIONS keep-alive connections for BENCH_DURATION seconds (wrk, else autocannon), ops/s
 *   medians; and the KMS calls Strongroom made for them, counted in its CloudTrail (LookupEvents): SSE-KMS
 *   makes a GenerateDataKey per PUT and a Decrypt per GET, a bucket key next to none.
 *
 * Every request is SigV4-signed in the header form with x-amz-content-sha256: UNSIGNED-PAYLOAD (what the
 * AWS SDKs send over HTTPS, and what a streaming client that cannot hash the body first sends); the
 * encryption comes from the bucket's default encryption (SSE-S3, aws:kms, aws:kms + BucketKeyEnabled) or,
 * for SSE-C, the customer-key headers of each request. The bare server gets the very same requests.
 *
 * Servers, each a child process with its own data dir under one temp dir (same disk):
 *   Strongroom over HTTP (SSE-S3, SSE-KMS) and over HTTPS (SSE-C needs TLS; self-signed cert via openssl);
 *   bare over HTTP and HTTPS (fsync of each file before the 200, as Strongroom fsyncs its blobs), and a
 *   bare HTTP server without fsync, shown for PUTs as a second, lower floor.
 *
 * Environment:
 *   BENCH_DURATION      seconds per small-object run (default 10)
 *   BENCH_CONNECTIONS   concurrent connections for small objects (default 50)
 *   BENCH_REPEATS       runs per measurement (default 3)
 *   BENCH_S3_LARGE_MIB  large object size in MiB (default 256)
 *   BENCH_LOADGEN       wrk or autocannon (default: wrk when it is on PATH)
 *   BENCH_CPU_PROF      a directory: run the Strongroom servers under `node --cpu-prof`, profiles kept there
 *   BENCH_S3_BACKEND    sqlite (default) or postgres: Strongroom's state, object bodies included, in PostgreSQL
 *                       (a throwaway cluster, a database per server), to set beside the SQLite figures
 *
 * Output: tables on stdout, then the results as one line of JSON (also written to .bench/s3.json).
 * The exit code is 1 when any request failed.
 */
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutBucketEncryptionCommand, S3Client, ServerSideEncryptionConfiguration } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ClientRequest, Agent as HttpAgent, IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LoadOptions, Measurement, Run, faults, summarize } from './support/load.js';
import { RequestPool, replayPoolAutocannon, replayPoolWrk } from './support/pool-load.js';
import { ChildServer, startChild } from './support/processes.js';
import { progress, runBench } from './support/run-bench.js';
import { positiveNumber, startStrongroom } from './support/strongroom.js';
import { S3Signer } from './support/s3-sign.js';
import { BENCH_CREDENTIALS, BENCH_REGION } from './support/sigv4.js';
import { wrkAvailable } from './support/wrk.js';
import { postgresCluster } from '../test/helpers/postgres.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BARE_SERVER = fileURLToPath(new URL('./bare-s3-server.js', import.meta.url));
const MIB = 1024 * 1024;
/** The issue's targets. */
const LARGE_TARGET_RATIO = 0.8;
const SMALL_KMS_BUCKET_KEY_TARGET_RATIO = 0.5;
/** The reference size for "memory flat in object size". */
const MEMORY_PROBE_MIB = 32;
/**
 * "Flat": the large object's peak RSS exceeds the 32 MiB object's by at most FLAT_SLACK_MIB plus this share of
 * the size difference (a buffering server grows by the whole difference; GC timing moves RSS by a few MiB).
 */
const FLAT_SHARE = 0.25;
const FLAT_SLACK_MIB = 16;
const SMALL_BYTES = 1024;
/** Objects stored per target for the small GETs to cycle over. */
const GET_KEYS = 1000;
/** SigV4 signatures are accepted for 15 minutes; pools are signed per run. */
const MAX_RUN_SECONDS = 14 * 60;
const CLIENT_AUTH = 'SigV4 header auth, x-amz-content-sha256: UNSIGNED-PAYLOAD';

interface Settings extends LoadOptions {
  readonly loadgen: 'wrk' | 'autocannon';
  readonly repeats: number;
  readonly warmupSeconds: number;
  readonly largeMiB: number;
  readonly cpuProfDir?: string;
  readonly backend: 'sqlite' | 'postgres';
}

type ModeName = 'SSE-S3' | 'SSE-KMS' | 'SSE-KMS + bucket key' | 'SSE-C';

/** Somewhere to send requests: a server, a bucket on it, and the headers each request carries. */
interface Target {
  readonly label: string;
  readonly server: ChildServer;
  readonly bucket: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Strongroom targets are watched (RSS) and checked (response encryption headers). */
  readonly strongroom: boolean;
}

interface Mode {
  readonly name: ModeName;
  readonly target: Target;
  /** The floor it is compared with (HTTP or HTTPS, same headers). */
  readonly floor: Target;
  /** What PUT must answer in x-amz-server-side-encryption(-customer-algorithm) and bucket-key-enabled. */
  readonly expect: Readonly<Record<string, string>>;
}

interface Servers {
  readonly http: ChildServer;
  readonly https: ChildServer;
  readonly bareHttp: ChildServer;
  readonly bareHttps: ChildServer;
  readonly bareNoFsync: ChildServer;
  readonly ca: Buffer;
}

interface Transfer {
  readonly mbps: number;
  readonly seconds: number;
  /** Strongroom's peak RSS during the transfer, MiB (undefined for the bare server). */
  readonly peakRssMiB?: number;
  readonly ok: boolean;
  readonly error?: string;
}

interface LargeRow {
  readonly mode: ModeName;
  readonly put: { strongroom: Transfer[]; bare: Transfer[]; bareNoFsync?: Transfer[]; ratio: number; median: number; bareMedian: number };
  readonly get: { strongroom: Transfer[]; bare: Transfer[]; ratio: number; median: number; bareMedian: number };
  /** Peak RSS (MiB) of the 32 MiB and of the large object, PUT and GET. */
  readonly memory: { probePut: number; probeGet: number; largePut: number; largeGet: number; flat: boolean };
}

interface SmallRow {
  readonly mode: ModeName;
  readonly put: Measurement;
  readonly get: Measurement;
  readonly putFloor: Measurement;
  readonly getFloor: Measurement;
  readonly putRatio: number;
  readonly getRatio: number;
  /** Distinct keys per PUT run; more PUTs than that overwrote keys. */
  readonly keysPerRun: number;
}

interface KmsCalls {
  readonly mode: ModeName;
  readonly puts: number;
  readonly gets: number;
  readonly generateDataKey: number;
  readonly decrypt: number;
}

async function settingsFromEnv(env: NodeJS.ProcessEnv): Promise<Settings> {
  const seconds = positiveNumber(env.BENCH_DURATION, 10, 'BENCH_DURATION');
  if (seconds > MAX_RUN_SECONDS) throw new Error(`BENCH_DURATION must be at most ${MAX_RUN_SECONDS} s (the SigV4 clock-skew window)`);
  const loadgen = env.BENCH_LOADGEN ?? ((await wrkAvailable()) ? 'wrk' : 'autocannon');
  if (loadgen !== 'wrk' && loadgen !== 'autocannon') throw new Error(`BENCH_LOADGEN must be wrk or autocannon, got '${loadgen}'`);
  const largeMiB = Math.round(positiveNumber(env.BENCH_S3_LARGE_MIB, 256, 'BENCH_S3_LARGE_MIB'));
  if (largeMiB > 5 * 1024) throw new Error('BENCH_S3_LARGE_MIB must be at most 5120 (S3 limits a single PUT to 5 GiB)');
  return {
    loadgen,
    seconds,
    connections: Math.round(positiveNumber(env.BENCH_CONNECTIONS, 50, 'BENCH_CONNECTIONS')),
    repeats: Math.round(positiveNumber(env.BENCH_REPEATS, 3, 'BENCH_REPEATS')),
    warmupSeconds: Math.min(2, seconds),
    largeMiB,
    ...(env.BENCH_CPU_PROF ? { cpuProfDir: resolve(env.BENCH_CPU_PROF) } : {}),
    backend: backendOf(env.BENCH_S3_BACKEND),
  };
}

function backendOf(v: string | undefined): Settings['backend'] {
  if (v === undefined || v === '' || v === 'sqlite') return 'sqlite';
  if (v === 'postgres') return 'postgres';
  throw new Error(`BENCH_S3_BACKEND must be sqlite or postgres, got '${v}'`);
}

// ---------------------------------------------------------------------------------------------- servers

function selfSignedCert(tmp: string): { cert: string; key: string } {
  const cert = join(tmp, 'cert.pem');
  const key = join(tmp, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], {
    stdio: 'ignore',
  });
  return { cert, key };
}

/** Strongroom at log level warn (as bench:kms measures), in its own data dir (and database, on PostgreSQL). */
async function startServer(tmp: string, name: string, tls: { cert: string; key: string } | undefined, settings: Settings): Promise<ChildServer> {
  const cpuProfDir = settings.cpuProfDir;
  const database = settings.backend === 'postgres' ? ['--database-url', await (await postgresCluster()).createDatabase()] : [];
  return startStrongroom({
    name: `strongroom ${name}${settings.backend === 'postgres' ? ' (PostgreSQL)' : ''}`,
    dataDir: join(tmp, `strongroom-${name}`),
    serveArgs: [...(tls ? ['--tls-cert', tls.cert, '--tls-key', tls.key] : []), ...database],
    cpuProfDir,
    logFile: join(tmp, `strongroom-${name}.log`),
  });
}

function startBare(tmp: string, name: string, args: readonly string[]): Promise<ChildServer> {
  return startChild({
    name: `bare ${name}`,
    args: [BARE_SERVER, join(tmp, `bare-${name}`), ...args],
    env: process.env,
    logFile: join(tmp, `bare-${name}.log`),
    listening: /bare-s3 listening on (https?:\/\/\S+)/,
    cwd: REPO,
  });
}

// ---------------------------------------------------------------------------------------------- fixture

const BUCKETS = { s3: 'bench-sse-s3', kms: 'bench-sse-kms', kmsBk: 'bench-sse-kms-bk', c: 'bench-sse-c' } as const;

/**
 * With the AWS SDKs, as the root user: a customer managed KMS key, and the buckets with their default
 * encryption — SSE-S3; aws:kms under the key; aws:kms under the key with BucketKeyEnabled — on the HTTP
 * server, and a bucket for SSE-C on the HTTPS one.
 */
async function createFixture(s: Servers): Promise<{ keyArn: string }> {
  const httpsHandler = new NodeHttpHandler({ httpsAgent: new HttpsAgent({ ca: s.ca }) });
  const common = { region: BENCH_REGION, credentials: BENCH_CREDENTIALS, maxAttempts: 1 };
  const kms = new KMSClient({ ...common, endpoint: s.http.url });
  const s3 = new S3Client({ ...common, endpoint: s.http.url, forcePathStyle: true });
  const s3tls = new S3Client({ ...common, endpoint: s.https.url, forcePathStyle: true, requestHandler: httpsHandler });
  try {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'bench:s3' }));
    const keyArn = KeyMetadata!.Arn!;
    const kmsDefault = (bucketKey: boolean): ServerSideEncryptionConfiguration => ({
      Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn }, BucketKeyEnabled: bucketKey }],
    });
    const configs: [string, ServerSideEncryptionConfiguration][] = [
      [BUCKETS.s3, { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] }],
      [BUCKETS.kms, kmsDefault(false)],
      [BUCKETS.kmsBk, kmsDefault(true)],
    ];
    for (const [bucket, config] of configs) {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: config }));
    }
    await s3tls.send(new CreateBucketCommand({ Bucket: BUCKETS.c }));
    return { keyArn };
  } finally {
    kms.destroy();
    s3.destroy();
    s3tls.destroy();
  }
}

function modesOf(s: Servers, keyArn: string): Mode[] {
  const customerKey = randomBytes(32);
  const sseC = {
    'x-amz-server-side-encryption-customer-algorithm': 'AES256',
    'x-amz-server-side-encryption-customer-key': customerKey.toString('base64'),
    'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(customerKey).digest('base64'),
  };
  const target = (server: ChildServer, bucket: string, headers: Record<string, string> = {}): Target => ({
    label: `${server.name} /${bucket}`,
    server,
    bucket,
    headers,
    strongroom: server === s.http || server === s.https,
  });
  const kmsExpect = { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': keyArn };
  return [
    { name: 'SSE-S3', target: target(s.http, BUCKETS.s3), floor: target(s.bareHttp, BUCKETS.s3), expect: { 'x-amz-server-side-encryption': 'AES256' } },
    { name: 'SSE-KMS', target: target(s.http, BUCKETS.kms), floor: target(s.bareHttp, BUCKETS.kms), expect: kmsExpect },
    {
      name: 'SSE-KMS + bucket key',
      target: target(s.http, BUCKETS.kmsBk),
      floor: target(s.bareHttp, BUCKETS.kmsBk),
      expect: { ...kmsExpect, 'x-amz-server-side-encryption-bucket-key-enabled': 'true' },
    },
    {
      name: 'SSE-C',
      target: target(s.https, BUCKETS.c, sseC),
      floor: target(s.bareHttps, BUCKETS.c, sseC),
      expect: { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key-md5': sseC['x-amz-server-side-encryption-customer-key-md5'] },
    },
  ];
}

// ---------------------------------------------------------------------------------------------- one request at a time

const signer = new S3Signer(BENCH_CREDENTIALS);

interface Response {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

/** One small request (body in memory), through `agent` (keep-alive) or a fresh connection. */
function send(t: Target, method: 'PUT' | 'GET', key: string, body: Buffer | undefined, ca: Buffer, agent?: HttpAgent): Promise<Response> {
  const url = new URL(t.server.url);
  const path = `/${t.bucket}/${key}`;
  const headers = { ...signer.sign(method, t.server.host, path, t.headers), ...(body ? { 'content-length': String(body.length) } : {}) };
  const tls = url.protocol === 'https:';
  return new Promise((resolvePromise, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(
      { hostname: url.hostname, port: url.port, method, path, headers, ...(agent ? { agent } : { agent: false }), ...(tls ? { ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * That each mode does what it says before it is measured: a PUT answers 200 with the mode's encryption
 * headers (Strongroom) and a GET returns the bytes; the floor answers 200 and the same bytes.
 */
async function probe(modes: readonly Mode[], ca: Buffer): Promise<void> {
  const body = randomBytes(SMALL_BYTES);
  for (const m of modes) {
    for (const t of [m.target, m.floor]) {
      const put = await send(t, 'PUT', 'probe', body, ca);
      if (put.status !== 200) throw new Error(`${m.name}: PUT on ${t.label} answered ${put.status}: ${put.body.toString('utf8').slice(0, 500)}`);
      if (t.strongroom) {
        for (const [name, value] of Object.entries(m.expect)) {
          if (put.headers[name] !== value) throw new Error(`${m.name}: PUT on ${t.label} answered ${name}: ${String(put.headers[name])}, expected ${value}`);
        }
      }
      const get = await send(t, 'GET', 'probe', undefined, ca);
      if (get.status !== 200 || !get.body.equals(body)) throw new Error(`${m.name}: GET on ${t.label} answered ${get.status} with other bytes: ${get.body.toString('utf8').slice(0, 300)}`);
    }
    progress(`${m.name}: PUT answers ${Object.entries(m.expect).map(([k, v]) => `${k.replace('x-amz-server-side-encryption', 'sse')}=${v.length > 40 ? '…' + v.slice(-12) : v}`).join(' ')}; GET returns the bytes`);
  }
}

// ---------------------------------------------------------------------------------------------- large objects

/** Peak RSS of a process over a span: VmHWM reset at the start (clear_refs 5), VmRSS sampled as a fallback. */
class RssWatch {
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;
  #max = 0;
  #resetOk = false;

  constructor(pid: number) {
    this.#pid = pid;
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      this.#resetOk = true;
    } catch {
      this.#resetOk = false;
    }
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), 25);
  }

  /** The peak, MiB. */
  stop(): number {
    clearInterval(this.#timer);
    this.#sample();
    const hwm = this.#resetOk ? statusKiB(this.#pid, 'VmHWM') : 0;
    return Math.max(this.#max, hwm) / 1024;
  }

  #sample(): void {
    this.#max = Math.max(this.#max, statusKiB(this.#pid, 'VmRSS'));
  }
}

function statusKiB(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * One streaming PUT of `size` bytes (the 1 MiB `pattern` over and over, written as the socket drains) or
 * GET of them (every byte compared with the pattern), on a fresh connection; MB/s from the first byte
 * sent to the answer (PUT) or to the last byte received (GET).
 */
async function transfer(t: Target, method: 'PUT' | 'GET', key: string, size: number, pattern: Buffer, ca: Buffer): Promise<Transfer> {
  const url = new URL(t.server.url);
  const path = `/${t.bucket}/${key}`;
  const tls = url.protocol === 'https:';
  const watch = t.strongroom && t.server.pid !== undefined ? new RssWatch(t.server.pid) : undefined;
  const started = process.hrtime.bigint();
  let error: string | undefined;
  try {
    await new Promise<void>((resolvePromise, reject) => {
      const headers = { ...signer.sign(method, t.server.host, path, t.headers), ...(method === 'PUT' ? { 'content-length': String(size) } : {}) };
      let answered = false;
      const req = (tls ? httpsRequest : httpRequest)(
        { hostname: url.hostname, port: url.port, method, path, headers, agent: false, ...(tls ? { ca } : {}) },
        (res) => {
          answered = true;
          const status = res.statusCode ?? 0;
          let received = 0;
          let mismatch = false;
          const errorBody: Buffer[] = [];
          res.on('data', (chunk: Buffer) => {
            if (status !== 200 || method === 'PUT') {
              errorBody.push(chunk);
              return;
            }
            if (!mismatch && !matchesPattern(pattern, received, chunk)) mismatch = true;
            received += chunk.length;
          });
          res.on('error', reject);
          res.on('end', () => {
            if (status !== 200) reject(new Error(`${method} answered ${status}: ${Buffer.concat(errorBody).toString('utf8').slice(0, 300)}`));
            else if (method === 'GET' && received !== size) reject(new Error(`GET returned ${received} bytes, expected ${size}`));
            else if (mismatch) reject(new Error('GET returned other bytes than were PUT'));
            else resolvePromise();
          });
        },
      );
      req.on('error', reject);
      if (method === 'GET') {
        req.end();
        return;
      }
      const write = async () => {
        for (let sent = 0; sent < size && !answered; ) {
          const n = Math.min(pattern.length, size - sent);
          const more = req.write(n === pattern.length ? pattern : pattern.subarray(0, n));
          sent += n;
          if (!more) await drainOrAnswer(req);
        }
        req.end();
      };
      write().catch(reject);
    });
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peak = watch?.stop();
  return { mbps: size / 1e6 / seconds, seconds, ok: error === undefined, ...(peak !== undefined ? { peakRssMiB: peak } : {}), ...(error ? { error } : {}) };
}

/** Until the request can take more bytes, or the server answered (early: an error) or the connection closed. */
function drainOrAnswer(req: ClientRequest): Promise<void> {
  return new Promise<void>((resolvePromise) => {
    const done = () => {
      req.off('drain', done).off('close', done).off('response', done);
      resolvePromise();
    };
    req.on('drain', done).on('close', done).on('response', done);
  });
}

/** Whether `chunk`, found at `offset` of the object, is the pattern repeated. */
function matchesPattern(pattern: Buffer, offset: number, chunk: Buffer): boolean {
  let at = 0;
  while (at < chunk.length) {
    const p = (offset + at) % pattern.length;
    const n = Math.min(pattern.length - p, chunk.length - at);
    if (pattern.compare(chunk, at, at + n, p, p + n) !== 0) return false;
    at += n;
  }
  return true;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
};

/**
 * A 32 MiB object through every target once (warm-up, and the memory reference), then the large object
 * BENCH_REPEATS times: per run every target in turn (rotating who goes first), PUT then GET of one key.
 */
async function benchLarge(modes: readonly Mode[], s: Servers, settings: Settings): Promise<LargeRow[]> {
  const pattern = randomBytes(MIB);
  const large = settings.largeMiB * MIB;
  const noFsync: Target = { label: 'bare (no fsync)', server: s.bareNoFsync, bucket: BUCKETS.s3, headers: {}, strongroom: false };
  // Floors shared by several modes are measured once per run.
  const targets: Target[] = [];
  const add = (t: Target) => {
    if (!targets.some((x) => x.server === t.server && x.bucket === t.bucket)) targets.push(t);
  };
  const floorHttp = modes.find((m) => m.name === 'SSE-S3')!.floor;
  add(floorHttp);
  add(noFsync);
  for (const m of modes) if (m.name !== 'SSE-KMS + bucket key') add(m.target);
  add(modes.find((m) => m.name === 'SSE-C')!.floor);
  const floorOf = (m: Mode) => (m.floor.server === s.bareHttp ? floorHttp : m.floor);

  const putOf = new Map<Target, Transfer[]>(targets.map((t) => [t, []]));
  const getOf = new Map<Target, Transfer[]>(targets.map((t) => [t, []]));
  const probeOf = new Map<Target, { put: Transfer; get: Transfer }>();

  progress(`large objects: ${MEMORY_PROBE_MIB} MiB through every target (warm-up, memory reference)`);
  for (const t of targets) {
    const put = await transfer(t, 'PUT', 'memory-probe', MEMORY_PROBE_MIB * MIB, pattern, s.ca);
    const get = await transfer(t, 'GET', 'memory-probe', MEMORY_PROBE_MIB * MIB, pattern, s.ca);
    probeOf.set(t, { put, get });
  }
  for (let rep = 0; rep < settings.repeats; rep++) {
    progress(`large objects: ${settings.largeMiB} MiB, run ${rep + 1}/${settings.repeats}`);
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(k + rep) % targets.length]!;
      putOf.get(t)!.push(await transfer(t, 'PUT', 'large', large, pattern, s.ca));
      getOf.get(t)!.push(await transfer(t, 'GET', 'large', large, pattern, s.ca));
    }
  }

  return modes
    .filter((m) => m.name !== 'SSE-KMS + bucket key')
    .map((m): LargeRow => {
      const floor = floorOf(m);
      const [sp, sg, bp, bg] = [putOf.get(m.target)!, getOf.get(m.target)!, putOf.get(floor)!, getOf.get(floor)!];
      const med = (xs: Transfer[]) => median(xs.map((x) => x.mbps));
      const probeT = probeOf.get(m.target)!;
      const peak = (xs: Transfer[]) => Math.max(...xs.map((x) => x.peakRssMiB ?? 0));
      const memory = { probePut: probeT.put.peakRssMiB ?? 0, probeGet: probeT.get.peakRssMiB ?? 0, largePut: peak(sp), largeGet: peak(sg) };
      const allowance = FLAT_SLACK_MIB + FLAT_SHARE * Math.max(0, settings.largeMiB - MEMORY_PROBE_MIB);
      const flat = memory.largePut - memory.probePut < allowance && memory.largeGet - memory.probeGet < allowance;
      return {
        mode: m.name,
        put: { strongroom: sp, bare: bp, ...(floor === floorHttp ? { bareNoFsync: putOf.get(noFsync)! } : {}), median: med(sp), bareMedian: med(bp), ratio: med(sp) / med(bp) },
        get: { strongroom: sg, bare: bg, median: med(sg), bareMedian: med(bg), ratio: med(sg) / med(bg) },
        memory: { ...memory, flat },
      };
    });
}

// ---------------------------------------------------------------------------------------------- small objects

const SMALL_BODY = randomBytes(SMALL_BYTES / 2).toString('hex'); // ASCII, for wrk's Lua script

/** PUTs of `size` distinct keys `<prefix>/<i>` (signed now, for this run). */
function putPool(t: Target, prefix: string, size: number): RequestPool {
  const now = new Date();
  return {
    method: 'PUT',
    headers: { ...t.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    body: SMALL_BODY,
    size,
    entry(i) {
      const path = `/${t.bucket}/${prefix}/${i}`;
      const h = signer.sign('PUT', t.server.host, path, t.headers, now);
      return { path, date: h['x-amz-date']!, authorization: h.authorization! };
    },
  };
}

/** GETs of the GET_KEYS keys `get/<i>`, round and round. */
function getPool(t: Target): RequestPool {
  const now = new Date();
  const entries = Array.from({ length: GET_KEYS }, (_, i) => {
    const path = `/${t.bucket}/get/${i}`;
    const h = signer.sign('GET', t.server.host, path, t.headers, now);
    return { path, date: h['x-amz-date']!, authorization: h.authorization! };
  });
  return { method: 'GET', headers: { ...t.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, body: '', size: GET_KEYS, entry: (i) => entries[i]! };
}

/** Stores the GET_KEYS objects the GETs read, 16 requests at a time over keep-alive connections. */
async function seedGetKeys(t: Target, ca: Buffer): Promise<void> {
  const agent = new URL(t.server.url).protocol === 'https:' ? new HttpsAgent({ keepAlive: true, ca }) : new HttpAgent({ keepAlive: true });
  const body = Buffer.from(SMALL_BODY, 'ascii');
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < GET_KEYS) {
          const i = next++;
          const res = await send(t, 'PUT', `get/${i}`, body, ca, agent);
          if (res.status !== 200) throw new Error(`seeding ${t.label} get/${i}: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
}

function replayPool(t: Target, pool: RequestPool, load: LoadOptions, loadgen: Settings['loadgen']): Promise<Run> {
  return loadgen === 'wrk' ? replayPoolWrk(t.server.url, pool, load) : replayPoolAutocannon(t.server.url, pool, load);
}

/** Requests sent to each Strongroom bucket (warm-ups included): the denominators of the KMS call counts. */
const requestsSent = new Map<string, { puts: number; gets: number }>();
function countSent(t: Target, method: 'PUT' | 'GET', n: number): void {
  if (!t.strongroom) return;
  const c = requestsSent.get(t.bucket) ?? { puts: 0, gets: 0 };
  if (method === 'PUT') c.puts += n;
  else c.gets += n;
  requestsSent.set(t.bucket, c);
}

/**
 * Every target (each mode's Strongroom bucket, the HTTP and HTTPS floors, and for PUTs the floor without
 * fsync) warmed up, then measured run by run, rotating who goes first.
 */
async function measureSmall(method: 'PUT' | 'GET', targets: readonly Target[], s: Settings): Promise<Map<Target, Measurement>> {
  const keysPerRun = poolSize(s);
  let runNo = 0;
  const pool = (t: Target) => (method === 'PUT' ? putPool(t, `p${runNo++}`, keysPerRun) : getPool(t));
  for (const t of targets) {
    const r = await replayPool(t, pool(t), { seconds: s.warmupSeconds, connections: s.connections }, s.loadgen);
    countSent(t, method, r.total);
  }
  const runs: Run[][] = targets.map(() => []);
  for (let rep = 0; rep < s.repeats; rep++) {
    progress(`1 KiB ${method}: run ${rep + 1}/${s.repeats} on ${targets.length} targets`);
    for (let k = 0; k < targets.length; k++) {
      const i = (k + rep) % targets.length;
      const t = targets[i]!;
      const r = await replayPool(t, pool(t), s, s.loadgen);
      countSent(t, method, r.total);
      runs[i]!.push(r);
    }
  }
  return new Map(targets.map((t, i) => [t, summarize(runs[i]!)]));
}

/** Distinct keys signed per PUT run: enough for ~25,000 PUTs/s, beyond which keys are overwritten. */
function poolSize(s: Settings): number {
  return Math.min(500_000, Math.ceil(s.seconds * 25_000));
}

async function benchSmall(modes: readonly Mode[], s: Servers, settings: Settings): Promise<{ rows: SmallRow[]; noFsyncPut: Measurement }> {
  const noFsync: Target = { label: 'bare (no fsync)', server: s.bareNoFsync, bucket: BUCKETS.s3, headers: {}, strongroom: false };
  const floorHttp = modes[0]!.floor;
  const floorHttps = modes.find((m) => m.name === 'SSE-C')!.floor;
  const floorOf = (m: Mode) => (m.floor.server === s.bareHttp ? floorHttp : floorHttps);
  const targets = [floorHttp, ...modes.map((m) => m.target), floorHttps];

  const puts = await measureSmall('PUT', [...targets, noFsync], settings);
  progress(`1 KiB GET: storing ${GET_KEYS} objects per target`);
  for (const t of targets) await seedGetKeys(t, s.ca);
  for (const t of targets) countSent(t, 'PUT', GET_KEYS);
  const gets = await measureSmall('GET', targets, settings);

  const rows = modes.map((m): SmallRow => {
    const [put, get, putFloor, getFloor] = [puts.get(m.target)!, gets.get(m.target)!, puts.get(floorOf(m))!, gets.get(floorOf(m))!];
    return { mode: m.name, put, get, putFloor, getFloor, putRatio: put.median.rps / putFloor.median.rps, getRatio: get.median.rps / getFloor.median.rps, keysPerRun: poolSize(settings) };
  });
  return { rows, noFsyncPut: puts.get(noFsync)! };
}

/**
 * The KMS calls Strongroom made on the S3 requests' behalf, from its own CloudTrail (LookupEvents, paged
 * through): GenerateDataKey and Decrypt events since `since`, attributed to a bucket by the encryption
 * context (aws:s3:arn names the object, or the bucket for a bucket key).
 */
async function countKmsCalls(server: ChildServer, since: Date, modes: readonly Mode[]): Promise<KmsCalls[]> {
  const client = new CloudTrailClient({ endpoint: server.url, region: BENCH_REGION, credentials: BENCH_CREDENTIALS, maxAttempts: 3 });
  const counts = new Map<string, { generateDataKey: number; decrypt: number }>();
  try {
    for (const eventName of ['GenerateDataKey', 'Decrypt'] as const) {
      let token: string | undefined;
      do {
        const out = await client.send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: eventName }],
            StartTime: since,
            EndTime: new Date(Date.now() + 60_000),
            MaxResults: 50,
            ...(token ? { NextToken: token } : {}),
          }),
        );
        for (const e of out.Events ?? []) {
          const record = JSON.parse(e.CloudTrailEvent ?? '{}') as { requestParameters?: { encryptionContext?: Record<string, string> } };
          const arn = record.requestParameters?.encryptionContext?.['aws:s3:arn'] ?? '';
          const bucket = /^arn:aws:s3:::([^/]+)/.exec(arn)?.[1] ?? '(other)';
          const c = counts.get(bucket) ?? { generateDataKey: 0, decrypt: 0 };
          if (eventName === 'GenerateDataKey') c.generateDataKey++;
          else c.decrypt++;
          counts.set(bucket, c);
        }
        token = out.NextToken;
      } while (token);
    }
  } finally {
    client.destroy();
  }
  return modes
    .filter((m) => m.name === 'SSE-KMS' || m.name === 'SSE-KMS + bucket key')
    .map((m) => {
      const c = counts.get(m.target.bucket) ?? { generateDataKey: 0, decrypt: 0 };
      const sent = requestsSent.get(m.target.bucket) ?? { puts: 0, gets: 0 };
      return { mode: m.name, puts: sent.puts, gets: sent.gets, ...c };
    });
}

// ---------------------------------------------------------------------------------------------- report

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const n1 = (x: number) => x.toFixed(x < 100 ? 1 : 0);
const ms = (v: number) => (v === 0 ? '<1' : v < 10 ? v.toFixed(1) : String(Math.round(v)));
const mbRuns = (xs: readonly Transfer[]) => xs.map((x) => n0(x.mbps)).join('/');

function transferFaults(rows: readonly LargeRow[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    const all: [string, Transfer[]][] = [
      [`${r.mode} PUT`, r.put.strongroom],
      [`${r.mode} GET`, r.get.strongroom],
      [`${r.mode} floor PUT`, r.put.bare],
      [`${r.mode} floor GET`, r.get.bare],
      ...(r.put.bareNoFsync ? [[`${r.mode} floor (no fsync) PUT`, r.put.bareNoFsync] as [string, Transfer[]]] : []),
    ];
    for (const [what, xs] of all) for (const x of xs) if (!x.ok) out.push(`${what}: ${x.error}`);
  }
  return out;
}

function smallFaults(rows: readonly SmallRow[], noFsync: Measurement): string[] {
  const out: string[] = [];
  const check = (what: string, m: Measurement) => {
    const f = faults(m);
    if (f.non2xx + f.errors + f.mismatches === 0) return;
    const codes = Object.entries(f.statusCodes).map(([c, n]) => `${c}: ${n}`).join(', ');
    out.push(`${what}: ${f.non2xx} non-2xx (${codes}), ${f.errors} connection errors/timeouts`);
  };
  for (const r of rows) {
    check(`1 KiB ${r.mode} PUT`, r.put);
    check(`1 KiB ${r.mode} GET`, r.get);
    check(`1 KiB ${r.mode} floor PUT`, r.putFloor);
    check(`1 KiB ${r.mode} floor GET`, r.getFloor);
  }
  check('1 KiB floor (no fsync) PUT', noFsync);
  return [...new Set(out)];
}

function report(large: LargeRow[], small: { rows: SmallRow[]; noFsyncPut: Measurement }, calls: KmsCalls[], s: Settings): boolean {
  const cpu = cpus();
  const machine = `Node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}`;
  console.log(`\nS3 with server-side encryption vs a bare node:http file server (${machine}); client: ${CLIENT_AUTH}; Strongroom on ${s.backend === 'postgres' ? 'PostgreSQL' : 'SQLite'}`);
  console.log(`floor: bare node:http(s), MD5 ETag, fsync before 200 (as Strongroom); SSE-C and its floor over HTTPS (TLS 1.3, self-signed), the rest over HTTP`);

  console.log(`\nLarge objects: ${s.largeMiB} MiB, one streaming node:http(s) PUT then GET per run, MB/s (10^6 B/s) median of ${s.repeats} (runs)`);
  console.log(`${'mode'.padEnd(22)} ${'PUT MB/s'.padStart(9)} ${'floor'.padStart(7)} ratio | ${'GET MB/s'.padStart(9)} ${'floor'.padStart(7)} ratio | peak RSS MiB, ${MEMORY_PROBE_MIB} → ${s.largeMiB} MiB object: PUT, GET`);
  for (const r of large) {
    console.log(
      `${r.mode.padEnd(22)} ${n0(r.put.median).padStart(9)} ${n0(r.put.bareMedian).padStart(7)} ${r.put.ratio.toFixed(2).padStart(5)} | ` +
        `${n0(r.get.median).padStart(9)} ${n0(r.get.bareMedian).padStart(7)} ${r.get.ratio.toFixed(2).padStart(5)} | ` +
        `${n0(r.memory.probePut)} → ${n0(r.memory.largePut)}, ${n0(r.memory.probeGet)} → ${n0(r.memory.largeGet)} (${r.memory.flat ? 'flat' : 'GROWS'})` +
        `   runs PUT ${mbRuns(r.put.strongroom)} vs ${mbRuns(r.put.bare)}, GET ${mbRuns(r.get.strongroom)} vs ${mbRuns(r.get.bare)}`,
    );
  }
  const nf = large.find((r) => r.put.bareNoFsync);
  if (nf?.put.bareNoFsync) console.log(`floor without fsync, HTTP PUT: ${n0(median(nf.put.bareNoFsync.map((x) => x.mbps)))} MB/s (runs ${mbRuns(nf.put.bareNoFsync)})`);

  console.log(
    `\n1 KiB objects: ${s.loadgen}, ${s.connections} connections, ${s.seconds} s per run, median of ${s.repeats}; PUT: a distinct key per request ` +
      `(${n0(small.rows[0]?.keysPerRun ?? 0)} per run, then overwritten), GET: ${GET_KEYS} keys round and round`,
  );
  console.log(`${'mode'.padEnd(22)} ${'PUT ops/s'.padStart(10)} ${'p50/p99 ms'.padStart(11)} ${'floor'.padStart(7)} ratio | ${'GET ops/s'.padStart(10)} ${'p50/p99 ms'.padStart(11)} ${'floor'.padStart(7)} ratio`);
  for (const r of small.rows) {
    console.log(
      `${r.mode.padEnd(22)} ${n0(r.put.median.rps).padStart(10)} ${`${ms(r.put.median.p50Ms)}/${ms(r.put.median.p99Ms)}`.padStart(11)} ${n0(r.putFloor.median.rps).padStart(7)} ${r.putRatio.toFixed(2).padStart(5)} | ` +
        `${n0(r.get.median.rps).padStart(10)} ${`${ms(r.get.median.p50Ms)}/${ms(r.get.median.p99Ms)}`.padStart(11)} ${n0(r.getFloor.median.rps).padStart(7)} ${r.getRatio.toFixed(2).padStart(5)}` +
        `   runs PUT ${r.put.runs.map((x) => x.rps).join('/')} vs ${r.putFloor.runs.map((x) => x.rps).join('/')}, GET ${r.get.runs.map((x) => x.rps).join('/')} vs ${r.getFloor.runs.map((x) => x.rps).join('/')}`,
    );
  }
  console.log(`floor without fsync, HTTP PUT: ${n0(small.noFsyncPut.median.rps)} ops/s (runs ${small.noFsyncPut.runs.map((x) => x.rps).join('/')})`);

  console.log(
    `\nKMS calls Strongroom made for the 1 KiB requests (its CloudTrail, LookupEvents; warm-ups and GET seeding included; ` +
      `the load generator counts only answered requests, so up to ${s.connections} per run still in flight when it stopped are not in the PUT/GET counts):`,
  );
  for (const c of calls) {
    console.log(`${c.mode.padEnd(22)} GenerateDataKey ${n0(c.generateDataKey)} for ${n0(c.puts)} PUTs; Decrypt ${n0(c.decrypt)} for ${n0(c.gets)} GETs`);
  }

  const problems = [...transferFaults(large), ...smallFaults(small.rows, small.noFsyncPut)];
  if (problems.length > 0) {
    console.log('\nERRORS: the figures above include failed requests:');
    for (const p of problems) console.log(`  ${p}`);
  }

  const targets = [
    ...large.flatMap((r) => [
      { target: `large ${r.mode} PUT ≥ ${LARGE_TARGET_RATIO}× floor`, value: r.put.ratio, met: r.put.ratio >= LARGE_TARGET_RATIO },
      { target: `large ${r.mode} GET ≥ ${LARGE_TARGET_RATIO}× floor`, value: r.get.ratio, met: r.get.ratio >= LARGE_TARGET_RATIO },
      { target: `large ${r.mode} memory flat in object size`, value: Math.max(r.memory.largePut - r.memory.probePut, r.memory.largeGet - r.memory.probeGet), met: r.memory.flat },
    ]),
    ...small.rows
      .filter((r) => r.mode === 'SSE-KMS + bucket key')
      .map((r) => ({ target: `1 KiB SSE-KMS + bucket key PUT ≥ ${SMALL_KMS_BUCKET_KEY_TARGET_RATIO}× floor`, value: r.putRatio, met: r.putRatio >= SMALL_KMS_BUCKET_KEY_TARGET_RATIO })),
  ];
  console.log('\nTargets:');
  for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'NOT met'} ${t.target} (${t.target.includes('memory') ? `+${n1(t.value)} MiB` : `${t.value.toFixed(2)}×`})`);

  const json = {
    settings: {
      loadgen: s.loadgen,
      seconds: s.seconds,
      connections: s.connections,
      repeats: s.repeats,
      largeMiB: s.largeMiB,
      backend: s.backend,
      memoryProbeMiB: MEMORY_PROBE_MIB,
      smallBytes: SMALL_BYTES,
      client: CLIENT_AUTH,
      floor: 'bare node:http(s), MD5 ETag, fsync before 200',
    },
    machine: { node: process.version, cpus: cpu.length, cpuModel: cpu[0]?.model.trim() },
    ok: problems.length === 0,
    large: large.map((r) => ({
      mode: r.mode,
      put: { mbps: round(r.put.median), floorMbps: round(r.put.bareMedian), ratio: round(r.put.ratio, 3), runs: r.put.strongroom.map(tj), floorRuns: r.put.bare.map(tj), ...(r.put.bareNoFsync ? { floorNoFsyncRuns: r.put.bareNoFsync.map(tj) } : {}) },
      get: { mbps: round(r.get.median), floorMbps: round(r.get.bareMedian), ratio: round(r.get.ratio, 3), runs: r.get.strongroom.map(tj), floorRuns: r.get.bare.map(tj) },
      peakRssMiB: { [`put${MEMORY_PROBE_MIB}`]: round(r.memory.probePut), [`get${MEMORY_PROBE_MIB}`]: round(r.memory.probeGet), [`put${s.largeMiB}`]: round(r.memory.largePut), [`get${s.largeMiB}`]: round(r.memory.largeGet), flat: r.memory.flat },
    })),
    small: small.rows.map((r) => ({ mode: r.mode, putRatio: round(r.putRatio, 3), getRatio: round(r.getRatio, 3), put: r.put, putFloor: r.putFloor, get: r.get, getFloor: r.getFloor, keysPerRun: r.keysPerRun })),
    smallFloorNoFsyncPut: small.noFsyncPut,
    kmsCalls: calls,
    targets: targets.map((t) => ({ ...t, value: round(t.value, 3) })),
  };
  mkdirSync(join(REPO, '.bench'), { recursive: true });
  writeFileSync(join(REPO, '.bench', 's3.json'), JSON.stringify(json, null, 2) + '\n');
  console.log(JSON.stringify(json));
  return problems.length === 0;
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const tj = (x: Transfer) => ({ mbps: round(x.mbps), seconds: round(x.seconds, 3), ...(x.peakRssMiB !== undefined ? { peakRssMiB: round(x.peakRssMiB) } : {}), ...(x.error ? { error: x.error } : {}) });

// ---------------------------------------------------------------------------------------------- main

async function bench(tmp: string, settings: Settings): Promise<boolean> {
  const tls = selfSignedCert(tmp);
  const children: ChildServer[] = [];
  const start = async (p: Promise<ChildServer>) => {
    const c = await p;
    children.push(c);
    return c;
  };
  try {
    const servers: Servers = {
      http: await start(startServer(tmp, 'http', undefined, settings)),
      https: await start(startServer(tmp, 'https', tls, settings)),
      bareHttp: await start(startBare(tmp, 'http', [])),
      bareHttps: await start(startBare(tmp, 'https', ['--tls-cert', tls.cert, '--tls-key', tls.key])),
      bareNoFsync: await start(startBare(tmp, 'nofsync', ['--no-fsync'])),
      ca: readFileSync(tls.cert),
    };
    for (const c of children) progress(`${c.name}: ${c.url} (pid ${c.pid})`);
    const since = new Date(Date.now() - 1000);
    const { keyArn } = await createFixture(servers);
    const modes = modesOf(servers, keyArn);
    await probe(modes, servers.ca);

    const large = await benchLarge(modes, servers, settings);
    const small = await benchSmall(modes, servers, settings);
    progress('counting KMS calls in the CloudTrail (LookupEvents)');
    await sleep(100);
    const calls = await countKmsCalls(servers.http, since, modes);
    return report(large, small, calls, settings);
  } finally {
    for (const c of children.reverse()) await c.stop();
  }
}

runBench('bench:s3', 'strongroom-bench-s3-', () => settingsFromEnv(process.env), bench);

/**
 * `npm run bench:xks`: latency of external key stores, one call at a time (what AWS KMS's 250 ms timeout for each
 * XKS proxy call is about), with the baselines measured in the same run:
 *
 * (a) Strongroom as an XKS proxy: Encrypt calls signed with SigV4 service `kms-xks-proxy` (each signed afresh,
 *     outside the timed part, as AWS KMS signs each call), over a new TCP connection per call and over one kept-alive
 *     connection (as KMS keeps them). Floor: a bare node:http server answering the proxy's Encrypt response bytes
 *     over the same kind of connection (bench/bare-server.ts) — what HTTP alone costs on this machine.
 * (b) A second Strongroom whose KMS uses the first through an external key store (EXTERNAL_KEY_STORE, reached with
 *     STRONGROOM_XKS_CONNECT_TO and STRONGROOM_XKS_ALLOW_HTTP, the default 250 ms timeout): KMS Encrypt of a key in the
 *     external key store next to KMS Encrypt of an ordinary key of the same server (the baseline), both as signed
 *     KMS requests over a kept-alive connection, as the SDKs send them.
 *
 * Every round makes BENCH_XKS_CALLS calls of each of the six workloads, interleaved call by call (the order rotated
 * each call) so that a slow patch of the machine hits them all alike; BENCH_REPEATS rounds after a warm-up round.
 * The percentiles are over all the calls of all the rounds (nearest rank), with the spread of the rounds' p99s. The
 * proxy runs at log level info (it logs each call's request metadata, as an operator would keep it) and its access
 * log gives its own time per request: for the bench's calls and for the calls KMS made in (b).
 *
 * Environment:
 *   BENCH_XKS_CALLS  calls per workload per round (default 200)
 *   BENCH_REPEATS    rounds (default 5)
 *
 * Output: a table on stdout, then the results as one line of JSON (also written to .bench/xks.json).
 * The exit code is 1 when any call failed (a KMS call through the proxy that hit the 250 ms timeout included).
 */
import { ConnectCustomKeyStoreCommand, CreateCustomKeyStoreCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { SignatureV4 } from '@smithy/signature-v4';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CannedResponses } from './support/canned.js';
import { ChildServer, startChild } from './support/processes.js';
import { progress, runBench } from './support/run-bench.js';
import { positiveNumber, startStrongroom } from './support/strongroom.js';
import { BENCH_ACCOUNT, BENCH_CREDENTIALS, BENCH_REGION, NodeSha256, signKmsRequest, signPost } from './support/sigv4.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BARE_SERVER = fileURLToPath(new URL('./bare-server.js', import.meta.url));
/** AWS KMS waits 250 ms for each XKS proxy call (the XKS proxy API spec's "KMS Considerations"). */
const AWS_XKS_TIMEOUT_MS = 250;
/** The bench's proxy credential, in the format AWS KMS accepts (access key id A-Z2-7, 20-30; secret 43-64 base64). */
const XKS_BENCH_CREDENTIAL = { accessKeyId: 'XKSBENCHACCESSKEY234567A', secretAccessKey: Buffer.alloc(32, 0x5a).toString('base64') } as const;
const XKS_URI_PATH = `/_strongroom/xks/${BENCH_ACCOUNT}/kms/xks/v1`;
/** The external key store's endpoint host; STRONGROOM_XKS_CONNECT_TO sends it to the proxy's loopback port. */
const XKS_HOST = 'xks.bench.internal';
/** The principal the bench's own proxy calls name (KMS's calls name the root user). */
const BENCH_PRINCIPAL = `arn:aws:iam::${BENCH_ACCOUNT}:user/bench-xks`;
/** 32 bytes: a data key's size, what KMS mostly encrypts. */
const PLAINTEXT = Buffer.alloc(32, 7);

interface Settings {
  readonly calls: number;
  readonly repeats: number;
}

interface Prepared {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

interface Answer {
  readonly status: number;
  readonly body: Buffer;
  readonly requestId: string | undefined;
}

interface Workload {
  readonly part: 'proxy' | 'kms';
  readonly label: string;
  readonly url: string;
  readonly agent: Agent | false;
  /** Signs the next call (not timed). */
  prepare(): Promise<Prepared>;
  /** Why an answer is wrong, or undefined. */
  check(a: Answer): string | undefined;
}

interface Stats {
  readonly calls: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

interface Row extends Stats {
  readonly part: 'proxy' | 'kms';
  readonly label: string;
  readonly roundP99s: readonly number[];
  readonly failures: number;
}

function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  return {
    calls: Math.round(positiveNumber(env.BENCH_XKS_CALLS, 200, 'BENCH_XKS_CALLS')),
    repeats: Math.round(positiveNumber(env.BENCH_REPEATS, 5, 'BENCH_REPEATS')),
  };
}

/** Nearest-rank percentile of sorted values. */
function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))]!;
}

function stats(values: readonly number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  return { calls: s.length, p50: pct(s, 0.5), p90: pct(s, 0.9), p99: pct(s, 0.99), max: s[s.length - 1]! };
}

/** One POST; resolves when the whole answer is read. */
function post(baseUrl: string, req: Prepared, agent: Agent | false): Promise<Answer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const r = httpRequest({ hostname, port, method: 'POST', path: req.path, headers: { ...req.headers, 'content-length': String(req.body.length) }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const id = res.headers['x-amzn-requestid'];
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), requestId: typeof id === 'string' ? id : undefined });
      });
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

const xksSigner = new SignatureV4({ service: 'kms-xks-proxy', region: BENCH_REGION, credentials: XKS_BENCH_CREDENTIAL, sha256: NodeSha256 });

/** A proxy Encrypt of PLAINTEXT under `keyId`, signed now for `host` as AWS KMS signs it. */
async function signProxyEncrypt(host: string, keyId: string, keyArn: string, n: number): Promise<Prepared> {
  const path = `${XKS_URI_PATH}/keys/${keyId}/encrypt`;
  const body = Buffer.from(
    JSON.stringify({
      requestMetadata: { awsPrincipalArn: BENCH_PRINCIPAL, kmsOperation: 'Encrypt', kmsRequestId: `bench-${n}`, kmsKeyArn: keyArn },
      plaintext: PLAINTEXT.toString('base64'),
      encryptionAlgorithm: 'AES_GCM',
    }),
  );
  return { path, headers: await signPost(xksSigner, host, path, { 'content-type': 'application/json' }, body), body };
}

/** A proxy Encrypt answer: 200 with a ciphertext as long as the plaintext, a 12-byte IV and a 16-byte tag. */
function checkProxyEncrypt(a: Answer): string | undefined {
  if (a.status !== 200) return `status ${a.status}: ${a.body.toString().slice(0, 300)}`;
  const j = JSON.parse(a.body.toString()) as Record<string, string>;
  const len = (k: string) => Buffer.from(j[k] ?? '', 'base64').length;
  if (len('ciphertext') !== PLAINTEXT.length || len('initializationVector') !== 12 || len('authenticationTag') !== 16) return `not an Encrypt answer: ${a.body.toString().slice(0, 300)}`;
  return undefined;
}

function checkKmsEncrypt(keyArn: string): (a: Answer) => string | undefined {
  return (a) => {
    if (a.status !== 200) return `status ${a.status}: ${a.body.toString().slice(0, 300)}`;
    const j = JSON.parse(a.body.toString()) as { KeyId?: string; CiphertextBlob?: string };
    return j.KeyId === keyArn && j.CiphertextBlob ? undefined : `not an Encrypt answer of ${keyArn}: ${a.body.toString().slice(0, 300)}`;
  };
}

async function startServers(tmp: string): Promise<{ proxy: ChildServer; kmsServer: ChildServer }> {
  const credentialsFile = join(tmp, 'xks-credentials.json');
  writeFileSync(credentialsFile, JSON.stringify([{ accountId: BENCH_ACCOUNT, ...XKS_BENCH_CREDENTIAL }]), { mode: 0o600 });
  const proxy = await startStrongroom({
    name: 'strongroom (XKS proxy)',
    dataDir: join(tmp, 'proxy-data'),
    logFile: join(tmp, 'proxy.log'),
    logLevel: 'info',
    env: { STRONGROOM_XKS_PROXY_CREDENTIALS_FILE: credentialsFile },
  });
  const kmsServer = await startStrongroom({
    name: 'strongroom (KMS)',
    dataDir: join(tmp, 'kms-data'),
    logFile: join(tmp, 'kms.log'),
    env: { STRONGROOM_XKS_ALLOW_HTTP: 'true', STRONGROOM_XKS_CONNECT_TO: `${XKS_HOST}=127.0.0.1:${new URL(proxy.url).port}` },
  });
  return { proxy, kmsServer };
}

/** The proxy's key; the KMS server's external key store (connected), its key there and an ordinary key. */
async function createKeys(proxy: ChildServer, kmsServer: ChildServer) {
  const client = (url: string) => new KMSClient({ endpoint: url, region: BENCH_REGION, credentials: BENCH_CREDENTIALS, maxAttempts: 1 });
  const proxyKms = client(proxy.url);
  const kms = client(kmsServer.url);
  try {
    const proxyKey = (await proxyKms.send(new CreateKeyCommand({ Description: 'bench:xks external key' }))).KeyMetadata!;
    const { CustomKeyStoreId } = await kms.send(
      new CreateCustomKeyStoreCommand({
        CustomKeyStoreName: 'bench-xks',
        CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
        XksProxyUriEndpoint: `https://${XKS_HOST}`,
        XksProxyUriPath: XKS_URI_PATH,
        XksProxyConnectivity: 'PUBLIC_ENDPOINT',
        XksProxyAuthenticationCredential: { AccessKeyId: XKS_BENCH_CREDENTIAL.accessKeyId, RawSecretAccessKey: XKS_BENCH_CREDENTIAL.secretAccessKey },
      }),
    );
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId }));
    const xksKey = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId, XksKeyId: proxyKey.KeyId, Description: 'bench:xks' }))).KeyMetadata!;
    const ordinaryKey = (await kms.send(new CreateKeyCommand({ Description: 'bench:xks baseline' }))).KeyMetadata!;
    return { proxyKey: { id: proxyKey.KeyId!, arn: proxyKey.Arn! }, xksKeyArn: xksKey.Arn!, ordinaryKeyArn: ordinaryKey.Arn! };
  } finally {
    proxyKms.destroy();
    kms.destroy();
  }
}

function startBare(tmp: string, canned: CannedResponses): Promise<ChildServer> {
  const file = join(tmp, 'responses.json');
  writeFileSync(file, JSON.stringify(canned));
  return startChild({ name: 'bare node:http', args: [BARE_SERVER, file], env: process.env, logFile: join(tmp, 'bare.log'), listening: /bare listening on (http:\/\/\S+)/, cwd: REPO });
}

/** Response headers to replay verbatim (node:http writes Date, Connection and Keep-Alive itself). */
function replayable(headers: NodeJS.Dict<string | string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !['date', 'connection', 'keep-alive'].includes(name)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/** One proxy Encrypt, kept with its headers, as the floor's answer. */
async function captureProxyAnswer(proxy: ChildServer, keyId: string, keyArn: string): Promise<CannedResponses> {
  const req = await signProxyEncrypt(proxy.host, keyId, keyArn, -1);
  const { hostname, port } = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    const r = httpRequest({ hostname, port, method: 'POST', path: req.path, headers: { ...req.headers, 'content-length': String(req.body.length) }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const problem = checkProxyEncrypt({ status: res.statusCode ?? 0, body, requestId: undefined });
        if (problem) reject(new Error(`the proxy's Encrypt failed: ${problem}`));
        else resolve({ '*': { status: res.statusCode!, headers: replayable(res.headers), body: body.toString('base64') } });
      });
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Calls of one round, interleaved call by call; returns each workload's times (ms) and failures. */
async function round(workloads: readonly Workload[], calls: number, seen: Map<Workload, string[]>): Promise<{ times: number[][]; failures: string[][] }> {
  const times: number[][] = workloads.map(() => []);
  const failures: string[][] = workloads.map(() => []);
  for (let i = 0; i < calls; i++) {
    for (let k = 0; k < workloads.length; k++) {
      const w = workloads[(k + i) % workloads.length]!;
      const idx = workloads.indexOf(w);
      const req = await w.prepare();
      const t = performance.now();
      let problem: string | undefined;
      try {
        const a = await post(w.url, req, w.agent);
        times[idx]!.push(performance.now() - t);
        problem = w.check(a);
        if (a.requestId) seen.get(w)?.push(a.requestId);
      } catch (err) {
        problem = (err as Error).message;
      }
      if (problem) failures[idx]!.push(problem);
    }
  }
  return { times, failures };
}

/** The proxy's own time (request read to response written, its access log) per request id, and who each XKS call was for. */
function proxyLog(file: string): { ms: Map<string, number>; kmsRequestToProxyRequest: Map<string, string> } {
  const ms = new Map<string, number>();
  const kmsRequestToProxyRequest = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const l = JSON.parse(line) as { msg?: string; requestId?: string; ms?: number; xks?: { kmsRequestId?: string } };
    if (l.msg === 'request' && l.requestId && typeof l.ms === 'number') ms.set(l.requestId, l.ms);
    if (l.msg === 'xks proxy request' && l.requestId && l.xks?.kmsRequestId) kmsRequestToProxyRequest.set(l.xks.kmsRequestId, l.requestId);
  }
  return { ms, kmsRequestToProxyRequest };
}

const f = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

async function bench(tmp: string, s: Settings): Promise<boolean> {
  const { proxy, kmsServer } = await startServers(tmp);
  progress(`XKS proxy at ${proxy.url}, KMS at ${kmsServer.url} (${XKS_HOST} → the proxy)`);
  const keys = await createKeys(proxy, kmsServer);
  const bare = await startBare(tmp, await captureProxyAnswer(proxy, keys.proxyKey.id, keys.proxyKey.arn));
  const proxyAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const bareAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const kmsAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  let n = 0;
  const proxyCall = (label: string, url: string, agent: Agent | false, check: Workload['check']): Workload => ({
    part: 'proxy',
    label,
    url,
    agent,
    // Signed for the proxy's host either way: the floor answers without looking.
    prepare: () => signProxyEncrypt(proxy.host, keys.proxyKey.id, keys.proxyKey.arn, n++),
    check,
  });
  const floorCheck: Workload['check'] = (a) => (a.status === 200 ? undefined : `status ${a.status}`);
  const kmsCall = (label: string, keyArn: string): Workload => ({
    part: 'kms',
    label,
    url: kmsServer.url,
    agent: kmsAgent,
    prepare: async () => {
      const r = await signKmsRequest(kmsServer.host, 'Encrypt', { KeyId: keyArn, Plaintext: PLAINTEXT.toString('base64') });
      return { path: r.path, headers: r.headers, body: Buffer.from(r.body) };
    },
    check: checkKmsEncrypt(keyArn),
  });
  const workloads: Workload[] = [
    proxyCall('XKS proxy Encrypt, new connection', proxy.url, false, checkProxyEncrypt),
    proxyCall('floor (bare node:http), new connection', bare.url, false, floorCheck),
    proxyCall('XKS proxy Encrypt, kept-alive', proxy.url, proxyAgent, checkProxyEncrypt),
    proxyCall('floor (bare node:http), kept-alive', bare.url, bareAgent, floorCheck),
    kmsCall('KMS Encrypt, ordinary key (baseline)', keys.ordinaryKeyArn),
    kmsCall('KMS Encrypt, external key store key', keys.xksKeyArn),
  ];
  const [proxyFresh, , proxyKept, , , kmsXks] = workloads as [Workload, Workload, Workload, Workload, Workload, Workload];
  const seen = new Map<Workload, string[]>([proxyFresh, proxyKept, kmsXks].map((w) => [w, []]));

  const load = loadavg()[0]!;
  progress(`warm-up round (${s.calls} calls each, not counted)`);
  await round(workloads, s.calls, new Map());
  const times: number[][] = workloads.map(() => []);
  const roundP99s: number[][] = workloads.map(() => []);
  const failures: string[][] = workloads.map(() => []);
  for (let r = 0; r < s.repeats; r++) {
    progress(`round ${r + 1}/${s.repeats}: ${s.calls} calls of each of ${workloads.length} workloads, interleaved`);
    const res = await round(workloads, s.calls, seen);
    res.times.forEach((t, i) => {
      times[i]!.push(...t);
      if (t.length) roundP99s[i]!.push(stats(t).p99);
    });
    res.failures.forEach((x, i) => failures[i]!.push(...x));
  }
  for (const a of [proxyAgent, bareAgent, kmsAgent]) a.destroy();
  await Promise.all([bare.stop(), kmsServer.stop(), proxy.stop()]); // the proxy's log is complete once it has stopped

  const rows: Row[] = workloads.map((w, i) => ({ part: w.part, label: w.label, ...stats(times[i]!), roundP99s: roundP99s[i]!, failures: failures[i]!.length }));
  const log = proxyLog(proxy.logFile);
  const served = (ids: readonly string[]) => stats(ids.map((id) => log.ms.get(id)).filter((x): x is number => x !== undefined));
  const inProxy = {
    'bench, new connection': served(seen.get(proxyFresh)!),
    'bench, kept-alive': served(seen.get(proxyKept)!),
    'KMS\'s calls for the external key store key': served(seen.get(kmsXks)!.map((id) => log.kmsRequestToProxyRequest.get(id)).filter((x): x is string => x !== undefined)),
  };
  return report(rows, inProxy, s, load, failures.flat());
}

function report(rows: readonly Row[], inProxy: Record<string, Stats>, s: Settings, load: number, problems: readonly string[]): boolean {
  const by = (label: string) => rows.find((r) => r.label.startsWith(label))!;
  const LABEL = Math.max(...rows.map((r) => r.label.length));
  console.log(`\nbench:xks — one call at a time, ${s.calls} calls × ${s.repeats} rounds per workload (interleaved), load average ${load.toFixed(1)} at start`);
  console.log(`${'workload'.padEnd(LABEL)}   p50 ms   p90 ms   p99 ms   max ms  p99 of rounds (ms)  failures`);
  let part = '';
  for (const r of rows) {
    if (r.part !== part) console.log(r.part === 'proxy' ? '(a) Strongroom as an XKS proxy (SigV4 kms-xks-proxy), against a bare node:http floor' : '(b) a second Strongroom\'s KMS, external key store key against an ordinary key');
    part = r.part;
    const spread = `${f(Math.min(...r.roundP99s))}–${f(Math.max(...r.roundP99s))}`;
    console.log(`${r.label.padEnd(LABEL)} ${f(r.p50).padStart(8)} ${f(r.p90).padStart(8)} ${f(r.p99).padStart(8)} ${f(r.max).padStart(8)}  ${spread.padStart(18)}  ${r.failures}`);
  }
  const ratio = (a: Row, b: Row) => ({ p50: a.p50 / b.p50, p90: a.p90 / b.p90, p99: a.p99 / b.p99 });
  const ratios = {
    'proxy / floor, new connection': ratio(by('XKS proxy Encrypt, new'), by('floor (bare node:http), new')),
    'proxy / floor, kept-alive': ratio(by('XKS proxy Encrypt, kept'), by('floor (bare node:http), kept')),
    'external key store / ordinary key': ratio(by('KMS Encrypt, external'), by('KMS Encrypt, ordinary')),
  };
  console.log('\nRatios (p50 / p90 / p99):');
  for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(36)} ${v.p50.toFixed(2)} / ${v.p90.toFixed(2)} / ${v.p99.toFixed(2)}`);
  console.log('\nThe proxy\'s own time per Encrypt (its access log: request read to response written), p50 / p90 / p99 ms:');
  for (const [k, v] of Object.entries(inProxy)) console.log(`  ${k.padEnd(44)} ${f(v.p50)} / ${f(v.p90)} / ${f(v.p99)} (${v.calls} calls)`);
  const share = {
    'proxy round trip p99, new connection': by('XKS proxy Encrypt, new').p99,
    'proxy round trip p99, kept-alive': by('XKS proxy Encrypt, kept').p99,
    'proxy\'s own p99 for KMS\'s calls': inProxy['KMS\'s calls for the external key store key']!.p99,
  };
  console.log(`\nShare of AWS KMS's ${AWS_XKS_TIMEOUT_MS} ms XKS timeout:`);
  for (const [k, v] of Object.entries(share)) console.log(`  ${k.padEnd(44)} ${f(v)} ms = ${((100 * v) / AWS_XKS_TIMEOUT_MS).toFixed(1)} %`);
  // Medians subtract meaningfully; tails of two distributions do not (on a loaded machine they are the machine's).
  const added = { p50: by('KMS Encrypt, external').p50 - by('KMS Encrypt, ordinary').p50, p90: by('KMS Encrypt, external').p90 - by('KMS Encrypt, ordinary').p90 };
  const signed = (ms: number) => `${ms < 0 ? '−' : '+'}${f(Math.abs(ms))}`;
  console.log(`\nThe external key store adds to a KMS Encrypt: p50 ${signed(added.p50)} ms, p90 ${signed(added.p90)} ms`);
  if (problems.length > 0) {
    console.log(`\nERRORS: ${problems.length} calls failed; the first ones:`);
    for (const p of problems.slice(0, 5)) console.log(`  ${p}`);
  }
  const json = { date: new Date().toISOString(), settings: s, loadAverage: load, rows, ratios, inProxy, timeoutShare: Object.fromEntries(Object.entries(share).map(([k, v]) => [k, v / AWS_XKS_TIMEOUT_MS])), addedByExternalKeyStoreMs: added, failures: problems.length };
  mkdirSync(join(REPO, '.bench'), { recursive: true });
  writeFileSync(join(REPO, '.bench', 'xks.json'), JSON.stringify(json, null, 2) + '\n');
  console.log(JSON.stringify(json));
  return problems.length === 0;
}

runBench('bench:xks', 'strongroom-bench-xks-', () => settingsFromEnv(process.env), bench);

import { KMSClient } from '@aws-sdk/client-kms';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { App, AppOptions, buildApp } from '../../src/app.js';
import { BodyLimits, Config, DEFAULT_BODY_LIMITS, DEFAULT_S3_CONFIG, S3Config, TrailConfig, parseRegions } from '../../src/config/config.js';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpsAgent } from 'node:https';
import { Clock } from '../../src/core/clock.js';
import { ROOT_KEY_FILE } from '../../src/core/crypto/root-of-trust/file.js';
import { NbdConfig } from '../../src/config/nbd.js';

export const TEST_ACCOUNT = '111122223333';
export const TEST_REGION = 'us-east-1';
export const TEST_CREDENTIALS = { accessKeyId: 'AKIATESTROOT00000001', secretAccessKey: 'test-root-secret-access-key-0000000000001' };

export interface TestServer {
  readonly url: string;
  /** The NBD server's URL (nbd://127.0.0.1:PORT) when started with `nbd`. */
  readonly nbdUrl?: string;
  readonly app: App;
  readonly dataDir: string;
  /** Every log line the server wrote. */
  readonly logs: string[];
  kms(overrides?: Partial<{ region: string; credentials: { accessKeyId: string; secretAccessKey: string } }>): KMSClient;
  /** An S3 client (path-style addressing unless `forcePathStyle: false`). */
  s3(overrides?: Partial<{ region: string; credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }; forcePathStyle: boolean }>): S3Client;
  /** Closes the server; the data dir stays until `destroy`. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export interface TestServerOptions {
  clock?: Clock;
  dataDir?: string;
  /** Home region of a new data dir (default TEST_REGION); the clients of `s3()`/`kms()` default to it. */
  region?: string;
  regions?: string;
  accountId?: string;
  tls?: { certFile: string; keyFile: string };
  auditSink?: AppOptions['auditSink'];
  s3?: Partial<S3Config>;
  /** Trail delivery intervals (default: AWS's, 5 minutes and an hour). */
  trails?: TrailConfig;
  /** Bounds on bodies read before their signature is verified (small values make the tests fast). */
  bodies?: Partial<BodyLimits>;
  /** The caches' invalidation port and TTL (two servers on one data dir share a port as nodes would). */
  cache?: AppOptions['cache'];
  /** How often the key lifecycle sweep runs (default 60 s). */
  sweepIntervalMs?: number;
  /** The leases' TTL and holder (two servers on one data dir stand for two nodes). */
  leases?: AppOptions['leases'];
  /** Volume open-claim TTL and key re-check interval. */
  volumes?: AppOptions['volumes'];
  /** PostgreSQL instead of SQLite in the data dir (see test/helpers/postgres.ts for a throwaway database). */
  databaseUrl?: string;
  /** The root-of-trust key file (default: in the data dir). */
  rootOfTrustFile?: string;
  /** Serve the XKS proxy API with these credentials. */
  xksProxy?: Config['xksProxy'];
  /** Export attached volumes over NBD (e.g. `{ host: '127.0.0.1', port: 0 }`). */
  nbd?: NbdConfig;
  /** How KMS reaches external key stores' proxies (tests: plain HTTP to a loopback port). */
  xksClient?: Config['xksClient'];
}

/** A real Strongroom server on 127.0.0.1, port 0, in a fresh data dir (or `dataDir` to restart on one). */
export async function startServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'strongroom-test-'));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const config: Config = {
    host: '127.0.0.1',
    port: 0,
    dataDir,
    ...(opts.databaseUrl !== undefined ? { databaseUrl: opts.databaseUrl } : {}),
    rootOfTrustFile: opts.rootOfTrustFile ?? join(dataDir, ROOT_KEY_FILE),
    workers: 1,
    accountId: opts.accountId ?? TEST_ACCOUNT,
    region: opts.region ?? TEST_REGION,
    ...(opts.regions !== undefined ? { regions: parseRegions(opts.regions) } : {}),
    ...(opts.tls ? { tls: opts.tls } : {}),
    rootAccessKeyId: TEST_CREDENTIALS.accessKeyId,
    rootSecretAccessKey: TEST_CREDENTIALS.secretAccessKey,
    logLevel: 'debug',
    sweepIntervalMs: opts.sweepIntervalMs ?? 60_000,
    s3: { ...DEFAULT_S3_CONFIG, ...opts.s3 },
    ...(opts.trails ? { trails: opts.trails } : {}),
    ...(opts.bodies ? { bodies: { ...DEFAULT_BODY_LIMITS, ...opts.bodies } } : {}),
    ...(opts.xksProxy ? { xksProxy: opts.xksProxy } : {}),
    ...(opts.nbd ? { nbd: opts.nbd } : {}),
    ...(opts.xksClient ? { xksClient: opts.xksClient } : {}),
  };
  const app = await buildApp(config, {
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.auditSink ? { auditSink: opts.auditSink } : {}),
    ...(opts.cache ? { cache: opts.cache } : {}),
    ...(opts.leases ? { leases: opts.leases } : {}),
    ...(opts.volumes ? { volumes: opts.volumes } : {}),
    logger: pino({ level: 'debug' }, sink),
  });
  const url = await app.listen();
  let stopped = false;
  const clients: { destroy(): void }[] = [];
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const c of clients) c.destroy();
    await app.close();
  };
  const nbdUrl = app.nbdUrl();
  return {
    url,
    ...(nbdUrl ? { nbdUrl } : {}),
    app,
    dataDir,
    logs,
    s3(overrides = {}) {
      const client = new S3Client({
        endpoint: url,
        region: overrides.region ?? opts.region ?? TEST_REGION,
        credentials: overrides.credentials ?? TEST_CREDENTIALS,
        forcePathStyle: overrides.forcePathStyle ?? true,
        // The test servers' certificates are self-signed.
        ...(url.startsWith('https') ? { requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ rejectUnauthorized: false }) }) } : {}),
      });
      clients.push(client);
      return client;
    },
    kms(overrides = {}) {
      const client = new KMSClient({
        endpoint: url,
        region: overrides.region ?? opts.region ?? TEST_REGION,
        credentials: overrides.credentials ?? TEST_CREDENTIALS,
        maxAttempts: 1,
        ...(url.startsWith('https') ? { requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ rejectUnauthorized: false }) }) } : {}),
      });
      clients.push(client);
      return client;
    },
    stop,
    async destroy() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves to the error a promise rejects with (fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { name: string };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

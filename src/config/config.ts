import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT_KEY_FILE } from '../core/crypto/root-of-trust/file.js';
import { SHAMIR_MARKER_FILE } from '../core/crypto/root-of-trust/shamir.js';
import { RegionSet } from '../core/identity/authenticator.js';
import { selfSignedFiles } from '../http/self-signed.js';
import { XksProxyConfig, readXksProxyCredentials } from '../services/xks-proxy/credentials.js';
import { NbdConfig, NbdFlags, loadNbdConfig } from './nbd.js';
import { RootOfTrustSettings, rootOfTrustSettings } from './root-of-trust.js';
import { DEFAULT_XKS_CLIENT, XksClientOptions } from '../core/kms/xks/client.js';

/** Strongroom's configuration. Precedence: flags > environment (STRONGROOM_*) > defaults. */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** PostgreSQL (`--database-url`, STRONGROOM_DATABASE_URL): every node's state there; absent: SQLite in dataDir. */
  readonly databaseUrl?: string;
  /** The root-of-trust key file (`--root-of-trust-file`; default <dataDir>/root-of-trust.key): the same on every node. */
  readonly rootOfTrustFile: string;
  /** Which root of trust wraps the keyring (`--root-of-trust`, STRONGROOM_ROOT_OF_TRUST); absent: the file root at rootOfTrustFile. */
  readonly rootOfTrust?: RootOfTrustSettings;
  /** Processes serving the port (`--workers`, STRONGROOM_WORKERS; default: the machine's cores). */
  readonly workers: number;
  /** `selfSigned`: the files are made on first start (src/http/self-signed.ts). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly selfSigned?: boolean };
  /** Used only when the data dir is created. */
  readonly accountId?: string;
  /** The home region (used only when the data dir is created). */
  readonly region: string;
  /** Regions served; undefined means the home region only. */
  readonly regions?: RegionSet;
  readonly rootAccessKeyId?: string;
  readonly rootSecretAccessKey?: string;
  readonly logLevel: string;
  /** How often due key deletions and rotations are swept, in ms. */
  readonly sweepIntervalMs: number;
  readonly s3: S3Config;
  /** Trail delivery intervals (absent: AWS's, DEFAULT_TRAIL_CONFIG). */
  readonly trails?: TrailConfig;
  /** Bounds on request bodies read before their signature is verified (absent: DEFAULT_BODY_LIMITS). */
  readonly bodies?: BodyLimits;
  /**
   * Serve the XKS proxy API (src/services/xks-proxy/proxy.ts) with these credentials
   * (STRONGROOM_XKS_PROXY_CREDENTIALS_FILE); absent: not served.
   */
  readonly xksProxy?: XksProxyConfig;
  /** The NBD server exporting attached volumes (`--nbd-listen`, src/config/nbd.ts); absent: off. */
  readonly nbd?: NbdConfig;
  /**
   * How KMS reaches the XKS proxies of external key stores: STRONGROOM_XKS_ALLOW_HTTP (plain HTTP, tests only),
   * STRONGROOM_XKS_CONNECT_TO (`host=address:port,…`), STRONGROOM_XKS_TIMEOUT_MS (default 250, AWS's),
   * STRONGROOM_XKS_CA_FILE (more trusted CAs, PEM).
   */
  readonly xksClient?: XksClientOptions;
}

/**
 * KMS, CloudTrail, IAM and STS sign the body's hash, so a body is buffered whole before its signature can be
 * checked. What unverified bodies may hold, process-wide (STRONGROOM_UNVERIFIED_BODY_BUDGET_BYTES, over it:
 * the service's throttling error), and how long a body may send nothing before its connection is cut
 * (STRONGROOM_BODY_IDLE_TIMEOUT_SECONDS).
 */
export interface BodyLimits {
  readonly unverifiedBudgetBytes: number;
  readonly idleTimeoutMs: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = { unverifiedBudgetBytes: 64 * 1024 * 1024, idleTimeoutMs: 20_000 };

/**
 * How often trails deliver log files and digest files: about every 5 minutes and every hour at AWS
 * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/how-cloudtrail-works.html,
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html);
 * STRONGROOM_TRAIL_LOG_INTERVAL_SECONDS / STRONGROOM_TRAIL_DIGEST_INTERVAL_SECONDS shorten them (tests).
 */
export interface TrailConfig {
  readonly logIntervalMs: number;
  readonly digestIntervalMs: number;
}

export const DEFAULT_TRAIL_CONFIG: TrailConfig = { logIntervalMs: 300_000, digestIntervalMs: 3_600_000 };

export const DEFAULT_S3_CONFIG: S3Config = { domains: ['localhost', 's3.localhost'], blockSseCForNewBuckets: false, legacyEncryptionNotFound: false };

/** S3 settings (STRONGROOM_S3_*). */
export interface S3Config {
  /** Domains whose sub-domains name buckets (virtual-hosted style): `<bucket>.<domain>`. */
  readonly domains: readonly string[];
  /** New buckets block SSE-C uploads, as AWS does since April 2026 (default off: SSE-C allowed). */
  readonly blockSseCForNewBuckets: boolean;
  /** GetBucketEncryption of an unconfigured bucket answers the pre-2023 not-found error instead of the AES256 default. */
  readonly legacyEncryptionNotFound: boolean;
}

export interface Flags extends NbdFlags {
  host?: string;
  port?: string | number;
  dataDir?: string;
  databaseUrl?: string;
  rootOfTrustFile?: string;
  rootOfTrust?: string;
  workers?: string | number;
  tlsCert?: string;
  tlsKey?: string;
  tlsSelfSigned?: boolean;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function loadConfig(flags: Flags, env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(flags.port ?? env.STRONGROOM_PORT ?? 4566);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port ${flags.port ?? env.STRONGROOM_PORT}`);
  const region = env.STRONGROOM_REGION ?? 'us-east-1';
  if (!REGION.test(region)) throw new ConfigError(`STRONGROOM_REGION ${region} is not a region name`);
  const accountId = env.STRONGROOM_ACCOUNT_ID;
  if (accountId !== undefined && !/^\d{12}$/.test(accountId)) throw new ConfigError('STRONGROOM_ACCOUNT_ID must be 12 digits');
  const certFile = flags.tlsCert ?? env.STRONGROOM_TLS_CERT;
  const keyFile = flags.tlsKey ?? env.STRONGROOM_TLS_KEY;
  if ((certFile === undefined) !== (keyFile === undefined)) throw new ConfigError('--tls-cert and --tls-key go together');
  const selfSigned = flags.tlsSelfSigned === true || flag(env.STRONGROOM_TLS_SELF_SIGNED, 'STRONGROOM_TLS_SELF_SIGNED');
  if (selfSigned && certFile !== undefined) throw new ConfigError('--tls-self-signed makes its own certificate: leave out --tls-cert and --tls-key');
  const { dataDir, databaseUrl, rootOfTrustFile, rootOfTrust } = deploymentLocation(flags, env);
  const workersSetting = flags.workers ?? env.STRONGROOM_WORKERS;
  const workers = workersSetting === undefined || workersSetting === '' ? availableParallelism() : positiveInt(String(workersSetting), '--workers (STRONGROOM_WORKERS)')!;
  const rootAccessKeyId = nonEmpty(env.STRONGROOM_ROOT_ACCESS_KEY_ID);
  const rootSecretAccessKey = nonEmpty(env.STRONGROOM_ROOT_SECRET_ACCESS_KEY);
  if ((rootAccessKeyId === undefined) !== (rootSecretAccessKey === undefined)) {
    throw new ConfigError('STRONGROOM_ROOT_ACCESS_KEY_ID and STRONGROOM_ROOT_SECRET_ACCESS_KEY go together');
  }
  const xksCredentialsFile = nonEmpty(env.STRONGROOM_XKS_PROXY_CREDENTIALS_FILE);
  const xksProxy = xksCredentialsFile === undefined ? undefined : readXksProxyCredentials(xksCredentialsFile, (m) => new ConfigError(m));
  const nbd = loadNbdConfig(flags, env);
  const xksClient: XksClientOptions = {
    allowHttp: flag(env.STRONGROOM_XKS_ALLOW_HTTP, 'STRONGROOM_XKS_ALLOW_HTTP'),
    connectTo: parseConnectTo(env.STRONGROOM_XKS_CONNECT_TO),
    timeoutMs: positiveInt(env.STRONGROOM_XKS_TIMEOUT_MS, 'STRONGROOM_XKS_TIMEOUT_MS') ?? DEFAULT_XKS_CLIENT.timeoutMs,
    ...(nonEmpty(env.STRONGROOM_XKS_CA_FILE) ? { ca: readPem(env.STRONGROOM_XKS_CA_FILE!, 'STRONGROOM_XKS_CA_FILE') } : {}),
  };
  return {
    ...(xksProxy ? { xksProxy } : {}),
    xksClient,
    host: flags.host ?? env.STRONGROOM_HOST ?? '127.0.0.1',
    port,
    dataDir,
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
    rootOfTrustFile,
    rootOfTrust,
    workers,
    ...(certFile !== undefined && keyFile !== undefined ? { tls: { certFile, keyFile } } : {}),
    ...(selfSigned ? { tls: { ...selfSignedFiles(dataDir), selfSigned: true } } : {}),
    ...(accountId !== undefined ? { accountId } : {}),
    region,
    ...(env.STRONGROOM_REGIONS !== undefined ? { regions: parseRegions(env.STRONGROOM_REGIONS) } : {}),
    ...(rootAccessKeyId !== undefined ? { rootAccessKeyId, rootSecretAccessKey } : {}),
    logLevel: env.STRONGROOM_LOG_LEVEL ?? 'info',
    sweepIntervalMs: Number(env.STRONGROOM_SWEEP_INTERVAL_MS ?? 60_000),
    trails: {
      logIntervalMs: seconds(env.STRONGROOM_TRAIL_LOG_INTERVAL_SECONDS, 'STRONGROOM_TRAIL_LOG_INTERVAL_SECONDS') ?? DEFAULT_TRAIL_CONFIG.logIntervalMs,
      digestIntervalMs: seconds(env.STRONGROOM_TRAIL_DIGEST_INTERVAL_SECONDS, 'STRONGROOM_TRAIL_DIGEST_INTERVAL_SECONDS') ?? DEFAULT_TRAIL_CONFIG.digestIntervalMs,
    },
    bodies: {
      unverifiedBudgetBytes: positiveInt(env.STRONGROOM_UNVERIFIED_BODY_BUDGET_BYTES, 'STRONGROOM_UNVERIFIED_BODY_BUDGET_BYTES') ?? DEFAULT_BODY_LIMITS.unverifiedBudgetBytes,
      idleTimeoutMs: seconds(env.STRONGROOM_BODY_IDLE_TIMEOUT_SECONDS, 'STRONGROOM_BODY_IDLE_TIMEOUT_SECONDS') ?? DEFAULT_BODY_LIMITS.idleTimeoutMs,
    },
    s3: {
      domains: (env.STRONGROOM_S3_DOMAINS ?? 'localhost,s3.localhost').split(',').map((d) => d.trim().toLowerCase()).filter((d) => d !== ''),
      blockSseCForNewBuckets: flag(env.STRONGROOM_S3_BLOCK_SSE_C, 'STRONGROOM_S3_BLOCK_SSE_C'),
      legacyEncryptionNotFound: flag(env.STRONGROOM_S3_LEGACY_ENCRYPTION_NOT_FOUND, 'STRONGROOM_S3_LEGACY_ENCRYPTION_NOT_FOUND'),
    },
    ...(nbd ? { nbd } : {}),
  };
}

/** Where a deployment is, as `serve` and the offline commands (explain, account, audit) both read it. */
export interface DeploymentLocation {
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly rootOfTrustFile: string;
  readonly rootOfTrust: RootOfTrustSettings;
}

/** --data-dir, --database-url, --root-of-trust(-file), else their STRONGROOM_* variables, else the defaults. */
export function deploymentLocation(
  flags: { dataDir?: string; databaseUrl?: string; rootOfTrustFile?: string; rootOfTrust?: string },
  env: NodeJS.ProcessEnv = process.env,
): DeploymentLocation {
  const dataDir = resolve(flags.dataDir ?? env.STRONGROOM_DATA_DIR ?? 'data');
  const databaseUrl = nonEmpty(flags.databaseUrl ?? env.STRONGROOM_DATABASE_URL);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('--database-url must be a postgres:// (or postgresql://) URL');
  }
  const rootOfTrustFile = resolve(nonEmpty(flags.rootOfTrustFile ?? env.STRONGROOM_ROOT_OF_TRUST_FILE) ?? join(dataDir, ROOT_KEY_FILE));
  // A data dir made by `operator init --key-shares` says so (its marker file): it is served sealed without being told.
  const kind = nonEmpty(flags.rootOfTrust ?? env.STRONGROOM_ROOT_OF_TRUST) ?? (existsSync(join(dataDir, SHAMIR_MARKER_FILE)) ? 'shamir' : undefined);
  const rootOfTrust = rootOfTrustSettings(kind, rootOfTrustFile, env);
  return { dataDir, ...(databaseUrl !== undefined ? { databaseUrl } : {}), rootOfTrustFile, rootOfTrust };
}

export function parseRegions(value: string): RegionSet {
  if (value.trim() === '*') return '*';
  const list = value.split(',').map((r) => r.trim()).filter((r) => r !== '');
  for (const r of list) if (!REGION.test(r)) throw new ConfigError(`STRONGROOM_REGIONS: ${r} is not a region name`);
  if (list.length === 0) throw new ConfigError('STRONGROOM_REGIONS is empty');
  return new Set(list);
}

export function readTls(config: Config): { cert: Buffer; key: Buffer } | undefined {
  return config.tls ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } : undefined;
}

function flag(v: string | undefined, name: string): boolean {
  if (v === undefined || v === '') return false;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(`${name} must be true or false`);
}

/** A positive number of seconds, in ms; undefined when unset. */
function seconds(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${name} must be a positive number of seconds`);
  return Math.round(n * 1000);
}

/** A positive whole number; undefined when unset. */
function positiveInt(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive whole number`);
  return n;
}

function readPem(file: string, name: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name} ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`${name} ${file} holds no PEM certificate`);
  return text;
}

/** STRONGROOM_XKS_CONNECT_TO: `host=address:port` pairs, comma-separated. */
function parseConnectTo(v: string | undefined): Map<string, { host: string; port: number }> {
  const map = new Map<string, { host: string; port: number }>();
  for (const item of (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([A-Za-z0-9.-]+)=(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(item);
    if (!m || Number(m[3]) > 65535) throw new ConfigError(`STRONGROOM_XKS_CONNECT_TO: ${item} is not host=address:port`);
    map.set(m[1]!.toLowerCase(), { host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) });
  }
  return map;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

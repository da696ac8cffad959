import { existsSync } from 'node:fs';
import { ConfigError, DeploymentLocation, deploymentLocation } from '../config/config.js';
import { FileRootOfTrust } from '../core/crypto/root-of-trust/file.js';
import { Keyring } from '../core/crypto/root-of-trust/keyring.js';
import { RootOfTrust } from '../core/crypto/root-of-trust/root-of-trust.js';
import { noDatabaseIn, notADataDir, openKeyring, openRootOfTrust } from '../data-dir.js';
import { Stores, describeDatabaseUrl, openStores } from '../stores.js';

/** Where an offline command finds the deployment: the same flags and variables as `serve`. */
export interface DeploymentFlags {
  dataDir?: string;
  databaseUrl?: string;
  rootOfTrustFile?: string;
  /** file or pkcs11 (STRONGROOM_ROOT_OF_TRUST), with STRONGROOM_PKCS11_* */
  rootOfTrust?: string;
}

export interface DeploymentOptions {
  /**
   * Whether the command may need the root of trust (default true: a SQLite data dir must then hold its key
   * file). The audit commands read only the log and its public key: a copy of the database alone is enough.
   */
  readonly rootOfTrust?: boolean;
}

export interface OpenedDeployment {
  readonly stores: Stores;
  readonly location: DeploymentLocation;
  /** The configured root of trust, opened only when asked for (commands that unwrap nothing do not need it). */
  root(): Promise<RootOfTrust>;
  /** The keyring unsealed with that root (what every stored secret is wrapped with), opened on first call. */
  keyring(): Promise<Keyring>;
  close(): Promise<void>;
}

/**
 * Opens an existing deployment for an offline command (explain, account create, audit …), on either backend:
 * SQLite in --data-dir, or PostgreSQL at --database-url. A running server may have it open: what the command
 * writes reaches the servers' caches through the backend's invalidation port. Returns the message to print
 * (exit 1) when there is no deployment there: opening the stores of an empty place would create one.
 */
export async function openDeployment(flags: DeploymentFlags, env: NodeJS.ProcessEnv = process.env, options: DeploymentOptions = {}): Promise<OpenedDeployment | string> {
  let location: DeploymentLocation;
  try {
    location = deploymentLocation(flags, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  const { dataDir, databaseUrl, rootOfTrustFile: rootFile } = location;
  if (databaseUrl === undefined) {
    const notDataDir = options.rootOfTrust === false || location.rootOfTrust.kind !== 'file' ? noDatabaseIn(dataDir) : notADataDir(dataDir, rootFile);
    if (notDataDir !== undefined) return notDataDir;
  }
  let stores: Stores;
  try {
    stores = await openStores({ dataDir, ...(databaseUrl !== undefined ? { databaseUrl } : {}) });
  } catch (err) {
    return `cannot open the database ${databaseUrl !== undefined ? describeDatabaseUrl(databaseUrl) : dataDir}: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (databaseUrl !== undefined && (await stores.metadata.getSetting('account_id')) === undefined) {
    await stores.close();
    return `the database ${stores.description} holds no Strongroom deployment (start \`strongroom serve --database-url …\` on it once first)`;
  }
  let root: Promise<RootOfTrust> | undefined;
  let keyring: Promise<Keyring> | undefined;
  const openRoot = () =>
    (root ??= (async () => {
      if (location.rootOfTrust.kind === 'file') {
        if (!existsSync(rootFile)) throw new Error(`no root-of-trust key at ${rootFile} (--root-of-trust-file, STRONGROOM_ROOT_OF_TRUST_FILE)`);
        return FileRootOfTrust.openAt(rootFile);
      }
      return openRootOfTrust(location, stores);
    })());
  return {
    stores,
    location,
    root: openRoot,
    keyring: () => (keyring ??= openRoot().then((r) => openKeyring(location, stores, r))),
    async close() {
      await stores.close();
      if (keyring) (await keyring.catch(() => undefined))?.seal();
      if (root) await (await root.catch(() => undefined))?.close();
    },
  };
}


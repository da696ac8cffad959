import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FileRootOfTrust, ROOT_KEY_FILE } from './core/crypto/root-of-trust/file.js';
import { Keyring, KeyringRootMismatchError } from './core/crypto/root-of-trust/keyring.js';
import { Pkcs11RootOfTrust } from './core/crypto/root-of-trust/pkcs11.js';
import { Stores } from './stores.js';
import { TreeHeadSigner } from './core/audit/tree-head-key.js';
import { RootOfTrust, RootOfTrustError } from './core/crypto/root-of-trust/root-of-trust.js';
import { RootOfTrustSettings } from './config/root-of-trust.js';
import { BLOBS_DIR } from './store/blob/fs/fs-blob-store.js';
import { SQLITE_FILE } from './store/metadata/sqlite/database.js';
import { CREDENTIALS_FILE } from './bootstrap.js';

/** A data dir whose parts do not belong together: the server refuses to start (one line, no stack). */
export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

/** What the server and the offline commands are told the root of trust is (the file root unless configured). */
export interface RootOfTrustLocation {
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly rootOfTrustFile: string;
  readonly rootOfTrust?: RootOfTrustSettings;
}

export function rootSettings(config: RootOfTrustLocation): RootOfTrustSettings {
  return config.rootOfTrust ?? { kind: 'file', file: config.rootOfTrustFile };
}

export function checkDataDirParts(config: RootOfTrustLocation): void {
  const { dataDir } = config;
  // With PostgreSQL the data dir holds no database: openRootOfTrust checks the key against the database.
  if (config.databaseUrl !== undefined || !existsSync(dataDir)) return;
  const has = (name: string) => existsSync(join(dataDir, name));
  if (rootSettings(config).kind === 'file' && has(SQLITE_FILE) && !existsSync(config.rootOfTrustFile)) {
    throw new DataDirError(
      `data dir ${dataDir} has a database (${SQLITE_FILE}) but no root-of-trust key at ${config.rootOfTrustFile}: restore the ` +
        `key file it was made with (every key in the database is wrapped by it; if \`operator rotate-root\` moved it to an HSM, ` +
        `start with --root-of-trust pkcs11) — refusing to create a new one`,
    );
  }
  if (!has(SQLITE_FILE)) {
    const leftovers = [BLOBS_DIR + '/', CREDENTIALS_FILE].filter(has);
    if (leftovers.length > 0) {
      throw new DataDirError(
        `data dir ${dataDir} has ${leftovers.join(' and ')} but no database (${SQLITE_FILE}): restore the database, ` +
          `or use an empty data dir for a new deployment — refusing to start a new, empty one over them`,
      );
    }
  }
}

/**
 * The root of trust of the deployment the stores hold. A database that was initialised (it has an account) is
 * opened only with the key file it was made with: on several nodes, the first initialises the database and
 * makes the key; every later node must be given a copy of that file (a new random key would open nothing).
 * Whether the file given is the right one is proven next, by unwrapping the audit key (app.ts, wrongRootKey).
 */
export async function openRootOfTrust(config: RootOfTrustLocation, stores: Stores): Promise<RootOfTrust> {
  const settings = rootSettings(config);
  const initialised = (await stores.metadata.getSetting('account_id')) !== undefined;
  if (settings.kind === 'shamir' || (await stores.keyring.get())?.rootKind === 'shamir') {
    // Its root exists only in a running server's memory, rebuilt from the key shares (README "Sealed start").
    throw new DataDirError(
      `this deployment's root of trust is split into key shares (${stores.description}): only a running server unsealed with ` +
        `\`strongroom operator unseal\` holds it — offline commands that unwrap keys cannot run on it`,
    );
  }
  if (settings.kind === 'pkcs11') {
    const keyring = await stores.keyring.get();
    if (!keyring && initialised) {
      throw new DataDirError(
        `the database (${stores.description}) was made before the keyring: its keys are wrapped by its root-of-trust key file — ` +
          `start once with the file root, or move it to the HSM with \`strongroom operator rotate-root --to pkcs11\``,
      );
    }
    // The HSM key is generated only for a new deployment: for an existing one, a missing key is refused.
    return Pkcs11RootOfTrust.open({ module: settings.module, tokenLabel: settings.tokenLabel, keyLabel: settings.keyLabel, pin: settings.pin() }, { createKey: !keyring && !initialised });
  }
  if (initialised && !existsSync(config.rootOfTrustFile)) {
    throw new DataDirError(
      `the database (${stores.description}) was initialised with a root of trust that is not at ${config.rootOfTrustFile}: ` +
        `copy the root-of-trust key file of the node that initialised it there (--root-of-trust-file, STRONGROOM_ROOT_OF_TRUST_FILE) — ` +
        `refusing to create a new one`,
    );
  }
  return openRootKeyFile(config);
}

/**
 * The keyring of the deployment, unsealed with `root` (one root call): made on a new deployment's first start,
 * and on the first start of a deployment made before the keyring, whose file root key then becomes keyring key 0
 * (its blobs stay as they are). A root that does not open it is refused with one line (DataDirError).
 */
export async function openKeyring(config: RootOfTrustLocation, stores: Stores, root: RootOfTrust): Promise<Keyring> {
  const keyring = new Keyring(stores.keyring);
  try {
    // Upgrading a deployment made before the keyring: its key file must be the one that wrapped what the
    // database holds before it is kept as keyring key 0 (a wrong one would be written into the keyring).
    if (root instanceof FileRootOfTrust && !root.created && !(await stores.keyring.get()) && (await stores.audit.treeHeadKey())) {
      await TreeHeadSigner.openOrCreate(stores.audit, root);
    }
    await keyring.unseal(root, { create: true, ...(root instanceof FileRootOfTrust && !root.created ? { legacyKey: () => root.keyForUpgrade() } : {}) });
  } catch (err) {
    if (err instanceof KeyringRootMismatchError) throw new DataDirError(err.message);
    if (!(err instanceof RootOfTrustError)) throw err;
    if (root instanceof FileRootOfTrust) throw wrongRootKey(config, stores.description, err);
    throw new DataDirError(
      `the root of trust (${root.description}) does not open the keyring in the database (${stores.description}: ${err.message}): ` +
        `it is not the root this deployment's keyring is wrapped by`,
    );
  }
  return keyring;
}

/** The root-of-trust key file, made (with its directory) if missing. */
export function openRootKeyFile(config: { rootOfTrustFile: string }): FileRootOfTrust {
  mkdirSync(dirname(config.rootOfTrustFile), { recursive: true, mode: 0o700 });
  return FileRootOfTrust.openOrCreateAt(config.rootOfTrustFile);
}

/**
 * Offline commands (explain, account create) work on a deployment that exists: a data dir with its database and
 * its root-of-trust.key. Opening the stores of anything else would create an empty database there — which
 * `serve` would then refuse as a database without its key. Returns the message to print, or undefined.
 */
export function notADataDir(dataDir: string, rootOfTrustFile = join(dataDir, ROOT_KEY_FILE)): string | undefined {
  if (existsSync(join(dataDir, SQLITE_FILE)) && existsSync(rootOfTrustFile)) return undefined;
  return `${dataDir} is not a Strongroom data dir (no ${SQLITE_FILE} and ${rootOfTrustFile}; start \`strongroom serve\` on it once first)`;
}

/** For offline commands that read only the database (the audit log's): its file is all they need. */
export function noDatabaseIn(dataDir: string): string | undefined {
  if (existsSync(join(dataDir, SQLITE_FILE))) return undefined;
  return `${dataDir} is not a Strongroom data dir (no ${SQLITE_FILE}; start \`strongroom serve\` on it once first)`;
}

/** The error for a root-of-trust key that does not open what the database holds wrapped (see app.ts). */
export function wrongRootKey(config: { rootOfTrustFile: string }, database: string, err: RootOfTrustError): DataDirError {
  return new DataDirError(
    `the root-of-trust key ${config.rootOfTrustFile} does not open the keys wrapped in the database (${database}: ${err.message}): ` +
      `it is not the key this database was made with — restore the original key file (on several nodes: a copy of the first node's)`,
  );
}

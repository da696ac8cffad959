import { existsSync, mkdirSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../config/config.js';
import { RootOfTrustSettings, rootOfTrustSettings } from '../config/root-of-trust.js';
import { AuditLog } from '../core/audit/audit-log.js';
import { newEventId } from '../core/audit/event-id.js';
import { EVENT_VERSION, ServiceEventRecord, trailTime } from '../core/audit/record.js';
import { TreeHeadSigner } from '../core/audit/tree-head-key.js';
import { FileRootOfTrust, eraseKeyFile } from '../core/crypto/root-of-trust/file.js';
import { Keyring } from '../core/crypto/root-of-trust/keyring.js';
import { Pkcs11RootOfTrust, describePkcs11 } from '../core/crypto/root-of-trust/pkcs11.js';
import { RootOfTrust, RootOfTrustError } from '../core/crypto/root-of-trust/root-of-trust.js';
import { DeploymentFlags, OpenedDeployment, openDeployment } from './deployment.js';

export interface RotateRootFlags extends DeploymentFlags {
  to: string;
  toRootOfTrustFile?: string;
  toPkcs11Module?: string;
  toPkcs11TokenLabel?: string;
  toPkcs11KeyLabel?: string;
  toPkcs11PinFile?: string;
  allowWeakerRoot?: boolean;
}

/** Who ran an operator command, for its audit record (no secret). */
const OPERATOR = 'strongroom operator';

/**
 * `strongroom operator rotate-root --to file|pkcs11`: the keyring, unwrapped with the current root, is wrapped by
 * the new one and written in one compare-and-swap UPDATE (a crash leaves the old wrapping or the new one, never a
 * mix); no other blob is rewritten. The new root must unwrap what it wrapped before the write. Moving away from
 * the file root then erases its key file (it could unwrap the old keyring from a database backup). An HSM to
 * the file root is a downgrade: refused without --allow-weaker-root. Audited (RotateRootOfTrust).
 */
export async function rotateRootCommand(flags: RotateRootFlags): Promise<number> {
  const opened = await openDeployment(flags);
  if (typeof opened === 'string') return fail(opened);
  let next: RootOfTrust | undefined;
  try {
    let target: RootOfTrustSettings;
    try {
      target = targetSettings(flags, opened);
    } catch (err) {
      if (err instanceof ConfigError) return fail(err.message);
      throw err;
    }
    const current = opened.location.rootOfTrust;
    if (target.kind === 'file' && current.kind !== 'file' && !flags.allowWeakerRoot) {
      return fail(`moving the keyring from the HSM to a key file weakens the root of trust (the key would be a file anyone copying the data dir gets): add --allow-weaker-root to do it anyway`);
    }
    if (target.kind === 'file' && existsSync(target.file)) {
      return fail(`${target.file} exists: the new root key file must be a new one (--to-root-of-trust-file)`);
    }
    // A rerun after a crash between the keyring's UPDATE and the key file's erasure: the move is done; finish it.
    const stored = await opened.stores.keyring.get();
    if (stored && current.kind === 'file' && target.kind === 'pkcs11' && stored.rootKind === 'pkcs11' && stored.rootDescription === describePkcs11(target)) {
      eraseKeyFile(current.file);
      process.stdout.write(`The keyring is already wrapped by ${stored.rootDescription}; erased the leftover root-of-trust key file ${current.file}.\n`);
      return 0;
    }
    const keyring = await opened.keyring();
    const from = keyring.summary();
    if (target.kind === 'pkcs11' && current.kind === 'pkcs11' && target.tokenLabel === current.tokenLabel && target.keyLabel === current.keyLabel) {
      return fail(`the keyring is already wrapped by ${from.rootDescription}`);
    }
    next = openTarget(target);
    const audit = await auditLog(opened, keyring);
    const details = { from: { kind: from.rootKind, description: from.rootDescription }, to: { kind: next.kind, description: next.description } };
    await audit.record('RotateRootOfTrust', { ...details, keyringGeneration: from.generation });
    try {
      await keyring.moveTo(next);
    } catch (err) {
      await audit.record('RotateRootOfTrust', { ...details, keyringGeneration: from.generation }, err);
      throw err;
    }
    const to = keyring.summary();
    process.stdout.write(`The keyring (keys ${to.keyIds.join(', ')}) is now wrapped by ${to.rootDescription} (generation ${to.generation}).\n`);
    if (current.kind === 'file') {
      eraseKeyFile(current.file);
      process.stdout.write(
        `Erased the old root-of-trust key file ${current.file}. Erase every copy of it (other nodes, backups).\n`,
      );
    }
    process.stdout.write(`Restart the servers with ${startHint(target)}.\n`);
    return 0;
  } catch (err) {
    if (err instanceof RootOfTrustError || (err instanceof Error && err.name === 'DataDirError')) return fail(err.message);
    throw err;
  } finally {
    await next?.close();
    await opened.close();
  }
}

/**
 * `strongroom operator rotate-keyring`: adds a keyring key that wraps every new blob from now on (servers pick it
 * up at their next sweep, or when they first meet a blob naming it); blobs of the older keys are not rewritten
 * and still unwrap. One compare-and-swap UPDATE of the keyring row. Audited (RotateKeyring).
 */
export async function rotateKeyringCommand(flags: DeploymentFlags): Promise<number> {
  const opened = await openDeployment(flags);
  if (typeof opened === 'string') return fail(opened);
  try {
    const keyring = await opened.keyring();
    const from = keyring.summary();
    const audit = await auditLog(opened, keyring);
    const details = { previousActiveKeyringKeyId: from.activeKeyId, keyringGeneration: from.generation, root: from.rootDescription };
    await audit.record('RotateKeyring', details);
    let id: number;
    try {
      id = await keyring.addKey();
    } catch (err) {
      await audit.record('RotateKeyring', details, err);
      throw err;
    }
    const to = keyring.summary();
    process.stdout.write(`Keyring key ${id} added and active for new writes (keys ${to.keyIds.join(', ')}; generation ${to.generation}).\n`);
    return 0;
  } catch (err) {
    if (err instanceof RootOfTrustError || (err instanceof Error && err.name === 'DataDirError')) return fail(err.message);
    throw err;
  } finally {
    await opened.close();
  }
}

/** The new root's settings: --to, with STRONGROOM_PKCS11_* overridden by the --to-pkcs11-* flags. */
function targetSettings(flags: RotateRootFlags, opened: OpenedDeployment): RootOfTrustSettings {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (flags.toPkcs11Module !== undefined) env.STRONGROOM_PKCS11_MODULE = flags.toPkcs11Module;
  if (flags.toPkcs11TokenLabel !== undefined) env.STRONGROOM_PKCS11_TOKEN_LABEL = flags.toPkcs11TokenLabel;
  if (flags.toPkcs11KeyLabel !== undefined) env.STRONGROOM_PKCS11_KEY_LABEL = flags.toPkcs11KeyLabel;
  if (flags.toPkcs11PinFile !== undefined) {
    env.STRONGROOM_PKCS11_PIN_FILE = flags.toPkcs11PinFile;
    delete env.STRONGROOM_PKCS11_PIN;
  }
  const file = resolve(flags.toRootOfTrustFile ?? opened.location.rootOfTrustFile);
  if (flags.to !== 'file' && flags.to !== 'pkcs11') throw new ConfigError(`--to must be file or pkcs11, not ${flags.to}`);
  return rootOfTrustSettings(flags.to, file, env);
}

/** Opens the new root, making its key (a new key file; an HSM key of that label if the token has none). */
function openTarget(target: RootOfTrustSettings): RootOfTrust {
  if (target.kind === 'file') {
    mkdirSync(dirname(target.file), { recursive: true, mode: 0o700 });
    return FileRootOfTrust.openOrCreateAt(target.file);
  }
  if (target.kind === 'shamir') throw new RootOfTrustError('a deployment is split into key shares only by `operator init --key-shares`');
  return Pkcs11RootOfTrust.open({ module: target.module, tokenLabel: target.tokenLabel, keyLabel: target.keyLabel, pin: target.pin() }, { createKey: true });
}

function startHint(target: RootOfTrustSettings): string {
  if (target.kind === 'file') return `--root-of-trust file --root-of-trust-file ${target.file}`;
  if (target.kind === 'shamir') return '--root-of-trust shamir';
  return `--root-of-trust pkcs11 (STRONGROOM_PKCS11_MODULE=${target.module} STRONGROOM_PKCS11_TOKEN_LABEL=${target.tokenLabel} STRONGROOM_PKCS11_KEY_LABEL=${target.keyLabel} and the PIN)`;
}

/**
 * The deployment's audit log, for an operator command's records: AwsServiceEvent records of kms.amazonaws.com
 * in the home account (AWS has no such operation; the names say what happened), with who ran it and where.
 * Each `record` resolves once committed and durable; with `error`, the record says the change failed.
 */
async function auditLog(opened: OpenedDeployment, keyring: Keyring) {
  const { stores } = opened;
  const signer = await TreeHeadSigner.openOrCreate(stores.audit, keyring);
  const log = new AuditLog(stores.audit, signer);
  const accountId = (await stores.metadata.getSetting('account_id'))!;
  const region = (await stores.metadata.getSetting('home_region')) ?? 'us-east-1';
  return {
    async record(eventName: string, details: Record<string, unknown>, error?: unknown): Promise<void> {
      const record: ServiceEventRecord = {
        eventVersion: EVENT_VERSION,
        userIdentity: { accountId, invokedBy: OPERATOR },
        eventTime: trailTime(Date.now()),
        eventSource: 'kms.amazonaws.com',
        eventName,
        awsRegion: region,
        sourceIPAddress: OPERATOR,
        userAgent: OPERATOR,
        requestParameters: null,
        responseElements: null,
        eventID: newEventId(),
        readOnly: false,
        eventType: 'AwsServiceEvent',
        managementEvent: true,
        recipientAccountId: accountId,
        eventCategory: 'Management',
        serviceEventDetails: {
          ...details,
          host: hostname(),
          osUser: safeUser(),
          ...(error !== undefined ? { outcome: 'Failed', errorMessage: error instanceof Error ? error.message : String(error) } : { outcome: 'Started' }),
        },
      };
      await log.append(record);
      await stores.durable();
    },
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function fail(message: string): number {
  process.stderr.write(`strongroom: ${message}\n`);
  return 1;
}

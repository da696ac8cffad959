import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, deploymentLocation } from '../config/config.js';
import { KEY_BYTES } from '../core/crypto/aes-gcm.js';
import { Keyring } from '../core/crypto/root-of-trust/keyring.js';
import { SHAMIR_MARKER_FILE, SHAMIR_SETTING, ShamirParameters, ShamirRootOfTrust, checkSplit, newSetId, splitRootKey } from '../core/crypto/root-of-trust/shamir.js';
import { ROOT_KEY_FILE } from '../core/crypto/root-of-trust/file.js';
import { SecretBytes } from '../core/crypto/secret-bytes.js';
import { OPERATOR_TOKEN_HEADER, readOperatorToken } from '../sealing/operator-token.js';
import { SealStatus } from '../sealing/seal-control.js';
import { SQLITE_FILE } from '../store/metadata/sqlite/database.js';
import { Stores, describeDatabaseUrl, openStores } from '../stores.js';
import { writePrivateFile } from '../private-file.js';
import { DeploymentFlags } from './deployment.js';

export interface InitFlags extends DeploymentFlags {
  keyShares: string;
  keyThreshold: string;
}

export interface OperatorEndpointFlags {
  dataDir?: string;
  endpointUrl?: string;
}

/**
 * `strongroom operator init --key-shares N --key-threshold T`: a new deployment whose root of trust is a random
 * 256-bit key that is split into N Shamir shares (any T rebuild it), printed once and never written: the keyring
 * is made and wrapped by that key, the split's parameters (no secret) are stored, and the key is wiped. A server
 * on it starts sealed. Refused on a deployment that exists (a data dir with a database or key file, a database
 * with a keyring or an account).
 */
export async function initCommand(flags: InitFlags): Promise<number> {
  const shares = Number(flags.keyShares);
  const threshold = Number(flags.keyThreshold);
  const bad = checkSplit(shares, threshold);
  if (bad) return fail(bad);
  let location;
  try {
    location = deploymentLocation({ ...flags, rootOfTrust: 'shamir' });
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    throw err;
  }
  const { dataDir, databaseUrl } = location;
  if (databaseUrl === undefined) {
    const there = [SQLITE_FILE, ROOT_KEY_FILE, SHAMIR_MARKER_FILE].filter((f) => existsSync(join(dataDir, f)));
    if (there.length > 0) return fail(`${dataDir} is an initialised deployment already (it has ${there.join(', ')}): init makes a new one — refusing`);
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let stores: Stores;
  try {
    stores = await openStores({ dataDir, ...(databaseUrl !== undefined ? { databaseUrl } : {}) });
  } catch (err) {
    return fail(`cannot open the database ${databaseUrl !== undefined ? describeDatabaseUrl(databaseUrl) : dataDir}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const params: ShamirParameters = { setId: newSetId(), shares, threshold };
  const key = SecretBytes.adopt(randomBytes(KEY_BYTES));
  const root = new ShamirRootOfTrust(SecretBytes.adopt(Buffer.from(key.reveal())), params);
  const keyring = new Keyring(stores.keyring);
  try {
    if ((await stores.keyring.get()) || (await stores.metadata.getSetting('account_id')) !== undefined) {
      return fail(`the database ${stores.description} holds an initialised deployment already: init makes a new one — refusing`);
    }
    await stores.metadata.initSetting(SHAMIR_SETTING, JSON.stringify(params));
    await keyring.unseal(root, { create: true });
    if (keyring.summary().rootDescription !== root.description) {
      return fail(`another process initialised ${stores.description} at the same time: its shares are the ones that count`);
    }
    // Named now so that a sealed server can say which account it serves; the account is made at the first unseal.
    const accountId = await stores.metadata.initSetting('account_id', process.env.STRONGROOM_ACCOUNT_ID || String(randomInt(100_000_000_000, 999_999_999_999)));
    const region = await stores.metadata.initSetting('home_region', process.env.STRONGROOM_REGION || 'us-east-1');
    await stores.durable();
    if (databaseUrl === undefined) writePrivateFile(join(dataDir, SHAMIR_MARKER_FILE), JSON.stringify(params) + '\n', 'exclusive');
    const printed = await splitRootKey(key, params);
    const out = process.stdout;
    out.write(
      `Initialised ${databaseUrl !== undefined ? stores.description : dataDir} (account ${accountId}, region ${region}).\n` +
        `Its root key is split into ${shares} key shares; any ${threshold} of them unseal the server. They are shown ONCE and stored nowhere:\n` +
        `give each to a different person. Lose more than ${shares - threshold} and the data is lost for good.\n\n`,
    );
    printed.forEach((s, i) => out.write(`Key share ${i + 1} of ${shares}: ${s}\n`));
    out.write(
      `\nStart the server (it starts sealed): strongroom serve ${databaseUrl !== undefined ? '--database-url … ' : `--data-dir ${dataDir} `}\n` +
        `Then, on the server's machine, ${threshold} times: strongroom operator unseal${databaseUrl === undefined ? ` --data-dir ${dataDir}` : ''} (it reads a share from stdin)\n`,
    );
    return 0;
  } finally {
    key.wipe();
    keyring.seal();
    await root.close();
    await stores.close();
  }
}

/** `strongroom operator unseal [share]`: gives one key share (the argument, or the first line of stdin) to the running server. */
export async function unsealCommand(share: string | undefined, flags: OperatorEndpointFlags): Promise<number> {
  const text = share ?? (await firstLineOfStdin());
  if (text.trim() === '') return fail('no key share given (as the argument, or on stdin)');
  return call('unseal', 'POST', text, flags, (s) =>
    s.sealed ? `Unseal progress: ${s.progress} of ${s.threshold} key shares. Still sealed.` : `Unsealed (${s.threshold} of ${s.shares} key shares). The server serves requests.`,
  );
}

/** `strongroom operator seal`: the running server stops serving and wipes every key from memory. */
export function sealCommand(flags: OperatorEndpointFlags): Promise<number> {
  return call('seal', 'POST', '', flags, (s) => `Sealed. ${s.threshold} of ${s.shares} key shares unseal it again (strongroom operator unseal).`);
}

/** `strongroom operator seal-status` */
export function sealStatusCommand(flags: OperatorEndpointFlags): Promise<number> {
  return call('seal-status', 'GET', undefined, flags, (s) =>
    s.sealed ? `Sealed: ${s.progress} of ${s.threshold} key shares given (set ${s.setId}, ${s.shares} shares).` : `Unsealed (set ${s.setId}).`,
  );
}

async function call(op: string, method: string, body: string | undefined, flags: OperatorEndpointFlags, say: (s: SealStatus) => string): Promise<number> {
  const dataDir = deploymentLocation({ ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}) }).dataDir;
  let token: string;
  try {
    token = readOperatorToken(dataDir);
  } catch {
    return fail(`cannot read the operator token ${join(dataDir, 'operator-token')}: run this on the server's machine as its user, with its --data-dir (the server makes the file on its first sealed start)`);
  }
  const base = (flags.endpointUrl ?? process.env.STRONGROOM_OPERATOR_URL ?? `http://127.0.0.1:${process.env.STRONGROOM_PORT ?? 4566}`).replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/_strongroom/operator/${op}`, {
      method,
      headers: { [OPERATOR_TOKEN_HEADER]: token, 'content-type': 'text/plain' },
      ...(body !== undefined ? { body } : {}),
    });
  } catch (err) {
    return fail(`cannot reach the server at ${base} (--endpoint-url): ${err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err)}`);
  }
  const answer = (await res.json().catch(() => ({}))) as SealStatus & { error?: string };
  if (!res.ok) return fail(answer.error ?? `the server answered ${res.status}`);
  process.stdout.write(say(answer) + '\n');
  return 0;
}

async function firstLineOfStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Key share: ');
  let text = '';
  for await (const chunk of process.stdin) {
    text += (chunk as Buffer).toString('utf8');
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

function fail(message: string): number {
  process.stderr.write(`strongroom: ${message}\n`);
  return 1;
}

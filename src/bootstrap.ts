import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { Config } from './config/config.js';
import { Clock } from './core/clock.js';
import { SecretBytes } from './core/crypto/secret-bytes.js';
import { CredentialStore, newAccessKeyId, newSecretAccessKey } from './core/identity/credentials.js';
import { rootArn } from './core/identity/principal.js';
import { MetadataStore } from './store/metadata/types.js';
import { writePrivateFile } from './private-file.js';

export const CREDENTIALS_FILE = 'credentials';

export interface Deployment {
  readonly accountId: string;
  readonly homeRegion: string;
  /** Set only when this start generated the root credentials: print them once. */
  readonly generatedRoot?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * First start of a data dir: account id, home region, the account and its root credentials.
 * Later starts read them back; configured root credentials (STRONGROOM_ROOT_*) are (re)installed.
 */
export async function bootstrap(store: MetadataStore, credentials: CredentialStore, config: Config, clock: Clock): Promise<Deployment> {
  const accountId = await store.initSetting('account_id', config.accountId ?? String(randomInt(100_000_000_000, 999_999_999_999)));
  const homeRegion = await store.initSetting('home_region', config.region);
  await store.createAccount({ accountId, createdAt: clock.now() });
  const root = { accountId, principalArn: rootArn(accountId), principalType: 'Root' as const, principalId: accountId, status: 'Active' as const };

  if (config.rootAccessKeyId !== undefined && config.rootSecretAccessKey !== undefined) {
    const secret = SecretBytes.adopt(Buffer.from(config.rootSecretAccessKey, 'utf8'));
    if (!(await credentials.matches(config.rootAccessKeyId, secret))) {
      await credentials.put({ ...root, accessKeyId: config.rootAccessKeyId, createdAt: clock.now() }, secret);
    }
    return { accountId, homeRegion };
  }
  const existing = await store.listAccessKeys(accountId);
  if (existing.some((k) => k.principalType === 'Root')) return { accountId, homeRegion };

  const accessKeyId = newAccessKeyId();
  const secretAccessKey = newSecretAccessKey();
  await credentials.put({ ...root, accessKeyId, createdAt: clock.now() }, SecretBytes.adopt(Buffer.from(secretAccessKey, 'utf8')));
  writePrivateFile(
    join(config.dataDir, CREDENTIALS_FILE),
    `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\nregion = ${homeRegion}\n`,
    'replace',
  );
  return { accountId, homeRegion, generatedRoot: { accessKeyId, secretAccessKey } };
}


import { randomInt } from 'node:crypto';
import { Clock } from '../clock.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { MetadataStore } from '../../store/metadata/types.js';
import { CredentialStore, newAccessKeyId, newSecretAccessKey } from './credentials.js';
import { rootArn } from './principal.js';

export class AccountExistsError extends Error {
  constructor(accountId: string) {
    super(`account ${accountId} already exists`);
    this.name = 'AccountExistsError';
  }
}

export interface NewAccount {
  readonly accountId: string;
  /** The root user's credentials: shown once, stored only wrapped. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * Another account in this deployment, with root credentials of its own. Accounts are isolated as AWS's
 * are: each has its own IAM users, roles and policies, keys and aliases; another account's resources are
 * reachable only where a resource policy (a key policy, a trust policy) lets them be. A running server
 * finds the new root key on its first use (credentials are read from the store on a cache miss).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html
 */
export async function createAccount(store: MetadataStore, credentials: CredentialStore, clock: Clock, accountId?: string): Promise<NewAccount> {
  const id = accountId ?? String(randomInt(100_000_000_000, 999_999_999_999));
  if (!/^\d{12}$/.test(id)) throw new Error('an account id is 12 digits');
  if (await store.getAccount(id)) throw new AccountExistsError(id);
  await store.createAccount({ accountId: id, createdAt: clock.now() });
  const accessKeyId = newAccessKeyId();
  const secretAccessKey = newSecretAccessKey();
  await credentials.put(
    { accountId: id, principalArn: rootArn(id), principalType: 'Root', principalId: id, status: 'Active', accessKeyId, createdAt: clock.now() },
    SecretBytes.adopt(Buffer.from(secretAccessKey, 'utf8')),
  );
  return { accountId: id, accessKeyId, secretAccessKey };
}

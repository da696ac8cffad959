import { randomBytes } from 'node:crypto';
import { RootOfTrust } from '../crypto/root-of-trust/root-of-trust.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { AccessKeyRecord, MetadataStore } from '../../store/metadata/types.js';
import { Principal } from './principal.js';
import { Credential } from './sigv4/verify.js';

const MAX_CACHED = 10_000;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function secretAad(accessKeyId: string): Buffer {
  return Buffer.from(`strongroom:access-key:v1\0${accessKeyId}`, 'utf8');
}

/** `AKIA` + 16 characters, as AWS access key ids look. */
export function newAccessKeyId(prefix = 'AKIA'): string {
  return prefix + [...randomBytes(16)].map((b) => ALNUM[b % 32]).join('');
}

/** 40 characters of base64 alphabet, as AWS secret access keys look. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B');
}

/**
 * Access keys: stored with the secret wrapped by the root of trust, unwrapped on first use and cached
 * (with their derived SigV4 signing keys) in memory only.
 */
export class CredentialStore {
  readonly #cache = new Map<string, Credential>();

  constructor(
    private readonly store: MetadataStore,
    private readonly root: RootOfTrust,
  ) {}

  async lookup(accessKeyId: string): Promise<Credential | undefined> {
    const hit = this.#cache.get(accessKeyId);
    if (hit) return hit;
    const rec = await this.store.getAccessKey(accessKeyId);
    if (!rec) return undefined;
    const secret = await this.root.unwrap(rec.secretWrapped, secretAad(accessKeyId));
    const credential: Credential = { secret, principal: toPrincipal(rec), active: rec.status === 'Active', signingKeys: new Map() };
    if (this.#cache.size >= MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(accessKeyId, credential);
    return credential;
  }

  async put(rec: Omit<AccessKeyRecord, 'secretWrapped'>, secret: SecretBytes): Promise<void> {
    const secretWrapped = await this.root.wrap(secret, secretAad(rec.accessKeyId));
    await this.store.putAccessKey({ ...rec, secretWrapped });
    this.#cache.delete(rec.accessKeyId);
  }

  /** Whether `secret` is the stored secret of `accessKeyId` (constant-time). */
  async matches(accessKeyId: string, secret: SecretBytes): Promise<boolean> {
    const cred = await this.lookup(accessKeyId);
    return cred !== undefined && cred.secret.equals(secret);
  }
}

function toPrincipal(rec: AccessKeyRecord): Principal {
  return {
    type: rec.principalType,
    accountId: rec.accountId,
    arn: rec.principalArn,
    principalId: rec.principalId,
    accessKeyId: rec.accessKeyId,
  };
}

import { randomBytes } from 'node:crypto';
import { RootOfTrust } from '../crypto/root-of-trust/root-of-trust.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { AccessKeyRecord, MetadataStore } from '../../store/metadata/types.js';
import { SessionRecord } from '../../store/metadata/iam-types.js';
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

/** Where temporary (STS session) credentials are kept: they are not access keys. */
export interface SessionCredentialSource {
  getSession(accessKeyId: string): Promise<SessionRecord | undefined>;
}

/**
 * Access keys and STS session credentials: stored with the secret wrapped by the root of trust, unwrapped
 * on first use and cached (with their derived SigV4 signing keys) in memory only. Whoever changes a key's
 * status or deletes it calls `invalidate`.
 */
export class CredentialStore {
  readonly #cache = new Map<string, Credential>();
  /** Bumped by every invalidation: a lookup that raced one does not cache what it read before it. */
  #epoch = 0;

  constructor(
    private readonly store: MetadataStore,
    private readonly root: RootOfTrust,
    private readonly sessions?: SessionCredentialSource,
  ) {}

  async lookup(accessKeyId: string): Promise<Credential | undefined> {
    const hit = this.#cache.get(accessKeyId);
    if (hit) return hit;
    const epoch = this.#epoch;
    const rec = await this.store.getAccessKey(accessKeyId);
    let credential: Credential;
    if (rec) {
      const secret = await this.root.unwrap(rec.secretWrapped, secretAad(accessKeyId));
      credential = { secret, principal: toPrincipal(rec), active: rec.status === 'Active', signingKeys: new Map() };
    } else {
      const session = await this.sessions?.getSession(accessKeyId);
      if (!session) return undefined;
      const secret = await this.root.unwrap(session.secretWrapped, secretAad(accessKeyId));
      const principal = sessionPrincipal(session);
      credential = { secret, principal, active: true, signingKeys: new Map(), session: { tokenSha256: session.tokenSha256, expiresAt: session.expiresAt } };
    }
    if (epoch !== this.#epoch) return credential;
    if (this.#cache.size >= MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(accessKeyId, credential);
    return credential;
  }

  async put(rec: Omit<AccessKeyRecord, 'secretWrapped'>, secret: SecretBytes): Promise<void> {
    const secretWrapped = await this.seal(rec.accessKeyId, secret);
    await this.store.putAccessKey({ ...rec, secretWrapped });
    this.invalidate(rec.accessKeyId);
  }

  /** Wraps a new key's secret for storage, bound to its access key id (for stores that write the record themselves). */
  seal(accessKeyId: string, secret: SecretBytes): Promise<Buffer> {
    return this.root.wrap(secret, secretAad(accessKeyId));
  }

  /** Forgets a cached credential: its status changed or it was deleted. */
  invalidate(accessKeyId: string): void {
    this.#epoch++;
    this.#cache.delete(accessKeyId);
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
    // arn:aws:iam::111122223333:user/some/path/alice → alice
    ...(rec.principalType === 'IAMUser' ? { userName: rec.principalArn.slice(rec.principalArn.lastIndexOf('/') + 1) } : {}),
  };
}

function sessionPrincipal(rec: SessionRecord): Principal {
  return {
    type: rec.principalType,
    accountId: rec.accountId,
    arn: rec.principalArn,
    principalId: rec.principalId,
    accessKeyId: rec.accessKeyId,
    ...(rec.userName !== undefined ? { userName: rec.userName } : {}),
    ...(rec.roleArn !== undefined ? { roleArn: rec.roleArn } : {}),
    ...(rec.sessionName !== undefined ? { sessionName: rec.sessionName } : {}),
    sessionExpiresAt: rec.expiresAt,
    sessionCreatedAt: rec.createdAt,
  };
}

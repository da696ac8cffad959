import { randomBytes } from 'node:crypto';
import { KeyWrapper } from '../crypto/root-of-trust/root-of-trust.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { AccessKeyRecord, MetadataStore } from '../../store/metadata/types.js';
import { SessionRecord } from '../../store/metadata/iam-types.js';
import { Principal } from './principal.js';
import { Credential } from './sigv4/verify.js';
import { Cache, CacheSettings } from '../cache/cache.js';
import { InProcessInvalidation, InvalidationPort, TOPICS } from '../cache/invalidation.js';

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
 * on first use and cached (with their derived SigV4 signing keys) in memory only (src/core/cache). Whoever
 * changes a key's status or deletes it calls `invalidate`, which publishes the access key id on the
 * invalidation port (TOPICS.credentials): every process sharing the port drops it.
 */
export class CredentialStore {
  readonly #cache: Cache<Credential>;
  readonly #port: InvalidationPort;

  constructor(
    private readonly store: MetadataStore,
    private readonly root: KeyWrapper,
    private readonly sessions?: SessionCredentialSource,
    /** Without a port: this process's own (the store is not shared). */
    settings: Partial<CacheSettings> = {},
  ) {
    this.#port = settings.port ?? new InProcessInvalidation();
    this.#cache = new Cache({
      capacity: MAX_CACHED,
      ...(settings.ttlMs !== undefined ? { ttlMs: settings.ttlMs } : {}),
      ...(settings.now ? { now: settings.now } : {}),
    });
    this.#cache.listen(this.#port, TOPICS.credentials);
  }

  /** `operator seal`: forgets every unwrapped secret and signing key of this process (read again after the next unseal). */
  forgetAll(): void {
    this.#cache.clear();
  }

  lookup(accessKeyId: string): Promise<Credential | undefined> {
    return this.#cache.load(accessKeyId, () => this.#read(accessKeyId));
  }

  async #read(accessKeyId: string): Promise<Credential | undefined> {
    const rec = await this.store.getAccessKey(accessKeyId);
    if (rec) {
      const secret = await this.root.unwrap(rec.secretWrapped, secretAad(accessKeyId));
      return { secret, principal: toPrincipal(rec), active: rec.status === 'Active', signingKeys: new Map() };
    }
    const session = await this.sessions?.getSession(accessKeyId);
    if (!session) return undefined;
    const secret = await this.root.unwrap(session.secretWrapped, secretAad(accessKeyId));
    const principal = sessionPrincipal(session);
    return { secret, principal, active: true, signingKeys: new Map(), session: { tokenSha256: session.tokenSha256, expiresAt: session.expiresAt } };
  }

  async put(rec: Omit<AccessKeyRecord, 'secretWrapped'>, secret: SecretBytes): Promise<void> {
    const secretWrapped = await this.seal(rec.accessKeyId, secret);
    await this.store.putAccessKey({ ...rec, secretWrapped });
    await this.invalidate(rec.accessKeyId);
  }

  /** Wraps a new key's secret for storage, bound to its access key id (for stores that write the record themselves). */
  seal(accessKeyId: string, secret: SecretBytes): Promise<Buffer> {
    return this.root.wrap(secret, secretAad(accessKeyId));
  }

  /** Forgets a credential here and in every process sharing the port: its status changed or it was deleted. */
  invalidate(accessKeyId: string): Promise<void> {
    return this.#port.publish(TOPICS.credentials, accessKeyId);
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

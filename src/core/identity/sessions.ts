import { createHash, randomBytes } from 'node:crypto';
import { Clock } from '../clock.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { SessionRecord } from '../../store/metadata/iam-types.js';
import { CredentialStore, newAccessKeyId, newSecretAccessKey } from './credentials.js';

/** Expired sessions are kept this long, so that their callers hear "expired" rather than "invalid". */
const EXPIRED_KEPT_MS = 24 * 3600 * 1000;

export interface SessionStore {
  putSession(session: SessionRecord): Promise<void>;
  deleteExpiredSessions(now: number): Promise<number>;
}

/** Temporary credentials as STS returns them (the secret and the token are shown once). */
export interface IssuedCredentials {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
  readonly SessionToken: string;
  readonly Expiration: Date;
}

/**
 * STS temporary credentials: an ASIA… access key id, a secret (stored wrapped by the root of trust,
 * bound to the key id) and a session token (stored only as its SHA-256: it is 96 random bytes, so the
 * hash cannot be reversed, and SigV4 only needs to recognize it). They expire by the domain clock.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp.html
 */
export class SessionIssuer {
  constructor(
    private readonly store: SessionStore,
    private readonly credentials: CredentialStore,
    private readonly clock: Clock,
  ) {}

  async issue(
    who: Omit<SessionRecord, 'accessKeyId' | 'secretWrapped' | 'tokenSha256' | 'expiresAt' | 'createdAt'>,
    durationSeconds: number,
  ): Promise<IssuedCredentials> {
    const now = this.clock.now();
    const accessKeyId = newAccessKeyId('ASIA');
    const secretAccessKey = newSecretAccessKey();
    const sessionToken = randomBytes(96).toString('base64');
    const expiresAt = now + durationSeconds * 1000;
    await this.store.putSession({
      ...who,
      accessKeyId,
      secretWrapped: await this.credentials.seal(accessKeyId, SecretBytes.adopt(Buffer.from(secretAccessKey, 'utf8'))),
      tokenSha256: createHash('sha256').update(sessionToken, 'utf8').digest(),
      expiresAt,
      createdAt: now,
    });
    await this.store.deleteExpiredSessions(now - EXPIRED_KEPT_MS);
    return { AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey, SessionToken: sessionToken, Expiration: new Date(expiresAt) };
  }
}

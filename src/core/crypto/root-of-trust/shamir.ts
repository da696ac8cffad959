import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES, open, seal } from '../aes-gcm.js';
import { SecretBytes } from '../secret-bytes.js';
import { RootOfTrust, RootOfTrustError } from './root-of-trust.js';

/**
 * The Shamir root of trust (README "Sealed start"): a random 256-bit root key that exists only in memory. At
 * `operator init` it is split into N shares over GF(256), T of which rebuild it (Shamir 1979, with the audited
 * `shamir-secret-sharing` package: one random polynomial of degree T-1 per byte, each share's x-coordinate a
 * random non-zero byte); nothing of it is written anywhere. A server on such a deployment starts sealed; the
 * shares given to `operator unseal` rebuild the key, and the key is accepted only if it opens the keyring
 * (AES-256-GCM, aad strongroom:keyring:v1): the keyring is the check value, no plaintext secret is stored.
 *
 * A share as printed: `srs1-<set id>-<index>-<base64url(share)>-<check>`. The set id (random, stored with the
 * deployment) and the index (1…N) name the share, so shares of another deployment or of an earlier init and a
 * share given twice are refused before any combining; `check` (the first 4 bytes of SHA-256 over the rest, hex)
 * catches a mistyped share. A share that is well formed but altered rebuilds a wrong key: the keyring refuses it.
 */
export const SHAMIR_KIND = 'shamir';
const SHARE_PREFIX = 'srs1';
const FORMAT = 0x01;

/** Stored with the deployment (a settings row and, for SQLite, the data dir's marker file): no secret. */
export interface ShamirParameters {
  /** Random hex id of this split: shares name it. */
  readonly setId: string;
  readonly shares: number;
  readonly threshold: number;
}

export interface Share {
  readonly setId: string;
  /** 1…N, as printed at init. */
  readonly index: number;
  /** The share's bytes (the library's: y-values ‖ x-coordinate). */
  readonly bytes: SecretBytes;
}

export class ShareError extends RootOfTrustError {
  constructor(message: string) {
    super(message);
    this.name = 'ShareError';
  }
}

export function newSetId(): string {
  return randomBytes(6).toString('hex');
}

/** Checks N and T: 2 ≤ T ≤ N ≤ 255 (GF(256) has 255 non-zero x-coordinates; one share alone would be the key). */
export function checkSplit(shares: number, threshold: number): string | undefined {
  if (!Number.isInteger(shares) || !Number.isInteger(threshold)) return '--key-shares and --key-threshold must be whole numbers';
  if (threshold < 2) return '--key-threshold must be at least 2 (a threshold of 1 would make every share the root key)';
  if (shares < threshold) return `--key-shares (${shares}) must be at least --key-threshold (${threshold})`;
  if (shares > 255) return '--key-shares must be at most 255';
  return undefined;
}

/** Splits `key` into `shares` encoded shares, any `threshold` of which rebuild it. */
export async function splitRootKey(key: SecretBytes, params: ShamirParameters): Promise<string[]> {
  const parts = await split(new Uint8Array(key.reveal()), params.shares, params.threshold);
  try {
    return parts.map((p, i) => encodeShare({ setId: params.setId, index: i + 1, bytes: SecretBytes.adopt(Buffer.from(p)) }));
  } finally {
    for (const p of parts) p.fill(0);
  }
}

export function encodeShare(share: Share): string {
  const body = `${SHARE_PREFIX}-${share.setId}-${share.index}-${share.bytes.reveal().toString('base64url')}`;
  share.bytes.wipe();
  return `${body}-${checkOf(body)}`;
}

/** Parses a share as printed (whitespace around it ignored); ShareError naming what is wrong, never quoting it. */
export function decodeShare(text: string): Share {
  const t = text.trim();
  if (!t.startsWith(SHARE_PREFIX + '-')) throw new ShareError(`that is not a Strongroom key share (they begin with ${SHARE_PREFIX}-)`);
  // base64url may itself hold '-': the check is the last 8 hex digits after the last '-'.
  const cut = t.lastIndexOf('-');
  const body = t.slice(0, cut);
  const check = t.slice(cut + 1);
  const expected = Buffer.from(checkOf(body));
  if (check.length !== expected.length || !timingSafeEqual(Buffer.from(check), expected)) {
    throw new ShareError('the key share is corrupted (its check digits do not match): copy it again');
  }
  const m = /^srs1-([0-9a-f]{12})-([0-9]{1,3})-([A-Za-z0-9_-]+)$/.exec(body);
  const bytes = m ? Buffer.from(m[3]!, 'base64url') : Buffer.alloc(0);
  const n = m ? Number(m[2]) : 0;
  if (!m || n < 1 || n > 255 || bytes.length !== KEY_BYTES + 1) {
    bytes.fill(0);
    throw new ShareError('the key share is malformed');
  }
  return { setId: m[1]!, index: n, bytes: SecretBytes.adopt(bytes) };
}

function checkOf(body: string): string {
  return createHash('sha256').update(body).digest().subarray(0, 4).toString('hex');
}

/**
 * The shares given so far to one process (the server, or the primary of its workers): refuses a share of
 * another set and a share whose index (or bytes) it already holds; at T shares it combines them and forgets
 * them. Whether the combined key is the right one is for the caller to prove (it must open the keyring); a
 * wrong one resets the progress (`reset`).
 */
export class ShareCollector {
  #shares = new Map<number, Share>();

  constructor(readonly params: ShamirParameters) {}

  get progress(): number {
    return this.#shares.size;
  }

  /** Adds a share; returns the combined key once T shares are in (and forgets the shares), else undefined. */
  async add(share: Share): Promise<SecretBytes | undefined> {
    if (share.setId !== this.params.setId) {
      share.bytes.wipe();
      throw new ShareError(`that key share belongs to another set (${share.setId}); this deployment's shares are of set ${this.params.setId}`);
    }
    if (share.index > this.params.shares) {
      share.bytes.wipe();
      throw new ShareError(`there is no key share ${share.index}: this deployment was split into ${this.params.shares}`);
    }
    const x = share.bytes.reveal()[KEY_BYTES]!;
    for (const held of this.#shares.values()) {
      if (held.index === share.index || held.bytes.reveal()[KEY_BYTES] === x) {
        share.bytes.wipe();
        throw new ShareError(`key share ${share.index} was given already (${this.#shares.size} of ${this.params.threshold}): give another one`);
      }
    }
    this.#shares.set(share.index, share);
    if (this.#shares.size < this.params.threshold) return undefined;
    const parts = [...this.#shares.values()].map((s) => new Uint8Array(s.bytes.reveal()));
    this.reset();
    try {
      return SecretBytes.adopt(Buffer.from(await combine(parts)));
    } finally {
      for (const p of parts) p.fill(0);
    }
  }

  /** Forgets (and wipes) every share given so far. */
  reset(): void {
    for (const s of this.#shares.values()) s.bytes.wipe();
    this.#shares.clear();
  }
}

/** The root key, rebuilt from the shares (or made at init): wraps and unwraps the keyring like the file root. */
export class ShamirRootOfTrust implements RootOfTrust {
  readonly kind = SHAMIR_KIND;
  readonly description: string;
  readonly #key: SecretBytes;

  constructor(key: SecretBytes, params: ShamirParameters) {
    if (key.length !== KEY_BYTES) throw new RootOfTrustError('the combined root key has the wrong length');
    this.#key = key;
    this.description = `Shamir key shares (${params.threshold} of ${params.shares}, set ${params.setId})`;
  }

  async wrap(plaintext: SecretBytes, aad: Buffer): Promise<Buffer> {
    const { nonce, ciphertext, tag } = seal(this.#key.reveal(), plaintext.reveal(), aad);
    return Buffer.concat([Buffer.of(FORMAT), nonce, ciphertext, tag]);
  }

  async unwrap(wrapped: Buffer, aad: Buffer): Promise<SecretBytes> {
    if (wrapped.length < 1 + NONCE_BYTES + TAG_BYTES || wrapped[0] !== FORMAT) throw new RootOfTrustError('wrapped blob is malformed');
    const plain = open(this.#key.reveal(), wrapped.subarray(1, 1 + NONCE_BYTES), wrapped.subarray(1 + NONCE_BYTES, wrapped.length - TAG_BYTES), wrapped.subarray(wrapped.length - TAG_BYTES), aad);
    if (!plain) throw new RootOfTrustError('wrapped blob does not authenticate');
    return SecretBytes.adopt(plain);
  }

  async close(): Promise<void> {
    this.#key.wipe();
  }
}

/** In a SQLite data dir made by `operator init`: the split's parameters (no secret), so `serve` knows to start sealed. */
export const SHAMIR_MARKER_FILE = 'root-of-trust.shamir';
/** The settings row holding the split's parameters (on PostgreSQL the only record of them). */
export const SHAMIR_SETTING = 'root_of_trust_shamir';

export function parseShamirParameters(text: string): ShamirParameters {
  const p = JSON.parse(text) as Partial<ShamirParameters>;
  if (typeof p.setId !== 'string' || typeof p.shares !== 'number' || typeof p.threshold !== 'number') throw new RootOfTrustError('the stored Shamir parameters are malformed');
  return { setId: p.setId, shares: p.shares, threshold: p.threshold };
}

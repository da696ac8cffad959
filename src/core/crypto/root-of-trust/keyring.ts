import { randomBytes } from 'node:crypto';
import { KeyringStore, StoredKeyring } from '../../../store/metadata/keyring-types.js';
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES, open, seal } from '../aes-gcm.js';
import { SecretBytes } from '../secret-bytes.js';
import { KeyWrapper, KeyringSealedError, RootOfTrust, RootOfTrustError } from './root-of-trust.js';

/** The aad the root of trust wraps the keyring with. */
export const KEYRING_AAD = Buffer.from('strongroom:keyring:v1', 'utf8');

/** A blob wrapped by a keyring key: `0x02 ‖ u32be(keyring key id) ‖ nonce ‖ ciphertext ‖ tag`. */
const BLOB_V2 = 0x02;
/** A blob wrapped directly by the file root before the keyring (`0x01 ‖ nonce ‖ ct ‖ tag`): keyring key 0. */
const BLOB_V1_LEGACY = 0x01;
const V2_HEADER_BYTES = 5;
/** The keyring key id of blobs from before the keyring (their key is the old file root key). */
export const LEGACY_KEY_ID = 0;

/** The serialized keyring's format version. */
const KEYRING_V1 = 0x01;
const ENTRY_BYTES = 4 + 8 + KEY_BYTES;

interface KeyringKey {
  readonly id: number;
  readonly createdAt: number;
  readonly key: SecretBytes;
}

/** What the keyring is, for operators and the audit record (no key material). */
export interface KeyringSummary {
  readonly generation: number;
  readonly activeKeyId: number;
  readonly keyIds: readonly number[];
  readonly rootKind: string;
  readonly rootDescription: string;
}

export interface UnsealOptions {
  /** Make the keyring when the store holds none (a deployment's first start with the keyring). */
  readonly create?: boolean;
  /**
   * With `create`: the key that wrapped blobs directly before the keyring existed (an upgraded deployment's file
   * root key), kept as keyring key 0 so those blobs unwrap under any later root. Ownership passes to the keyring.
   */
  readonly legacyKey?: () => SecretBytes;
}

/** The keyring was wrapped by another kind of root than the one given (e.g. moved to an HSM, started with the file). */
export class KeyringRootMismatchError extends RootOfTrustError {
  constructor(stored: StoredKeyring, root: RootOfTrust) {
    super(
      `the keyring is wrapped by the ${stored.rootKind} root of trust (${stored.rootDescription}), but the server was given the ` +
        `${root.kind} root of trust (${root.description}): start with --root-of-trust ${stored.rootKind} (STRONGROOM_ROOT_OF_TRUST)`,
    );
    this.name = 'KeyringRootMismatchError';
  }
}

/**
 * The keyring between the root of trust and every stored secret (src/core/crypto/README.md, level 1b): numbered
 * 256-bit keyring keys, the highest one active for new blobs, all of them stored together in one row wrapped
 * by the root of trust. `unseal` unwraps the row once (one root call, one HSM operation at start); from then
 * on wrap/unwrap are AES-256-GCM in the process, so the root — an HSM — is off the hot path, and a root that
 * goes away does not stop what is already unsealed. Each blob names its keyring key in a 5-byte header,
 * bound into its aad; a blob naming a key this process does not hold (another node added one) makes it reload
 * the row once. Sealed (before `unseal`, after `seal`), wrap and unwrap throw KeyringSealedError.
 */
export class Keyring implements KeyWrapper {
  #keys = new Map<number, KeyringKey>();
  #active = -1;
  #generation = 0;
  #root: RootOfTrust | undefined;
  #stored: StoredKeyring | undefined;
  #reloading: Promise<void> | undefined;

  constructor(
    private readonly store: KeyringStore,
    private readonly now: () => number = Date.now,
  ) {}

  get sealed(): boolean {
    return this.#active < 0;
  }

  summary(): KeyringSummary {
    if (this.sealed || !this.#stored) throw new KeyringSealedError();
    return {
      generation: this.#generation,
      activeKeyId: this.#active,
      keyIds: [...this.#keys.keys()].sort((a, b) => a - b),
      rootKind: this.#stored.rootKind,
      rootDescription: this.#stored.rootDescription,
    };
  }

  /**
   * Unwraps the stored keyring with `root` (one root call) and holds its keys; with `create`, makes the keyring
   * first when there is none (of processes racing to make it, one wins and the others open the winner's).
   * Throws KeyringRootMismatchError when another kind of root wrapped it, RootOfTrustError when `root` does not
   * open it, and RootOfTrustError when there is none and `create` is not set.
   */
  async unseal(root: RootOfTrust, options: UnsealOptions = {}): Promise<void> {
    let stored = await this.store.get();
    if (!stored && options.create) {
      const keys: KeyringKey[] = [];
      if (options.legacyKey) keys.push({ id: LEGACY_KEY_ID, createdAt: this.now(), key: options.legacyKey() });
      keys.push({ id: 1, createdAt: this.now(), key: SecretBytes.adopt(randomBytes(KEY_BYTES)) });
      const wrapped = await wrapKeyring(root, keys);
      wipe(keys);
      await this.store.create({ rootKind: root.kind, rootDescription: root.description, wrapped, activeKeyId: 1, updatedAt: this.now() });
      stored = await this.store.get();
    }
    if (!stored) throw new RootOfTrustError('this deployment has no keyring yet: start `strongroom serve` on it once first');
    await this.#load(root, stored);
    this.#root = root;
  }

  /** Wipes every keyring key from memory; wrap and unwrap throw KeyringSealedError until the next unseal. */
  seal(): void {
    wipe([...this.#keys.values()]);
    this.#keys = new Map();
    this.#active = -1;
    this.#root = undefined;
  }

  async wrap(plaintext: SecretBytes, aad: Buffer): Promise<Buffer> {
    const key = this.#keys.get(this.#active);
    if (!key) throw new KeyringSealedError();
    const header = Buffer.alloc(V2_HEADER_BYTES);
    header[0] = BLOB_V2;
    header.writeUInt32BE(key.id, 1);
    const { nonce, ciphertext, tag } = seal(key.key.reveal(), plaintext.reveal(), Buffer.concat([header, aad]));
    return Buffer.concat([header, nonce, ciphertext, tag]);
  }

  async unwrap(wrapped: Buffer, aad: Buffer): Promise<SecretBytes> {
    if (this.sealed) throw new KeyringSealedError();
    let id: number;
    let body: Buffer;
    let fullAad: Buffer;
    if (wrapped.length >= V2_HEADER_BYTES + NONCE_BYTES + TAG_BYTES && wrapped[0] === BLOB_V2) {
      id = wrapped.readUInt32BE(1);
      body = wrapped.subarray(V2_HEADER_BYTES);
      fullAad = Buffer.concat([wrapped.subarray(0, V2_HEADER_BYTES), aad]);
    } else if (wrapped.length >= 1 + NONCE_BYTES + TAG_BYTES && wrapped[0] === BLOB_V1_LEGACY) {
      id = LEGACY_KEY_ID;
      body = wrapped.subarray(1);
      fullAad = aad;
    } else {
      throw new RootOfTrustError('wrapped blob is malformed');
    }
    let key = this.#keys.get(id);
    if (!key) {
      // Another node may have added it (operator rotate-keyring there): read the row again, once.
      await this.#reload();
      key = this.#keys.get(id);
      if (!key) throw new RootOfTrustError(`wrapped blob names keyring key ${id}, which the keyring does not hold`);
    }
    const plain = open(key.key.reveal(), body.subarray(0, NONCE_BYTES), body.subarray(NONCE_BYTES, body.length - TAG_BYTES), body.subarray(body.length - TAG_BYTES), fullAad);
    if (!plain) throw new RootOfTrustError('wrapped blob does not authenticate');
    return SecretBytes.adopt(plain);
  }

  /** Reloads when the stored keyring changed (a key added, another root), so new blobs use the newest key; true if it did. */
  async refresh(): Promise<boolean> {
    if (this.sealed) return false;
    const generation = await this.store.generation();
    if (generation === undefined || generation === this.#generation) return false;
    await this.#reload();
    return true;
  }

  /**
   * `operator rotate-keyring`: adds a keyring key (the next id) and makes it active for new blobs. Existing
   * blobs are not touched; their keys stay. One compare-and-swap write of the re-wrapped row. Returns the id.
   */
  async addKey(): Promise<number> {
    return this.#change(async (keys) => {
      const id = Math.max(...keys.map((k) => k.id)) + 1;
      keys.push({ id, createdAt: this.now(), key: SecretBytes.adopt(randomBytes(KEY_BYTES)) });
      return { root: this.#requireRoot(), activeKeyId: id, result: id };
    });
  }

  /**
   * `operator rotate-root`: the same keyring keys wrapped by `next` instead, in one compare-and-swap write; nothing
   * else is re-encrypted. `next` is checked to open what it wrapped before the write.
   */
  async moveTo(next: RootOfTrust): Promise<void> {
    await this.#change(async () => ({ root: next, activeKeyId: this.#active, result: undefined }));
    this.#root = next;
  }

  async #change<T>(edit: (keys: KeyringKey[]) => Promise<{ root: RootOfTrust; activeKeyId: number; result: T }>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const from = this.#requireRoot();
      const stored = await this.store.get();
      if (!stored) throw new RootOfTrustError('this deployment has no keyring');
      const keys = parseKeyring(await from.unwrap(stored.wrapped, KEYRING_AAD));
      try {
        const { root, activeKeyId, result } = await edit(keys);
        const wrapped = await wrapKeyring(root, keys);
        // The new wrapping must open before it replaces the old one (a root that wraps but cannot unwrap would lose everything).
        (await root.unwrap(wrapped, KEYRING_AAD)).wipe();
        const next = { rootKind: root.kind, rootDescription: root.description, wrapped, activeKeyId, updatedAt: this.now() };
        if (await this.store.replace(next, stored.generation)) {
          await this.#load(root, { ...next, generation: stored.generation + 1 });
          return result;
        }
      } finally {
        wipe(keys);
      }
      if (attempt >= 3) throw new RootOfTrustError('the keyring kept changing under this write (another operator command?); try again');
    }
  }

  #requireRoot(): RootOfTrust {
    if (!this.#root) throw new KeyringSealedError();
    return this.#root;
  }

  #reload(): Promise<void> {
    this.#reloading ??= (async () => {
      try {
        const root = this.#requireRoot();
        const stored = await this.store.get();
        if (stored && stored.generation !== this.#generation) await this.#load(root, stored);
      } finally {
        this.#reloading = undefined;
      }
    })();
    return this.#reloading;
  }

  async #load(root: RootOfTrust, stored: StoredKeyring): Promise<void> {
    if (stored.rootKind !== root.kind) throw new KeyringRootMismatchError(stored, root);
    const keys = parseKeyring(await root.unwrap(stored.wrapped, KEYRING_AAD));
    if (!keys.some((k) => k.id === stored.activeKeyId)) throw new RootOfTrustError(`the keyring has no key ${stored.activeKeyId}, which its row names active`);
    const old = [...this.#keys.values()];
    this.#keys = new Map(keys.map((k) => [k.id, k]));
    this.#active = stored.activeKeyId;
    this.#generation = stored.generation;
    this.#stored = stored;
    wipe(old);
  }
}

async function wrapKeyring(root: RootOfTrust, keys: readonly KeyringKey[]): Promise<Buffer> {
  const plain = serializeKeyring(keys);
  try {
    return await root.wrap(plain, KEYRING_AAD);
  } finally {
    plain.wipe();
  }
}

/** `0x01 ‖ u32 count ‖ (u32 id ‖ u64 createdAt ms ‖ key(32))*` */
export function serializeKeyring(keys: readonly KeyringKey[]): SecretBytes {
  const out = Buffer.alloc(5 + keys.length * ENTRY_BYTES);
  out[0] = KEYRING_V1;
  out.writeUInt32BE(keys.length, 1);
  keys.forEach((k, i) => {
    const at = 5 + i * ENTRY_BYTES;
    out.writeUInt32BE(k.id, at);
    out.writeBigUInt64BE(BigInt(k.createdAt), at + 4);
    k.key.reveal().copy(out, at + 12);
  });
  return SecretBytes.adopt(out);
}

/** Parses (and wipes) an unwrapped keyring; RootOfTrustError when it is not one. */
export function parseKeyring(plain: SecretBytes): KeyringKey[] {
  const b = plain.reveal();
  try {
    if (b.length < 5 || b[0] !== KEYRING_V1) throw new RootOfTrustError('the unwrapped keyring is malformed');
    const count = b.readUInt32BE(1);
    if (count === 0 || b.length !== 5 + count * ENTRY_BYTES) throw new RootOfTrustError('the unwrapped keyring is malformed');
    const keys: KeyringKey[] = [];
    for (let i = 0; i < count; i++) {
      const at = 5 + i * ENTRY_BYTES;
      keys.push({
        id: b.readUInt32BE(at),
        createdAt: Number(b.readBigUInt64BE(at + 4)),
        key: SecretBytes.adopt(Buffer.from(b.subarray(at + 12, at + 12 + KEY_BYTES))),
      });
    }
    return keys;
  } finally {
    plain.wipe();
  }
}

function wipe(keys: readonly KeyringKey[]): void {
  for (const k of keys) k.key.wipe();
}

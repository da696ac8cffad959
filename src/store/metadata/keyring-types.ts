/**
 * The keyring as the metadata store holds it (src/core/crypto/root-of-trust/keyring.ts): one row, the whole
 * keyring wrapped by the root of trust in one blob, so moving it to another root or adding a keyring key is
 * one UPDATE (a crash leaves the old keyring or the new one, never a mix).
 */
export interface StoredKeyring {
  /** The kind of root that wrapped it (`file`, `pkcs11`, …). */
  readonly rootKind: string;
  /** That root as messages name it (no secret: e.g. the HSM token and key labels). */
  readonly rootDescription: string;
  /** RootOfTrust.wrap(the serialized keyring, KEYRING_AAD). */
  readonly wrapped: Buffer;
  /** 1 for the first keyring, +1 on every change: nodes reload when it moved, writers compare-and-swap on it. */
  readonly generation: number;
  /** The keyring key new blobs are wrapped with (also inside `wrapped`; here for operators and listings). */
  readonly activeKeyId: number;
  readonly updatedAt: number;
}

export interface KeyringStore {
  get(): Promise<StoredKeyring | undefined>;
  /** The stored generation alone (a cheap check whether the keyring changed); undefined when there is none. */
  generation(): Promise<number | undefined>;
  /** Stores the first keyring (generation 1); false when one exists already (another node or process made it). */
  create(keyring: Omit<StoredKeyring, 'generation'>): Promise<boolean>;
  /**
   * Replaces the keyring with `keyring` at generation `expectedGeneration + 1`, in one transaction, only if the
   * stored generation is still `expectedGeneration`; false (nothing written) when another writer came first.
   */
  replace(keyring: Omit<StoredKeyring, 'generation'>, expectedGeneration: number): Promise<boolean>;
}

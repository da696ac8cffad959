import { KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { KeyWrapper } from '../crypto/root-of-trust/root-of-trust.js';
import { SignedTreeHead, keyIdOf, treeHeadSignatureInput } from './tree-head.js';

/** The audit signing key as stored: the public key in the clear, the private key only wrapped by the root of trust. */
export interface StoredTreeHeadKey {
  readonly keyId: string;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKey: Buffer;
  readonly wrappedPrivateKey: Buffer;
  readonly createdAt: number;
}

/** Where the key lives (the audit store, migration 010). */
export interface TreeHeadKeyStore {
  treeHeadKey(): Promise<StoredTreeHeadKey | undefined>;
  /** Rejects when a key is stored already (there is only ever one). */
  addTreeHeadKey(key: StoredTreeHeadKey): Promise<void>;
}

/**
 * Signs the audit log's tree heads with one Ed25519 key, made once per data dir (like the CloudTrail digest
 * keys of digest-keys.ts, its private key is stored only wrapped by the root of trust, the AAD naming its
 * key id). Unwrapped once at start, so signing in the commit transaction is synchronous (~50 µs).
 */
export class TreeHeadSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;

  constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
    this.keyId = keyIdOf(this.publicKey);
  }

  /**
   * The data dir's signer; the key is made and stored on first use. Refuses to start when the stored
   * public key is not the wrapped private key's (someone replaced it to pass off heads of their own key).
   */
  static async openOrCreate(store: TreeHeadKeyStore, root: KeyWrapper, now: number = Date.now()): Promise<TreeHeadSigner> {
    const stored = await store.treeHeadKey();
    if (!stored) {
      const { privateKey } = generateKeyPairSync('ed25519');
      const signer = new TreeHeadSigner(privateKey);
      const wrapped = await root.wrap(SecretBytes.adopt(privateKey.export({ format: 'der', type: 'pkcs8' })), aad(signer.keyId));
      try {
        await store.addTreeHeadKey({ keyId: signer.keyId, publicKey: signer.publicKey.export({ format: 'der', type: 'spki' }), wrappedPrivateKey: wrapped, createdAt: now });
        return signer;
      } catch (err) {
        // Another process or node starting on the same new database stored its key first (the store keeps one
        // key, refusing a second): every process signs with that one, or heads would carry two keys.
        const theirs = await store.treeHeadKey();
        if (!theirs) throw err;
        return TreeHeadSigner.#open(theirs, root);
      }
    }
    return TreeHeadSigner.#open(stored, root);
  }

  static async #open(stored: StoredTreeHeadKey, root: KeyWrapper): Promise<TreeHeadSigner> {
    const der = await root.unwrap(stored.wrappedPrivateKey, aad(stored.keyId));
    let signer: TreeHeadSigner;
    try {
      signer = new TreeHeadSigner(createPrivateKey({ key: der.reveal(), format: 'der', type: 'pkcs8' }));
    } finally {
      der.wipe();
    }
    if (signer.keyId !== stored.keyId || !signer.publicKey.export({ format: 'der', type: 'spki' }).equals(stored.publicKey)) {
      throw new Error(`the audit signing key's stored public key is not its private key's (${stored.keyId}): the database was altered`);
    }
    return signer;
  }

  sign(treeSize: number, rootHash: Buffer, timestamp: number): SignedTreeHead {
    return { treeSize, rootHash, timestamp, keyId: this.keyId, signature: sign(null, treeHeadSignatureInput(treeSize, rootHash, timestamp), this.privateKey) };
  }
}

function aad(keyId: string): Buffer {
  return Buffer.from(`strongroom:audit-tree-head-key:${keyId}`, 'utf8');
}

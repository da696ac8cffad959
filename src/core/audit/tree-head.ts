import { KeyObject, createHash, verify } from 'node:crypto';
import { HASH_BYTES } from './merkle.js';

/**
 * A signed tree head (a checkpoint): the Merkle tree hash of the first `treeSize` records, when, and a
 * signature by the audit signing key, whose private half only the root of trust can unwrap. Whoever can
 * write the database but not use the root of trust cannot make one, so a rewritten tail shows: its new
 * root has no valid signature, and the heads signed before it no longer match the records.
 */
export interface SignedTreeHead {
  readonly treeSize: number;
  readonly rootHash: Buffer;
  /** Milliseconds since the epoch, as RFC 6962's timestamps. */
  readonly timestamp: number;
  /** Which key signed it: see `keyIdOf`. */
  readonly keyId: string;
  /** Ed25519 (RFC 8032) over `treeHeadSignatureInput`. */
  readonly signature: Buffer;
}

/**
 * The bytes signed: RFC 6962 §3.5's TreeHeadSignature — version v1 (0), signature_type tree_hash (1),
 * uint64 timestamp, uint64 tree_size, the 32-byte root, big-endian as TLS encodes them. Signed with
 * Ed25519 directly rather than inside RFC 5246's `digitally-signed` wrapper (which names only RSA, DSA and
 * ECDSA): the key id travels beside the signature instead.
 * https://www.rfc-editor.org/rfc/rfc6962#section-3.5
 */
export function treeHeadSignatureInput(treeSize: number, rootHash: Uint8Array, timestamp: number): Buffer {
  if (rootHash.length !== HASH_BYTES) throw new Error(`a tree head's root is ${HASH_BYTES} bytes`);
  const out = Buffer.alloc(2 + 8 + 8 + HASH_BYTES);
  out[0] = 0; // Version v1
  out[1] = 1; // SignatureType tree_hash
  out.writeBigUInt64BE(BigInt(timestamp), 2);
  out.writeBigUInt64BE(BigInt(treeSize), 10);
  out.set(rootHash, 18);
  return out;
}

/** Whether `head`'s signature is `publicKey`'s over its size, root and time. */
export function treeHeadSignatureValid(head: SignedTreeHead, publicKey: KeyObject): boolean {
  try {
    return verify(null, treeHeadSignatureInput(head.treeSize, head.rootHash, head.timestamp), publicKey, head.signature);
  } catch {
    return false; // a malformed signature or a key of another type: not valid, not a crash
  }
}

/**
 * A key's id: SHA-256 of its DER SubjectPublicKeyInfo, hex — what RFC 6962 §3.2 uses as a log's LogID,
 * so a pinned public key names itself the same way the stored heads do.
 */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex');
}

import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { NONCE_BYTES, TAG_BYTES } from '../crypto/aes-gcm.js';

/**
 * How a volume's blocks are sealed at rest (issue 12).
 *
 * The unit is a 64 KiB chunk: small enough that a 4 KiB random write re-seals 64 KiB (read-modify-write),
 * large enough that sequential I/O moves few records and the chunk map stays small (a 1 TiB volume has 2^24
 * chunks, and only written ones have a row). The EBS direct APIs' 512 KiB block n is chunks 8n … 8n+7.
 *
 * A chunk record is nonce ‖ AES-256-GCM(ciphertext) ‖ tag, sealed with
 * - a per-write key HMAC-SHA256(data key, binding): no key ever seals two records, so GCM's limit of 2^32
 *   random nonces per key is never approached however often a chunk is rewritten;
 * - a fresh random 96-bit nonce per write (never reused on rewrite, even with the same key);
 * - AAD = binding = (volume or snapshot id the chunk was sealed for, chunk index, generation). The generation
 *   is unique per write (reserved durably before sealing) and recorded in the metadata store's chunk map, so
 *   a record moved to another index, swapped between volumes or rolled back to an older write of the same
 *   chunk fails authentication.
 */
export const CHUNK_BYTES = 64 * 1024;
export const RECORD_BYTES = NONCE_BYTES + CHUNK_BYTES + TAG_BYTES;
/** The EBS direct APIs' block: 512 KiB = 8 chunks. */
export const EBS_BLOCK_BYTES = 512 * 1024;
export const CHUNKS_PER_EBS_BLOCK = EBS_BLOCK_BYTES / CHUNK_BYTES;

export interface ChunkBinding {
  /** The volume or snapshot id the chunk is sealed for. */
  readonly boundTo: string;
  readonly index: number;
  readonly generation: number;
}

/** The last owner's binding prefix (chunks are sealed and opened an owner at a time). */
let prefixCache: { boundTo: string; prefix: Buffer } | undefined;

function bindingBytes(b: ChunkBinding): Buffer {
  if (prefixCache?.boundTo !== b.boundTo) prefixCache = { boundTo: b.boundTo, prefix: Buffer.from(`strongroom ebs chunk v1\0${b.boundTo}\0`, 'utf8') };
  const { prefix } = prefixCache;
  const out = Buffer.allocUnsafe(prefix.length + 16);
  prefix.copy(out);
  // index and generation as 64-bit big-endian (both safe integers), without BigInt.
  out.writeUInt32BE(Math.floor(b.index / 2 ** 32), prefix.length);
  out.writeUInt32BE(b.index >>> 0, prefix.length + 4);
  out.writeUInt32BE(Math.floor(b.generation / 2 ** 32), prefix.length + 8);
  out.writeUInt32BE(b.generation >>> 0, prefix.length + 12);
  return out;
}

function writeKey(dataKey: Buffer, binding: Buffer): Buffer {
  return createHmac('sha256', dataKey).update(binding).digest();
}

/**
 * Seals one 64 KiB chunk with `nonce` (12 fresh random bytes, never used before: the caller draws them, many at
 * once) and a per-write key. Returns the record as its three pieces — nonce, ciphertext, tag — to be written
 * one after the other (gathered, without copying the ciphertext into one buffer).
 */
export function sealChunk(dataKey: Buffer, b: ChunkBinding, plaintext: Buffer, nonce: Buffer): [Buffer, Buffer, Buffer] {
  if (plaintext.length !== CHUNK_BYTES || nonce.length !== NONCE_BYTES) throw new RangeError('a chunk is 64 KiB, its nonce 12 bytes');
  const binding = bindingBytes(b);
  const key = writeKey(dataKey, binding);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  key.fill(0);
  cipher.setAAD(binding);
  const ciphertext = cipher.update(plaintext);
  cipher.final();
  return [nonce, ciphertext, cipher.getAuthTag()];
}

/** Fresh random nonces for `count` chunks, drawn at once (one call to the CSPRNG per segment, not per chunk). */
export function freshNonces(count: number): Buffer[] {
  const all = randomBytes(count * NONCE_BYTES);
  return Array.from({ length: count }, (_, i) => all.subarray(i * NONCE_BYTES, (i + 1) * NONCE_BYTES));
}

/** The chunk's plaintext, or undefined when the record does not authenticate for this binding. */
export function openChunk(dataKey: Buffer, b: ChunkBinding, record: Buffer): Buffer | undefined {
  if (record.length !== RECORD_BYTES) return undefined;
  const binding = bindingBytes(b);
  const key = writeKey(dataKey, binding);
  // Not aes-gcm.ts#open: GCM's final() yields nothing, so update()'s buffer is the plaintext (no 64 KiB copy).
  const decipher = createDecipheriv('aes-256-gcm', key, record.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
  key.fill(0);
  decipher.setAAD(binding);
  decipher.setAuthTag(record.subarray(NONCE_BYTES + CHUNK_BYTES));
  const plain = decipher.update(record.subarray(NONCE_BYTES, NONCE_BYTES + CHUNK_BYTES));
  try {
    decipher.final();
    return plain;
  } catch {
    plain.fill(0);
    return undefined;
  }
}

import { createCipheriv, createDecipheriv, createSecretKey, KeyObject } from 'node:crypto';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { SealedDataError } from './sealed-data-error.js';

/**
 * The at-rest format of an S3 object body (src/core/crypto/README.md, step 6), after the idea of MinIO's
 * DARE (https://github.com/minio/sio): the plaintext is cut into packages of PACKAGE_BYTES, each sealed
 * with AES-256-GCM on its own, so that a range is opened by reading and authenticating only the packages
 * it touches, while reordering, truncation and extension are caught by binding each package's index and a
 * final flag into its nonce and AAD.
 *
 *   header    = "SR" ‖ 0x01 (version) ‖ 0x10 (log2 PACKAGE_BYTES) ‖ streamNonce (12)      16 bytes
 *   package i = AES-256-GCM(objectKey, nonce_i, plain_i, aad_i) ‖ tag (16)
 *   nonce_i   = streamNonce with its last 4 bytes XOR u32be(i)
 *   aad_i     = header ‖ binding ‖ u32be(i) ‖ (0x01 if i is the last package else 0x00)
 *
 * Every object has at least one package: the last one holds 1..PACKAGE_BYTES bytes, or 0 bytes when the
 * object is empty. So an empty object is still authenticated (a wrong key or binding fails on it) and every
 * sealed stream ends with a package flagged final, which is what makes a cut at a package boundary fail.
 */
export const PACKAGE_BYTES = 64 * 1024;
export const TAG_BYTES = 16;
export const NONCE_BYTES = 12;
export const HEADER_BYTES = 16;
export const FORMAT_VERSION = 0x01;
export const KEY_BYTES = 32;
const MAGIC = Buffer.from('SR', 'latin1');
const PACKAGE_SIZE_LOG2 = 16;
/** The package index is a u32 in the nonce and AAD; past it nonces would repeat under the same key. */
export const MAX_PACKAGES = 2 ** 32;

/** The caller's key: a 256-bit object key, fresh for every object (every part of a multipart upload). */
export type PackageKey = SecretBytes | Buffer;

export function importKey(key: PackageKey): KeyObject {
  const bytes = key instanceof SecretBytes ? key.reveal() : key;
  if (bytes.length !== KEY_BYTES) throw new RangeError(`an object key must be ${KEY_BYTES} bytes`);
  // A KeyObject holds its own copy, so the caller may wipe its buffer while a stream is still running.
  return createSecretKey(bytes);
}

export function encodeHeader(streamNonce: Buffer): Buffer {
  if (streamNonce.length !== NONCE_BYTES) throw new RangeError(`a stream nonce must be ${NONCE_BYTES} bytes`);
  return Buffer.concat([MAGIC, Buffer.of(FORMAT_VERSION, PACKAGE_SIZE_LOG2), streamNonce]);
}

/** Returns the stream nonce of a well-formed header; anything else is SealedDataError('header'). */
export function parseHeader(header: Buffer): Buffer {
  if (header.length !== HEADER_BYTES) throw new SealedDataError('truncated', 'the sealed object is shorter than its header');
  if (!header.subarray(0, 2).equals(MAGIC) || header[2] !== FORMAT_VERSION || header[3] !== PACKAGE_SIZE_LOG2) {
    throw new SealedDataError('header', 'the sealed object does not start with a known header');
  }
  return header.subarray(4);
}

/** How many packages an object of plainLength bytes has: at least one (see the format note above). */
export function packageCount(plainLength: number): number {
  assertLength(plainLength);
  return Math.max(1, Math.ceil(plainLength / PACKAGE_BYTES));
}

/** The sealed size of an object of plainLength bytes: what the blob store holds. */
export function sealedLength(plainLength: number): number {
  return HEADER_BYTES + packageCount(plainLength) * TAG_BYTES + plainLength;
}

/** The inverse of sealedLength, or undefined when no plaintext length seals to exactly this size. */
export function plainLengthOf(sealed: number): number | undefined {
  if (!Number.isSafeInteger(sealed) || sealed < HEADER_BYTES + TAG_BYTES) return undefined;
  const body = sealed - HEADER_BYTES;
  const full = Math.floor(body / (PACKAGE_BYTES + TAG_BYTES));
  const rest = body - full * (PACKAGE_BYTES + TAG_BYTES);
  // A trailing partial package must carry its tag and at least one byte, unless it is the only package.
  if (rest === 0) return full * PACKAGE_BYTES;
  if (rest < TAG_BYTES || (rest === TAG_BYTES && full > 0)) return undefined;
  const plain = full * PACKAGE_BYTES + rest - TAG_BYTES;
  return sealedLength(plain) === sealed ? plain : undefined;
}

/** Offset of package i in the sealed stream. */
export function packageOffset(i: number): number {
  return HEADER_BYTES + i * (PACKAGE_BYTES + TAG_BYTES);
}

/** Plaintext bytes in package i of an object of plainLength bytes. */
export function packagePlainBytes(i: number, plainLength: number): number {
  return Math.min(PACKAGE_BYTES, plainLength - i * PACKAGE_BYTES);
}

export function packageNonce(streamNonce: Buffer, i: number): Buffer {
  const nonce = Buffer.from(streamNonce);
  nonce.writeUInt32BE((nonce.readUInt32BE(NONCE_BYTES - 4) ^ i) >>> 0, NONCE_BYTES - 4);
  return nonce;
}

/** aadPrefix = header ‖ binding, computed once per stream. */
export function packageAad(aadPrefix: Buffer, i: number, final: boolean): Buffer {
  const aad = Buffer.allocUnsafe(aadPrefix.length + 5);
  aadPrefix.copy(aad, 0);
  aad.writeUInt32BE(i, aadPrefix.length);
  aad[aadPrefix.length + 4] = final ? 1 : 0;
  return aad;
}

export function sealPackage(key: KeyObject, streamNonce: Buffer, aadPrefix: Buffer, i: number, final: boolean, plain: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, packageNonce(streamNonce, i), { authTagLength: TAG_BYTES });
  cipher.setAAD(packageAad(aadPrefix, i, final));
  return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** Returns the package's plaintext only once its tag has been verified; SealedDataError otherwise. */
export function openPackage(key: KeyObject, streamNonce: Buffer, aadPrefix: Buffer, i: number, final: boolean, sealed: Buffer): Buffer {
  if (sealed.length < TAG_BYTES) throw new SealedDataError('truncated', `package ${i} of the sealed object is truncated`);
  const decipher = createDecipheriv('aes-256-gcm', key, packageNonce(streamNonce, i), { authTagLength: TAG_BYTES });
  decipher.setAAD(packageAad(aadPrefix, i, final));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const plain = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
  try {
    decipher.final();
  } catch {
    // GCM hands out plaintext before it checks the tag; none of it may leave this function.
    plain.fill(0);
    throw new SealedDataError('authentication', `package ${i} of the sealed object failed authentication`);
  }
  return plain;
}

function assertLength(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('a plaintext length must be a non-negative integer');
}

import { randomBytes } from 'node:crypto';
import { NONCE_BYTES, TAG_BYTES, open, seal } from './aes-gcm.js';
import { EncryptionContext, canonicalContext } from './encryption-context.js';
import { SecretBytes } from './secret-bytes.js';

/**
 * The symmetric ciphertext blob (see README.md step 3):
 *   header = 0x01 ‖ u16 len(keyArn) ‖ keyArn ‖ materialId (32 bytes) ‖ nonce (12)
 *   blob   = header ‖ AES-256-GCM(material, nonce, plaintext, header ‖ canonical(context)) ‖ tag (16)
 */
export const CIPHERTEXT_VERSION = 0x01;
export const MATERIAL_ID_BYTES = 32;
const MAX_ARN_BYTES = 512;

export interface CiphertextHeader {
  readonly keyArn: string;
  /** Hex, 64 characters (the KeyMaterialId of the KMS API). */
  readonly materialId: string;
}

export interface ParsedCiphertext extends CiphertextHeader {
  readonly header: Buffer;
  readonly nonce: Buffer;
  readonly body: Buffer;
  readonly tag: Buffer;
}

export function sealBlob(
  material: SecretBytes,
  header: CiphertextHeader,
  plaintext: SecretBytes,
  context: EncryptionContext | undefined,
): Buffer {
  const arn = Buffer.from(header.keyArn, 'utf8');
  const materialId = Buffer.from(header.materialId, 'hex');
  if (arn.length > MAX_ARN_BYTES || materialId.length !== MATERIAL_ID_BYTES) throw new Error('bad ciphertext header');
  const len = Buffer.allocUnsafe(2);
  len.writeUInt16BE(arn.length);
  const fixed = Buffer.concat([Buffer.of(CIPHERTEXT_VERSION), len, arn, materialId]);
  const headerBytes = Buffer.concat([fixed, randomBytes(NONCE_BYTES)]);
  const nonce = headerBytes.subarray(headerBytes.length - NONCE_BYTES);
  const sealed = seal(material.reveal(), plaintext.reveal(), Buffer.concat([headerBytes, canonicalContext(context)]), nonce);
  return Buffer.concat([headerBytes, sealed.ciphertext, sealed.tag]);
}

/** Parses the header of a blob; returns undefined for anything that is not a well-formed blob. */
export function parseBlob(blob: Buffer): ParsedCiphertext | undefined {
  if (blob.length < 3 || blob[0] !== CIPHERTEXT_VERSION) return undefined;
  const arnLen = blob.readUInt16BE(1);
  if (arnLen === 0 || arnLen > MAX_ARN_BYTES) return undefined;
  const headerLen = 3 + arnLen + MATERIAL_ID_BYTES + NONCE_BYTES;
  if (blob.length < headerLen + TAG_BYTES) return undefined;
  const arnBytes = blob.subarray(3, 3 + arnLen);
  const keyArn = arnBytes.toString('utf8');
  if (!Buffer.from(keyArn, 'utf8').equals(arnBytes)) return undefined; // not valid UTF-8
  const materialId = blob.subarray(3 + arnLen, 3 + arnLen + MATERIAL_ID_BYTES).toString('hex');
  const header = blob.subarray(0, headerLen);
  const nonce = blob.subarray(headerLen - NONCE_BYTES, headerLen);
  return {
    keyArn,
    materialId,
    header,
    nonce,
    body: blob.subarray(headerLen, blob.length - TAG_BYTES),
    tag: blob.subarray(blob.length - TAG_BYTES),
  };
}

/** Returns the plaintext, or undefined when the blob does not authenticate under this material and context. */
export function openBlob(material: SecretBytes, parsed: ParsedCiphertext, context: EncryptionContext | undefined): SecretBytes | undefined {
  const aad = Buffer.concat([parsed.header, canonicalContext(context)]);
  const plain = open(material.reveal(), parsed.nonce, parsed.body, parsed.tag, aad);
  return plain ? SecretBytes.adopt(plain) : undefined;
}

import { createHash, randomBytes } from 'node:crypto';
import { NONCE_BYTES, TAG_BYTES, open, seal } from './aes-gcm.js';
import { MATERIAL_ID_BYTES } from './ciphertext.js';
import { EncryptionContext, canonicalContext } from './encryption-context.js';
import { SecretBytes } from './secret-bytes.js';

/**
 * The ciphertext blob of a KMS key in an external key store — AWS's "double encryption"
 * (https://docs.aws.amazon.com/kms/latest/developerguide/keystore-external.html#concept-double-encryption):
 * the plaintext is first encrypted with the KMS key's own material in Strongroom, then that ciphertext by the
 * external key through the XKS proxy.
 *   header = 0x02 ‖ u16 len(keyArn) ‖ keyArn ‖ materialId (32)
 *   inner  = nonce (12) ‖ AES-256-GCM(material, nonce, plaintext, header ‖ canonical(context)) ‖ tag (16)
 *   blob   = header ‖ u8 len(metadata) ‖ metadata ‖ u8 len(iv) ‖ iv ‖ proxy tag (16) ‖ proxy ciphertext of inner
 * The proxy's AAD is SHA-256(header ‖ canonical(context)): the external layer is bound to the key, its
 * material and the encryption context as the inner one is.
 */
export const XKS_CIPHERTEXT_VERSION = 0x02;
const MAX_ARN_BYTES = 512;

export interface XksLayer {
  readonly metadata?: Buffer | undefined;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

export interface ParsedXksCiphertext {
  readonly keyArn: string;
  readonly materialId: string;
  readonly header: Buffer;
  readonly outer: XksLayer;
}

export function xksHeader(keyArn: string, materialId: string): Buffer {
  const arn = Buffer.from(keyArn, 'utf8');
  const id = Buffer.from(materialId, 'hex');
  if (arn.length > MAX_ARN_BYTES || id.length !== MATERIAL_ID_BYTES) throw new Error('bad ciphertext header');
  const len = Buffer.allocUnsafe(2);
  len.writeUInt16BE(arn.length);
  return Buffer.concat([Buffer.of(XKS_CIPHERTEXT_VERSION), len, arn, id]);
}

/** What the proxy authenticates along with the inner ciphertext. */
export function xksProxyAad(header: Buffer, context: EncryptionContext | undefined): Buffer {
  return createHash('sha256').update(header).update(canonicalContext(context)).digest();
}

export function sealInner(material: SecretBytes, header: Buffer, plaintext: SecretBytes, context: EncryptionContext | undefined): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const s = seal(material.reveal(), plaintext.reveal(), Buffer.concat([header, canonicalContext(context)]), nonce);
  return Buffer.concat([nonce, s.ciphertext, s.tag]);
}

export function openInner(material: SecretBytes, header: Buffer, inner: Buffer, context: EncryptionContext | undefined): SecretBytes | undefined {
  if (inner.length < NONCE_BYTES + TAG_BYTES) return undefined;
  const plain = open(
    material.reveal(),
    inner.subarray(0, NONCE_BYTES),
    inner.subarray(NONCE_BYTES, inner.length - TAG_BYTES),
    inner.subarray(inner.length - TAG_BYTES),
    Buffer.concat([header, canonicalContext(context)]),
  );
  return plain ? SecretBytes.adopt(plain) : undefined;
}

export function assembleXksBlob(header: Buffer, outer: XksLayer): Buffer {
  const metadata = outer.metadata ?? Buffer.alloc(0);
  return Buffer.concat([header, Buffer.of(metadata.length), metadata, Buffer.of(outer.iv.length), outer.iv, outer.tag, outer.ciphertext]);
}

/** Parses a blob of this form; undefined for anything that is not one. */
export function parseXksBlob(blob: Buffer): ParsedXksCiphertext | undefined {
  if (blob.length < 3 || blob[0] !== XKS_CIPHERTEXT_VERSION) return undefined;
  const arnLen = blob.readUInt16BE(1);
  if (arnLen === 0 || arnLen > MAX_ARN_BYTES) return undefined;
  let at = 3 + arnLen + MATERIAL_ID_BYTES;
  if (blob.length < at + 1) return undefined;
  const arnBytes = blob.subarray(3, 3 + arnLen);
  const keyArn = arnBytes.toString('utf8');
  if (!Buffer.from(keyArn, 'utf8').equals(arnBytes)) return undefined;
  const materialId = blob.subarray(3 + arnLen, at).toString('hex');
  const header = blob.subarray(0, at);
  const metaLen = blob[at]!;
  at += 1;
  if (metaLen > 20 || blob.length < at + metaLen + 1) return undefined;
  const metadata = blob.subarray(at, at + metaLen);
  at += metaLen;
  const ivLen = blob[at]!;
  at += 1;
  if ((ivLen !== 12 && ivLen !== 16) || blob.length < at + ivLen + TAG_BYTES + NONCE_BYTES + TAG_BYTES) return undefined;
  const iv = blob.subarray(at, at + ivLen);
  at += ivLen;
  const tag = blob.subarray(at, at + TAG_BYTES);
  at += TAG_BYTES;
  return { keyArn, materialId, header, outer: { ...(metaLen > 0 ? { metadata } : {}), iv, tag, ciphertext: blob.subarray(at) } };
}

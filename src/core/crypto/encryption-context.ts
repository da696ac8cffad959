/**
 * Encryption context in canonical form, bound as AAD: sorted by the UTF-8 bytes of the keys,
 * every string length-prefixed, so {a:1,b:2} and {b:2,a:1} are equal and no two contexts collide.
 * https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html
 */
export type EncryptionContext = Readonly<Record<string, string>>;

export function canonicalContext(context: EncryptionContext | undefined): Buffer {
  const entries = Object.entries(context ?? {}).map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const);
  entries.sort((x, y) => Buffer.compare(x[0], y[0]));
  const parts: Buffer[] = [u32(entries.length)];
  for (const [k, v] of entries) parts.push(u32(k.length), k, u32(v.length), v);
  return Buffer.concat(parts);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}

/**
 * The most an encryption context may hold: 8,192 bytes, counting the UTF-8 bytes of every key and value.
 * AWS bounds the context it accepts but its KMS documentation publishes no figure for a request's context
 * (only for grant constraints: 8 pairs, values of at most 384 characters, see grant-request.ts); 8 KB is
 * the bound other KMS implementations document and the size of S3's whole request-header block. Without a
 * bound, a request's context is limited only by the 1 MiB body, and every policy condition on
 * kms:EncryptionContext:* or kms:EncryptionContextKeys is evaluated against it, on the event loop every
 * tenant shares (issue 9, item 4).
 */
export const ENCRYPTION_CONTEXT_MAX_BYTES = 8_192;

/** The size counted against ENCRYPTION_CONTEXT_MAX_BYTES. */
export function encryptionContextBytes(context: EncryptionContext): number {
  let n = 0;
  for (const [k, v] of Object.entries(context)) n += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8');
  return n;
}

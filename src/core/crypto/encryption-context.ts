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

/**
 * The little DER (ITU-T X.690) the post-quantum key specs need, which node:crypto cannot produce for them:
 * a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) and a seed-only PKCS #8 OneAsymmetricKey (RFC 5958), each with an
 * AlgorithmIdentifier of one NIST OID and absent parameters, as RFC 9881 (ML-DSA) and RFC 9935 (ML-KEM) define.
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

/** The DER OBJECT IDENTIFIER of a NIST algorithm 2.16.840.1.101.3.4.<group>.<id> (CSOR). */
export function nistOid(group: number, id: number): Buffer {
  return tlv(0x06, Buffer.from([0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, group, id]));
}

/** SubjectPublicKeyInfo ::= SEQUENCE { SEQUENCE { oid }, BIT STRING (no unused bits) the raw public key }. */
export function subjectPublicKeyInfo(oid: Buffer, publicKey: Uint8Array): Buffer {
  return tlv(0x30, tlv(0x30, oid), tlv(0x03, Buffer.from([0]), Buffer.from(publicKey)));
}

/**
 * PKCS #8 v1 PrivateKeyInfo whose privateKey OCTET STRING holds the `seed [0] IMPLICIT OCTET STRING` choice
 * of the ML-DSA / ML-KEM private key formats (RFC 9881 §6, RFC 9935 §6): the form OpenSSL 3.5+ and Python
 * `cryptography` write by default and read.
 */
export function seedPrivateKeyInfo(oid: Buffer, seed: Uint8Array): Buffer {
  return tlv(0x30, Buffer.from([0x02, 0x01, 0x00]), tlv(0x30, oid), tlv(0x04, tlv(0x80, Buffer.from(seed))));
}

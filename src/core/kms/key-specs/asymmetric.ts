import { KeyObject, createPrivateKey, createPublicKey, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { SecretBytes } from '../../crypto/secret-bytes.js';

const generate = promisify(generateKeyPair);

/**
 * Asymmetric key material: the PKCS#8 DER private key, made by node:crypto off the event loop (RSA-4096 takes
 * hundreds of milliseconds). Like every material it is only ever stored wrapped by the root of trust.
 */
export async function generatePrivateKey(
  type: 'rsa' | 'ec' | 'ed25519',
  options: { modulusLength?: number; namedCurve?: string },
): Promise<SecretBytes> {
  const { privateKey } = await (generate as (t: string, o: object) => Promise<{ privateKey: Buffer }>)(type, {
    ...options,
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  return SecretBytes.adopt(privateKey);
}

export interface ParsedKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKeyDer: Buffer;
}

/**
 * Parsed keys per unwrapped material. Parsing a PKCS#8 key costs ~0.5 ms (more than an ECDSA signature), so
 * it is done once per material: keyed by the material object the material cache holds, the entry lives
 * exactly as long as that cache entry (evicted or forgotten materials take their parsed keys with them).
 */
const parsed = new WeakMap<SecretBytes, ParsedKeyPair>();

export function keyPairOf(material: SecretBytes): ParsedKeyPair {
  let pair = parsed.get(material);
  if (!pair) {
    const privateKey = createPrivateKey({ key: material.reveal(), format: 'der', type: 'pkcs8' });
    const publicKey = createPublicKey(privateKey);
    pair = { privateKey, publicKey, publicKeyDer: publicKey.export({ type: 'spki', format: 'der' }) };
    parsed.set(material, pair);
  }
  return pair;
}

/** The DER SubjectPublicKeyInfo of a PKCS#8 DER private key (what GetPublicKey returns). */
export function publicKeyOf(material: SecretBytes): Buffer {
  return keyPairOf(material).publicKeyDer;
}

/**
 * An imported PKCS#8 DER private key, re-encoded as node:crypto writes it, when it is of `type` and `check`
 * accepts its details (modulus length, curve); undefined for anything else, including what does not parse.
 */
export function importablePrivateKey(
  raw: Buffer,
  type: 'rsa' | 'ec' | 'ed25519',
  check: (details: NonNullable<KeyObject['asymmetricKeyDetails']>) => boolean = () => true,
): Buffer | undefined {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: raw, format: 'der', type: 'pkcs8' });
  } catch {
    return undefined;
  }
  if (key.asymmetricKeyType !== type || !check(key.asymmetricKeyDetails ?? {})) return undefined;
  return key.export({ type: 'pkcs8', format: 'der' });
}

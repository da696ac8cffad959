import { createPrivateKey, createPublicKey, generateKeyPair } from 'node:crypto';
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

/** The DER SubjectPublicKeyInfo of a PKCS#8 DER private key (what GetPublicKey returns). */
export function publicKeyOf(material: SecretBytes): Buffer {
  const priv = createPrivateKey({ key: material.reveal(), format: 'der', type: 'pkcs8' });
  return createPublicKey(priv).export({ type: 'spki', format: 'der' });
}

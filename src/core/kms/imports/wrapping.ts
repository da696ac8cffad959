import { KeyObject, constants, createDecipheriv, generateKeyPair, privateDecrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { SecretBytes } from '../../crypto/secret-bytes.js';
import { AwsError, needs } from '../../errors/aws-error.js';
import { KmsErrors } from '../../errors/kms.js';

/**
 * The wrapping algorithms and wrapping key specs of GetParametersForImport
 * (https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys-get-public-key-and-token.html):
 * RSAES_OAEP_SHA_1/SHA_256 encrypt the key material directly with the RSA public key (OAEP with MGF1 of the
 * same hash, no label — what `openssl pkeyutl -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256
 * -pkeyopt rsa_mgf1_md:sha256` makes); RSA_AES_KEY_WRAP_SHA_1/SHA_256 encrypt an ephemeral AES key that way
 * and the material with AES key wrap with padding (RFC 5649) under it, the two concatenated.
 * RSAES_PKCS1_V1_5 is no longer offered by AWS (since 10 October 2023); SM2PKE and the SM2 wrapping key
 * exist in AWS's China Regions only.
 */
export const WRAPPING_KEY_BITS: Readonly<Record<string, number>> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };

interface Algorithm {
  readonly hash: 'sha1' | 'sha256';
  readonly aesKeyWrap: boolean;
}

const ALGORITHMS: Readonly<Record<string, Algorithm>> = {
  RSAES_OAEP_SHA_1: { hash: 'sha1', aesKeyWrap: false },
  RSAES_OAEP_SHA_256: { hash: 'sha256', aesKeyWrap: false },
  RSA_AES_KEY_WRAP_SHA_1: { hash: 'sha1', aesKeyWrap: true },
  RSA_AES_KEY_WRAP_SHA_256: { hash: 'sha256', aesKeyWrap: true },
};

/** The alternative IV of RFC 5649 §3, which `id-aesNNN-wrap-pad` takes as its IV. */
const KWP_AIV = Buffer.from('a65959a6', 'hex');
const KWP_CIPHER: Readonly<Record<number, string>> = { 16: 'id-aes128-wrap-pad', 24: 'id-aes192-wrap-pad', 32: 'id-aes256-wrap-pad' };

/** GetParametersForImport's checks of its two enums (the model's enums have refused any other value). */
export function checkWrapping(algorithm: string, keySpec: string): void {
  needs(
    algorithm !== 'RSAES_PKCS1_V1_5',
    KmsErrors.UnsupportedOperationException,
    'The wrapping algorithm RSAES_PKCS1_V1_5 is no longer supported. Use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256.',
  );
  needs(
    algorithm !== 'SM2PKE' && keySpec !== 'SM2',
    KmsErrors.UnsupportedOperationException,
    `${algorithm === 'SM2PKE' ? 'The wrapping algorithm SM2PKE' : 'The wrapping key spec SM2'} is supported only in the China Regions.`,
  );
  needs(ALGORITHMS[algorithm] !== undefined && WRAPPING_KEY_BITS[keySpec] !== undefined, KmsErrors.UnsupportedOperationException,
    `Wrapping algorithm ${algorithm} with wrapping key spec ${keySpec} is not supported.`);
}

const generate = promisify(generateKeyPair);

/** A new RSA wrapping key pair: the PKCS#8 DER private key (to be wrapped by the root of trust) and the DER SPKI public key. */
export async function newWrappingKeyPair(keySpec: string): Promise<{ privateKey: SecretBytes; publicKey: Buffer }> {
  const { privateKey, publicKey } = await (generate as (t: string, o: object) => Promise<{ privateKey: Buffer; publicKey: Buffer }>)('rsa', {
    modulusLength: WRAPPING_KEY_BITS[keySpec],
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  return { privateKey: SecretBytes.adopt(privateKey), publicKey };
}

const badWrapping = () =>
  new AwsError(
    KmsErrors.InvalidCiphertextException,
    'The ciphertext is invalid: the key material is not wrapped with the public key and wrapping algorithm of the import token.',
  );

/** The key material `encrypted` carries, unwrapped with the wrapping private key; InvalidCiphertextException when it does not unwrap. */
export function unwrapKeyMaterial(privateKey: KeyObject, algorithm: string, encrypted: Buffer): SecretBytes {
  const a = ALGORITHMS[algorithm];
  if (!a) throw badWrapping();
  const rsaBytes = Math.ceil(privateKey.asymmetricKeyDetails!.modulusLength! / 8);
  const oaep = (c: Buffer) => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: a.hash }, c);
  try {
    if (!a.aesKeyWrap) return SecretBytes.adopt(oaep(encrypted));
    if (encrypted.length <= rsaBytes) throw badWrapping();
    const aesKey = oaep(encrypted.subarray(0, rsaBytes));
    try {
      const cipher = KWP_CIPHER[aesKey.length];
      if (!cipher) throw badWrapping();
      const d = createDecipheriv(cipher, aesKey, KWP_AIV);
      return SecretBytes.adopt(Buffer.concat([d.update(encrypted.subarray(rsaBytes)), d.final()]));
    } finally {
      aesKey.fill(0);
    }
  } catch (e) {
    if (e instanceof AwsError) throw e;
    throw badWrapping();
  }
}

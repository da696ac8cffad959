import { KeyObject, constants, createHash, privateEncrypt, publicDecrypt, randomBytes, sign, timingSafeEqual, verify } from 'node:crypto';
import { SecretBytes } from '../../crypto/secret-bytes.js';
import { AwsError } from '../../errors/aws-error.js';
import { CommonErrors } from '../../errors/common.js';
import { KmsErrors } from '../../errors/kms.js';
import { keyPairOf } from './asymmetric.js';

/**
 * The signing algorithms of the KMS model, over node:crypto. Signatures are what AWS KMS returns and what
 * OpenSSL verifies: RSASSA-PSS with MGF1 of the same hash and a salt as long as the digest, PKCS #1 v1.5,
 * DER-encoded ECDSA (RFC 3279), pure Ed25519 (RFC 8032).
 * https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html
 *
 * MessageType DIGEST signs a digest the caller computed: for PKCS #1 v1.5 the DigestInfo is padded and
 * raised to the private exponent (privateEncrypt, RSA_PKCS1_PADDING, RFC 8017 §9.2), for PSS the EMSA-PSS
 * encoding of RFC 8017 §9.1 over the digest is raised with RSA_NO_PADDING. Node 20's crypto cannot sign a
 * precomputed digest with ECDSA (it always hashes), so ECDSA with DIGEST is not offered yet.
 */
type Hash = 'sha256' | 'sha384' | 'sha512';
interface Algorithm {
  readonly scheme: 'pss' | 'pkcs1' | 'ecdsa' | 'ed25519';
  readonly hash: Hash;
}

const ALGORITHMS: Readonly<Record<string, Algorithm>> = {
  RSASSA_PSS_SHA_256: { scheme: 'pss', hash: 'sha256' },
  RSASSA_PSS_SHA_384: { scheme: 'pss', hash: 'sha384' },
  RSASSA_PSS_SHA_512: { scheme: 'pss', hash: 'sha512' },
  RSASSA_PKCS1_V1_5_SHA_256: { scheme: 'pkcs1', hash: 'sha256' },
  RSASSA_PKCS1_V1_5_SHA_384: { scheme: 'pkcs1', hash: 'sha384' },
  RSASSA_PKCS1_V1_5_SHA_512: { scheme: 'pkcs1', hash: 'sha512' },
  ECDSA_SHA_256: { scheme: 'ecdsa', hash: 'sha256' },
  ECDSA_SHA_384: { scheme: 'ecdsa', hash: 'sha384' },
  ECDSA_SHA_512: { scheme: 'ecdsa', hash: 'sha512' },
  ED25519_SHA_512: { scheme: 'ed25519', hash: 'sha512' },
};

const DIGEST_BYTES: Readonly<Record<Hash, number>> = { sha256: 32, sha384: 48, sha512: 64 };

/** The DER DigestInfo prefixes of RFC 8017 §9.2 note 1. */
const DIGEST_INFO: Readonly<Record<Hash, Buffer>> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

export type MessageType = 'RAW' | 'DIGEST' | 'EXTERNAL_MU';

/** Checks the message type against the algorithm, and a digest's length against its hash. */
function checkMessage(algorithmName: string, algorithm: Algorithm, message: Buffer, messageType: MessageType): void {
  if (messageType === 'EXTERNAL_MU') {
    throw new AwsError(CommonErrors.ValidationException, `MessageType EXTERNAL_MU is valid only with the signing algorithm ML_DSA_SHAKE_256, not ${algorithmName}.`);
  }
  if (messageType !== 'DIGEST') return;
  if (algorithm.scheme === 'ed25519') {
    throw new AwsError(CommonErrors.ValidationException, `The signing algorithm ${algorithmName} supports MessageType RAW only.`);
  }
  if (message.length !== DIGEST_BYTES[algorithm.hash]) {
    throw new AwsError(CommonErrors.ValidationException, `Digest is invalid length for algorithm ${algorithmName}.`);
  }
  if (algorithm.scheme === 'ecdsa') {
    throw new AwsError(KmsErrors.UnsupportedOperationException, `MessageType DIGEST is not supported yet with ${algorithmName}; sign the RAW message.`);
  }
}

function algorithmOf(name: string): Algorithm {
  const a = ALGORITHMS[name];
  if (!a) throw new AwsError(KmsErrors.UnsupportedOperationException, `The signing algorithm ${name} is not supported yet.`);
  return a;
}

/**
 * Signs `message` with the PKCS#8 DER private key `material`. An RSA signature of a RAW message is made on
 * libuv's thread pool (node:crypto's sign with a callback): its private-key operation (~0.7 ms for RSA_2048, ~5 ms
 * for RSA_4096 on one core) would otherwise hold the event loop, and every other request with it, for its whole
 * length; off the loop, the server's other cores sign while the loop serves. ECDSA and Ed25519 (tens of µs) stay on
 * the loop, where a hop to the pool would cost about as much as the signature.
 */
export async function signMessage(material: SecretBytes, algorithmName: string, message: Buffer, messageType: MessageType): Promise<Buffer> {
  const algorithm = algorithmOf(algorithmName);
  checkMessage(algorithmName, algorithm, message, messageType);
  const key = keyPairOf(material).privateKey;
  const { scheme, hash } = algorithm;
  if (scheme === 'ed25519') return sign(null, message, key);
  if (scheme === 'ecdsa') return sign(hash, message, { key, dsaEncoding: 'der' });
  if (messageType === 'DIGEST') {
    if (scheme === 'pkcs1') return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO[hash], message]));
    return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, emsaPssEncode(message, hash, modulusBits(key)));
  }
  const padding = scheme === 'pss' ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING;
  return new Promise((resolve, reject) =>
    sign(hash, message, { key, padding, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, (err, signature) => (err ? reject(err) : resolve(signature))),
  );
}

/** Whether `signature` is a valid signature of `message` under the public key of `material`. */
export function verifyMessage(material: SecretBytes, algorithmName: string, message: Buffer, messageType: MessageType, signature: Buffer): boolean {
  const algorithm = algorithmOf(algorithmName);
  checkMessage(algorithmName, algorithm, message, messageType);
  const key = keyPairOf(material).publicKey;
  const { scheme, hash } = algorithm;
  try {
    if (scheme === 'ed25519') return verify(null, message, key, signature);
    if (scheme === 'ecdsa') return verify(hash, message, { key, dsaEncoding: 'der' }, signature);
    if (messageType === 'DIGEST') {
      if (signature.length !== modulusBytes(key)) return false;
      if (scheme === 'pkcs1') {
        const expected = Buffer.concat([DIGEST_INFO[hash], message]);
        const recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
        return recovered.length === expected.length && timingSafeEqual(recovered, expected);
      }
      return emsaPssVerify(message, publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature), hash, modulusBits(key));
    }
    const padding = scheme === 'pss' ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING;
    return verify(hash, message, { key, padding, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
  } catch {
    // A signature that is not even well-formed (bad DER, wrong length, bad padding) is simply not valid.
    return false;
  }
}

function modulusBits(key: KeyObject): number {
  return key.asymmetricKeyDetails!.modulusLength!;
}

function modulusBytes(key: KeyObject): number {
  return Math.ceil(modulusBits(key) / 8);
}

/** MGF1 of RFC 8017 §B.2.1. */
function mgf1(seed: Buffer, length: number, hash: Hash): Buffer {
  const out: Buffer[] = [];
  let total = 0;
  for (let counter = 0; total < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    out.push(block);
    total += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/**
 * EMSA-PSS-ENCODE of RFC 8017 §9.1.1 for an already computed mHash, salt length = hash length, left-padded
 * to the modulus length for RSA_NO_PADDING (emBits = modBits − 1).
 */
function emsaPssEncode(mHash: Buffer, hash: Hash, modBits: number): Buffer {
  const hLen = DIGEST_BYTES[hash];
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.alloc(emLen - hLen - 1);
  db[emLen - 2 * hLen - 2] = 0x01;
  salt.copy(db, emLen - hLen * 2 - 1);
  const mask = mgf1(h, db.length, hash);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  const k = Math.ceil(modBits / 8);
  return em.length === k ? em : Buffer.concat([Buffer.alloc(k - em.length), em]);
}

/** EMSA-PSS-VERIFY of RFC 8017 §9.1.2 (salt length = hash length) on the integer recovered from the signature. */
function emsaPssVerify(mHash: Buffer, recovered: Buffer, hash: Hash, modBits: number): boolean {
  const hLen = DIGEST_BYTES[hash];
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const k = Math.ceil(modBits / 8);
  if (recovered.length !== k) return false;
  for (let i = 0; i < k - emLen; i++) if (recovered[i] !== 0) return false;
  const em = recovered.subarray(k - emLen);
  if (em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  if ((maskedDb[0]! & ~(0xff >> (8 * emLen - emBits)) & 0xff) !== 0) return false;
  const mask = mgf1(h, maskedDb.length, hash);
  const db = Buffer.alloc(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = maskedDb[i]! ^ mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const ps = emLen - 2 * hLen - 2;
  for (let i = 0; i < ps; i++) if (db[i] !== 0) return false;
  if (db[ps] !== 0x01) return false;
  const salt = db.subarray(db.length - hLen);
  const h2 = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return timingSafeEqual(h, h2);
}

import { KeyObject, constants, createHash, privateEncrypt, publicDecrypt, randomBytes, sign, timingSafeEqual, verify } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { ed25519ph } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { SecretBytes } from '../../crypto/secret-bytes.js';
import { AwsError } from '../../errors/aws-error.js';
import { CommonErrors } from '../../errors/common.js';
import { KmsErrors } from '../../errors/kms.js';
import { keyPairOf } from './asymmetric.js';
import { MessageType, Signing } from './key-spec.js';

export type { MessageType } from './key-spec.js';

/**
 * The classical signing algorithms of the KMS model (RSA and ECC keys). Signatures are what AWS KMS returns
 * and what OpenSSL verifies: RSASSA-PSS with MGF1 of the same hash and a salt as long as the digest, PKCS #1
 * v1.5, DER-encoded ECDSA (RFC 3279), pure Ed25519 and HashEdDSA Ed25519ph (RFC 8032 §5.1).
 * https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html
 *
 * MessageType DIGEST signs a digest the caller computed: for PKCS #1 v1.5 the DigestInfo is padded and
 * raised to the private exponent (privateEncrypt, RSA_PKCS1_PADDING, RFC 8017 §9.2), for PSS the EMSA-PSS
 * encoding of RFC 8017 §9.1 over the digest is raised with RSA_NO_PADDING. Node's crypto cannot sign a
 * precomputed digest with ECDSA (crypto.sign always hashes, SHA-256 when told no algorithm), so ECDSA over a
 * DIGEST is @noble/curves' ECDSA with prehash off (FIPS 186-5 §6.4.1 from step 2 on); it signs with RFC 6979
 * deterministic nonces and low S, both valid ECDSA to any verifier.
 *
 * ED25519_PH_SHA_512 takes MessageType DIGEST only (a SHA-512 digest, 64 bytes), and, as AWS documents,
 * "KMS still performs the SHA-512 prehash described in Step 1 of Section 7.8.1 in FIPS 186-5": the digest is
 * the message M of Ed25519ph, hashed again — a verifier checks Ed25519ph(M = the digest). Node 20 has pure
 * Ed25519 only, so this is @noble/curves' ed25519ph.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html#KMS-Sign-request-MessageType
 */
type Hash = 'sha256' | 'sha384' | 'sha512';
interface Algorithm {
  readonly scheme: 'pss' | 'pkcs1' | 'ecdsa' | 'ed25519' | 'ed25519ph';
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
  ED25519_PH_SHA_512: { scheme: 'ed25519ph', hash: 'sha512' },
};

/** The @noble/curves ECDSA of each named curve of the ECC specs (node:crypto's names). */
const CURVES = { prime256v1: p256, secp384r1: p384, secp521r1: p521, secp256k1 } as const;

const DIGEST_BYTES: Readonly<Record<Hash, number>> = { sha256: 32, sha384: 48, sha512: 64 };

/** The DER DigestInfo prefixes of RFC 8017 §9.2 note 1. */
const DIGEST_INFO: Readonly<Record<Hash, Buffer>> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/** Checks the message type against the algorithm, and a digest's length against its hash. */
function checkMessage(algorithmName: string, algorithm: Algorithm, message: Buffer, messageType: MessageType): void {
  if (messageType === 'EXTERNAL_MU') {
    throw new AwsError(CommonErrors.ValidationException, `MessageType EXTERNAL_MU is valid only with the signing algorithm ML_DSA_SHAKE_256, not ${algorithmName}.`);
  }
  // ED25519_SHA_512 requires RAW, ED25519_PH_SHA_512 DIGEST: "These message types cannot be used interchangeably."
  if (algorithm.scheme === 'ed25519' && messageType !== 'RAW') {
    throw new AwsError(CommonErrors.ValidationException, `The signing algorithm ${algorithmName} supports MessageType RAW only.`);
  }
  if (algorithm.scheme === 'ed25519ph' && messageType !== 'DIGEST') {
    throw new AwsError(CommonErrors.ValidationException, `The signing algorithm ${algorithmName} supports MessageType DIGEST only.`);
  }
  if (messageType === 'DIGEST' && message.length !== DIGEST_BYTES[algorithm.hash]) {
    throw new AwsError(CommonErrors.ValidationException, `Digest is invalid length for algorithm ${algorithmName}.`);
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
 * the loop, where a hop to the pool would cost about as much as the signature (so do Ed25519ph and ECDSA over a
 * DIGEST, @noble/curves in JavaScript, ~1 ms).
 */
async function signMessage(material: SecretBytes, algorithmName: string, message: Buffer, messageType: MessageType): Promise<Buffer> {
  const algorithm = algorithmOf(algorithmName);
  checkMessage(algorithmName, algorithm, message, messageType);
  const key = keyPairOf(material).privateKey;
  const { scheme, hash } = algorithm;
  if (scheme === 'ed25519') return sign(null, message, key);
  if (scheme === 'ed25519ph') return withPrivate(key, (seed) => ed25519ph.sign(message, seed));
  if (scheme === 'ecdsa') {
    if (messageType === 'DIGEST') return withPrivate(key, (d) => curveOf(key).sign(message, d, { prehash: false, format: 'der' }));
    return sign(hash, message, { key, dsaEncoding: 'der' });
  }
  if (messageType === 'DIGEST') {
    if (scheme === 'pkcs1') return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO[hash], message]));
    return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, emsaPssEncode(message, hash, modulusBits(key)));
  }
  const padding = scheme === 'pss' ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING;
  return onThreadPool(() => new Promise<Buffer>((resolve, reject) =>
    sign(hash, message, { key, padding, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, (err, signature) => (err ? reject(err) : resolve(signature))),
  ));
}

/**
 * How many RSA signatures may be on libuv's thread pool at once: as many as there are cores, and never the whole
 * pool (UV_THREADPOOL_SIZE, 4 by default) — the audit log's fdatasync and file I/O run there too, and a commit
 * must not wait behind a queue of signatures (every request waits for its commit). The rest wait here, in order.
 */
const POOL_SIGNERS = Math.max(1, Math.min(availableParallelism(), (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 1));
let poolSigning = 0;
const poolWaiting: (() => void)[] = [];

async function onThreadPool<T>(job: () => Promise<T>): Promise<T> {
  if (poolSigning >= POOL_SIGNERS) await new Promise<void>((resolve) => poolWaiting.push(resolve));
  else poolSigning++;
  try {
    return await job();
  } finally {
    // The slot passes to the next waiter, or frees.
    const next = poolWaiting.shift();
    if (next) next();
    else poolSigning--;
  }
}

/** Whether `signature` is a valid signature of `message` under the public key of `material`. */
function verifyMessage(material: SecretBytes, algorithmName: string, message: Buffer, messageType: MessageType, signature: Buffer): boolean {
  const algorithm = algorithmOf(algorithmName);
  checkMessage(algorithmName, algorithm, message, messageType);
  const key = keyPairOf(material).publicKey;
  const { scheme, hash } = algorithm;
  try {
    if (scheme === 'ed25519') return verify(null, message, key, signature);
    // zip215 off: the strict RFC 8032 checks OpenSSL makes.
    if (scheme === 'ed25519ph') return ed25519ph.verify(signature, message, jwkBytes(key, 'x'), { zip215: false });
    if (scheme === 'ecdsa') {
      if (messageType === 'DIGEST') {
        // lowS off: node:crypto's (OpenSSL's) RAW signatures of the same key may have a high S.
        return curveOf(key).verify(signature, message, ecPoint(key), { prehash: false, lowS: false, format: 'der' });
      }
      return verify(hash, message, { key, dsaEncoding: 'der' }, signature);
    }
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

/** The node:crypto signer of the RSA and ECC key specs. */
export const CLASSIC_SIGNING: Signing = { sign: signMessage, verify: verifyMessage };

/** Runs `use` with the private scalar (EC) or seed (Ed25519) of `key`, wiped afterwards. */
function withPrivate(key: KeyObject, use: (d: Buffer) => Uint8Array): Buffer {
  const d = jwkBytes(key, 'd');
  try {
    return Buffer.from(use(d));
  } finally {
    d.fill(0);
  }
}

/** A JWK member of an EC or Ed25519 key as bytes: `d` the private scalar / seed, `x` the Ed25519 public key. */
function jwkBytes(key: KeyObject, member: 'd' | 'x'): Buffer {
  return Buffer.from(key.export({ format: 'jwk' })[member]!, 'base64url');
}

function curveOf(key: KeyObject) {
  return CURVES[key.asymmetricKeyDetails!.namedCurve as keyof typeof CURVES];
}

/** The uncompressed SEC 1 point of an EC public key (JWK x and y are full-length, RFC 7518 §6.2.1.2). */
function ecPoint(key: KeyObject): Buffer {
  const { x, y } = key.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([4]), Buffer.from(x!, 'base64url'), Buffer.from(y!, 'base64url')]);
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

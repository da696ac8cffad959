import { randomBytes } from 'node:crypto';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { SecretBytes } from '../../crypto/secret-bytes.js';
import { AwsError } from '../../errors/aws-error.js';
import { CommonErrors } from '../../errors/common.js';
import { nistOid, subjectPublicKeyInfo } from './der.js';
import { KeySpecRules, MessageType, Signing } from './key-spec.js';
import { DsaLevel, dsaSign, dsaVerify } from './ml-dsa-pool.js';
import { SeededKeyPair, seededKeyPairs } from './seeded-key-pairs.js';

/**
 * ML_DSA_44/65/87 (FIPS 204): SIGN_VERIFY keys with the one algorithm ML_DSA_SHAKE_256, never rotated.
 * https://docs.aws.amazon.com/kms/latest/developerguide/mldsa.html
 *
 * Node 20's crypto has no ML-DSA: the audited @noble/post-quantum does the work. The material is the 32-byte
 * seed ξ of ML-DSA.KeyGen (FIPS 204 Algorithm 1), wrapped by the root of trust like every material; the
 * expanded key pair is derived from it on use. Signing is pure ML-DSA with an empty context, hedged (fresh
 * randomness per signature, FIPS 204 §3.4), so any FIPS 204 verifier checks it against the message:
 * - MessageType RAW: the message itself (0–4096 bytes, the model's bound).
 * - MessageType EXTERNAL_MU: the 64-byte μ = SHAKE256(SHAKE256(pk, 64) ‖ 0x00 ‖ 0x00 ‖ M, 64) of FIPS 204
 *   §6.2 (Algorithm 7 line 6) the caller computed for a larger message; the signature equals one of M.
 * MessageType DIGEST is not ML-DSA's (HashML-DSA, §5.4, is not what AWS offers).
 * Signing and verification run in worker threads (ml-dsa-pool.ts): milliseconds of JavaScript each.
 * GetPublicKey: the SubjectPublicKeyInfo of RFC 9881 (OIDs id-ml-dsa-44/65/87, 2.16.840.1.101.3.4.3.17–19).
 */
const ALGORITHM = 'ML_DSA_SHAKE_256';
const SEED_BYTES = 32;
const MU_BYTES = 64;

type Dsa = typeof ml_dsa44;
/** Expanded key pairs per unwrapped material, living as long as the material cache keeps the material. */
const expanded = seededKeyPairs();

function keyPair(dsa: Dsa, material: SecretBytes): SeededKeyPair {
  return expanded(material, (seed) => dsa.keygen(seed));
}

function checkMessage(algorithm: string, message: Buffer, messageType: MessageType): void {
  if (algorithm !== ALGORITHM) {
    // The spec lists ML_DSA_SHAKE_256 only, and Signatures checked the algorithm against it; a guard.
    throw new AwsError(CommonErrors.ValidationException, `The signing algorithm ${algorithm} is not valid for ML-DSA keys.`);
  }
  if (messageType === 'DIGEST') {
    throw new AwsError(CommonErrors.ValidationException, `The signing algorithm ${algorithm} supports MessageType RAW or EXTERNAL_MU only.`);
  }
  if (messageType === 'EXTERNAL_MU' && message.length !== MU_BYTES) {
    throw new AwsError(CommonErrors.ValidationException, `Message must be ${MU_BYTES} bytes long when MessageType is EXTERNAL_MU.`);
  }
}

function signing(level: DsaLevel, dsa: Dsa): Signing {
  return {
    async sign(material, algorithm, message, messageType) {
      checkMessage(algorithm, message, messageType);
      return Buffer.from(await dsaSign(level, keyPair(dsa, material).secretKey, message, messageType === 'EXTERNAL_MU'));
    },
    verify(material, algorithm, message, messageType, signature) {
      checkMessage(algorithm, message, messageType);
      return dsaVerify(level, keyPair(dsa, material).publicKey, message, messageType === 'EXTERNAL_MU', signature);
    },
  };
}

const mlDsa = (level: 44 | 65 | 87, dsa: Dsa, oidId: number): KeySpecRules => ({
  spec: `ML_DSA_${level}`,
  usages: { SIGN_VERIFY: { SigningAlgorithms: [ALGORITHM] } },
  rotates: false,
  generate: async () => SecretBytes.adopt(randomBytes(SEED_BYTES)),
  publicKey: (material) => subjectPublicKeyInfo(nistOid(3, oidId), keyPair(dsa, material).publicKey),
  signing: signing(level, dsa),
});

export const ML_DSA_SPECS: readonly KeySpecRules[] = [mlDsa(44, ml_dsa44, 17), mlDsa(65, ml_dsa65, 18), mlDsa(87, ml_dsa87, 19)];

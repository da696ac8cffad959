import { randomBytes } from 'node:crypto';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { SecretBytes } from '../../crypto/secret-bytes.js';
import { AwsError } from '../../errors/aws-error.js';
import { KmsErrors } from '../../errors/kms.js';
import { nistOid, seedPrivateKeyInfo, subjectPublicKeyInfo } from './der.js';
import { Encapsulation, KeySpecRules } from './key-spec.js';
import { SeededKeyPair, seededKeyPairs } from './seeded-key-pairs.js';

/**
 * ML_KEM_512/768/1024 (FIPS 203): ENCAPSULATE_DECAPSULATE keys with the one algorithm ML_KEM, never rotated;
 * also DataKeyPairSpecs of GenerateDataKeyPair. https://docs.aws.amazon.com/kms/latest/developerguide/pqkeys.html
 *
 * Node 20's crypto has no ML-KEM: the audited @noble/post-quantum does the work. The material is the 64-byte
 * seed d ‖ z of ML-KEM.KeyGen_internal (FIPS 203 Algorithm 16), wrapped by the root of trust like every
 * material; the expanded key pair is derived from it on use. GetPublicKey: the SubjectPublicKeyInfo of
 * RFC 9935 (id-alg-ml-kem-512/768/1024, 2.16.840.1.101.3.4.4.1–3); a data key pair's private key is the seed
 * form of its PKCS #8 private key (RFC 9935 §6).
 *
 * Decapsulate, as AWS documents it: InvalidCiphertextException only when the ciphertext's length is not the
 * spec's (768, 1088, 1568 bytes); any other ciphertext — another key's, altered — yields a pseudo-random
 * 32-byte secret (FIPS 203 implicit rejection), so the parties must confirm they hold the same secret.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Decapsulate.html
 */
const ALGORITHM = 'ML_KEM';
const SEED_BYTES = 64;

type Kem = typeof ml_kem768;
/** Expanded key pairs per unwrapped material, living as long as the material cache keeps the material. */
const expanded = seededKeyPairs();

function keyPair(kem: Kem, material: SecretBytes): SeededKeyPair {
  return expanded(material, (seed) => kem.keygen(seed));
}

function encapsulation(spec: string, kem: Kem): Encapsulation {
  return {
    encapsulate(material) {
      const { cipherText, sharedSecret } = kem.encapsulate(keyPair(kem, material).publicKey);
      return { ciphertext: Buffer.from(cipherText), sharedSecret: SecretBytes.adopt(Buffer.from(sharedSecret)) };
    },
    decapsulate(material, ciphertext) {
      if (ciphertext.length !== kem.lengths.cipherText) {
        throw new AwsError(
          KmsErrors.InvalidCiphertextException,
          `The SharedSecretCiphertextBlob of a ${spec} key must be ${kem.lengths.cipherText} bytes long.`,
        );
      }
      return SecretBytes.adopt(Buffer.from(kem.decapsulate(ciphertext, keyPair(kem, material).secretKey)));
    },
  };
}

const mlKem = (level: 512 | 768 | 1024, kem: Kem, oidId: number): KeySpecRules => {
  const spec = `ML_KEM_${level}`;
  return {
    spec,
    usages: { ENCAPSULATE_DECAPSULATE: { EncapsulationAlgorithms: [ALGORITHM] } },
    rotates: false,
    generate: async () => SecretBytes.adopt(randomBytes(SEED_BYTES)),
    publicKey: (material) => subjectPublicKeyInfo(nistOid(4, oidId), keyPair(kem, material).publicKey),
    privateKeyInfo: (material) => SecretBytes.adopt(seedPrivateKeyInfo(nistOid(4, oidId), material.reveal())),
    encapsulation: encapsulation(spec, kem),
  };
};

export const ML_KEM_SPECS: readonly KeySpecRules[] = [mlKem(512, ml_kem512, 1), mlKem(768, ml_kem768, 2), mlKem(1024, ml_kem1024, 3)];

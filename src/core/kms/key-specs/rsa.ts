import { generatePrivateKey, importablePrivateKey, publicKeyOf } from './asymmetric.js';
import { KeySpecRules } from './key-spec.js';
import { CLASSIC_SIGNING } from './signing.js';

/**
 * RSA_2048/3072/4096: ENCRYPT_DECRYPT (RSAES-OAEP) or SIGN_VERIFY (PSS and PKCS #1 v1.5 over SHA-2); never
 * rotated. https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html#key-spec-rsa
 */
export const RSA_SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
] as const;

const rsa = (bits: 2048 | 3072 | 4096): KeySpecRules => ({
  spec: `RSA_${bits}`,
  usages: {
    ENCRYPT_DECRYPT: { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] },
    SIGN_VERIFY: { SigningAlgorithms: RSA_SIGNING_ALGORITHMS },
  },
  rotates: false,
  generate: () => generatePrivateKey('rsa', { modulusLength: bits }),
  importable: (raw) => importablePrivateKey(raw, 'rsa', (d) => d.modulusLength === bits),
  publicKey: publicKeyOf,
  signing: CLASSIC_SIGNING,
});

export const RSA_SPECS: readonly KeySpecRules[] = [rsa(2048), rsa(3072), rsa(4096)];

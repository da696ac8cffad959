import { generatePrivateKey, importablePrivateKey, publicKeyOf } from './asymmetric.js';
import { KeySpecRules } from './key-spec.js';
import { CLASSIC_SIGNING } from './signing.js';

/**
 * Elliptic-curve specs (https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html#key-spec-ecc):
 * the NIST curves sign (ECDSA with the hash of their size) or agree keys (ECDH); secp256k1 and Ed25519 sign
 * only. None rotates.
 */
const nist = (spec: string, namedCurve: string, ecdsa: string): KeySpecRules => ({
  spec,
  usages: { SIGN_VERIFY: { SigningAlgorithms: [ecdsa] }, KEY_AGREEMENT: { KeyAgreementAlgorithms: ['ECDH'] } },
  rotates: false,
  generate: () => generatePrivateKey('ec', { namedCurve }),
  importable: (raw) => importablePrivateKey(raw, 'ec', (d) => d.namedCurve === namedCurve),
  publicKey: publicKeyOf,
  signing: CLASSIC_SIGNING,
});

export const ECC_SPECS: readonly KeySpecRules[] = [
  nist('ECC_NIST_P256', 'prime256v1', 'ECDSA_SHA_256'),
  nist('ECC_NIST_P384', 'secp384r1', 'ECDSA_SHA_384'),
  nist('ECC_NIST_P521', 'secp521r1', 'ECDSA_SHA_512'),
  {
    spec: 'ECC_SECG_P256K1',
    usages: { SIGN_VERIFY: { SigningAlgorithms: ['ECDSA_SHA_256'] } },
    rotates: false,
    generate: () => generatePrivateKey('ec', { namedCurve: 'secp256k1' }),
    importable: (raw) => importablePrivateKey(raw, 'ec', (d) => d.namedCurve === 'secp256k1'),
    publicKey: publicKeyOf,
    signing: CLASSIC_SIGNING,
  },
  {
    // Pure Ed25519 (MessageType RAW) and HashEdDSA Ed25519ph (MessageType DIGEST), RFC 8032 §5.1.
    spec: 'ECC_NIST_EDWARDS25519',
    usages: { SIGN_VERIFY: { SigningAlgorithms: ['ED25519_SHA_512', 'ED25519_PH_SHA_512'] } },
    rotates: false,
    generate: () => generatePrivateKey('ed25519', {}),
    importable: (raw) => importablePrivateKey(raw, 'ed25519'),
    publicKey: publicKeyOf,
    signing: CLASSIC_SIGNING,
  },
];

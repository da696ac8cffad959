import { randomBytes } from 'node:crypto';
import { SecretBytes } from '../../crypto/secret-bytes.js';
import { KeySpecRules } from './key-spec.js';

/**
 * HMAC_224/256/384/512: a random secret key of the digest's length (HMAC_224: 224 bits, …), usage
 * GENERATE_VERIFY_MAC only, no rotation.
 * https://docs.aws.amazon.com/kms/latest/developerguide/hmac.html#hmac-key-specs
 */
const hmac = (bits: 224 | 256 | 384 | 512): KeySpecRules => ({
  spec: `HMAC_${bits}`,
  usages: { GENERATE_VERIFY_MAC: { MacAlgorithms: [`HMAC_SHA_${bits}`] } },
  rotates: false,
  generate: async () => SecretBytes.adopt(randomBytes(bits / 8)),
});

export const HMAC_SPECS: readonly KeySpecRules[] = [hmac(224), hmac(256), hmac(384), hmac(512)];

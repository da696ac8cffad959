import { randomBytes } from 'node:crypto';
import { SecretBytes } from '../../crypto/secret-bytes.js';
import { KeySpecRules } from './key-spec.js';

/**
 * HMAC_224/256/384/512: a random secret key of the digest's length (HMAC_224: 224 bits, …), usage
 * GENERATE_VERIFY_MAC only, no rotation.
 * https://docs.aws.amazon.com/kms/latest/developerguide/hmac.html#hmac-key-specs
 */
/** The imported HMAC key lengths AWS accepts, in bytes: from the digest length to the block size (×2 for HMAC_384/512's 128-byte block). */
const IMPORT_BYTES: Readonly<Record<number, readonly [number, number]>> = { 224: [28, 64], 256: [32, 64], 384: [48, 128], 512: [64, 128] };

const hmac = (bits: 224 | 256 | 384 | 512): KeySpecRules => ({
  spec: `HMAC_${bits}`,
  usages: { GENERATE_VERIFY_MAC: { MacAlgorithms: [`HMAC_SHA_${bits}`] } },
  rotates: false,
  generate: async () => SecretBytes.adopt(randomBytes(bits / 8)),
  importable: (raw) => (raw.length >= IMPORT_BYTES[bits]![0] && raw.length <= IMPORT_BYTES[bits]![1] ? raw : undefined),
});

export const HMAC_SPECS: readonly KeySpecRules[] = [hmac(224), hmac(256), hmac(384), hmac(512)];

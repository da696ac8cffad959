import { randomBytes } from 'node:crypto';
import { KEY_BYTES } from '../../crypto/aes-gcm.js';
import { SecretBytes } from '../../crypto/secret-bytes.js';
import { KeySpecRules } from './key-spec.js';

/** SYMMETRIC_DEFAULT: a 256-bit AES-GCM key (../../crypto/ciphertext.ts), encryption only, rotatable. */
export const SYMMETRIC_SPECS: readonly KeySpecRules[] = [
  {
    spec: 'SYMMETRIC_DEFAULT',
    usages: { ENCRYPT_DECRYPT: { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] } },
    defaultUsage: 'ENCRYPT_DECRYPT',
    rotates: true,
    generate: async () => SecretBytes.adopt(randomBytes(KEY_BYTES)),
    importable: (raw) => (raw.length === KEY_BYTES ? raw : undefined),
  },
];

/**
 * S3 object bodies at rest: fixed-size AES-256-GCM packages under a per-object key (the format is in
 * package-format.ts and src/core/crypto/README.md, step 6). This is the one import the object store needs.
 */
export { PACKAGE_BYTES, sealedLength, plainLengthOf } from './package-format.js';
export type { PackageKey } from './package-format.js';
export { createSealer, sealBuffer } from './package-sealer.js';
export { openRange } from './package-opener.js';
export type { ByteRange, SealedReader } from './package-opener.js';
export { SealedDataError } from './sealed-data-error.js';
export type { SealedDataFailure } from './sealed-data-error.js';

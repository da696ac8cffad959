import { P001_KMS } from './migrations/001-kms.js';
import { P002_KMS_GRANTS } from './migrations/002-kms-grants.js';
import { P003_IAM } from './migrations/003-iam.js';
import { P004_KMS_TEXT_BYTES } from './migrations/004-kms-text-bytes.js';
import { P005_S3 } from './migrations/005-s3.js';
import { P006_LEASES } from './migrations/006-leases.js';
import { P007_BLOBS } from './migrations/007-blobs.js';
import { P008_CLOUDTRAIL } from './migrations/008-cloudtrail.js';
import { P009_AUDIT } from './migrations/009-audit.js';
import { P010_KMS_KEY_SPECS } from './migrations/010-kms-key-specs.js';
import { P011_KMS_KEY_LAST_USAGE } from './migrations/011-kms-key-last-usage.js';
import { P012_VOLUMES } from './migrations/012-volumes.js';
import { P015_KMS_CUSTOM_KEY_STORES } from './migrations/015-kms-custom-key-stores.js';
import { P013_KMS_IMPORTED_MATERIAL } from './migrations/013-kms-imported-material.js';
import { P014_KEYRING } from './migrations/014-keyring.js';
import { P016_KMS_MULTI_REGION } from './migrations/016-kms-multi-region.js';

/**
 * PostgreSQL schema migrations, applied in order at open; table schema_migrations records each one that ran
 * (version = its position, from 1). Numbered on their own, not as SQLite's: the two schemas evolve apart.
 * Never edit a released migration: add one (a file in migrations/, appended here).
 */
export const MIGRATIONS: readonly string[] = [P001_KMS, P002_KMS_GRANTS, P003_IAM, P004_KMS_TEXT_BYTES, P005_S3, P006_LEASES, P007_BLOBS, P008_CLOUDTRAIL, P009_AUDIT, P010_KMS_KEY_SPECS, P011_KMS_KEY_LAST_USAGE, P012_VOLUMES, P013_KMS_IMPORTED_MATERIAL, P014_KEYRING, P015_KMS_CUSTOM_KEY_STORES, P016_KMS_MULTI_REGION];

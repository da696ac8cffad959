import { M001_INITIAL } from './migrations/001-initial.js';
import { M002_KMS_GRANTS } from './migrations/002-kms-grants.js';
import { M003_IAM } from './migrations/003-iam.js';
import { M004_KMS_GRANTS } from './migrations/004-kms-grants.js';
import { M005_IAM } from './migrations/005-iam.js';
import { M006_AUDIT } from './migrations/006-audit.js';
import { M007_AUDIT_LOOKUP_AND_TRAILS } from './migrations/007-audit-lookup-and-trails.js';
import { M008_S3 } from './migrations/008-s3.js';
import { M009_TRAIL_DELIVERY } from './migrations/009-trail-delivery.js';
import { M010_AUDIT_TREE_HEADS } from './migrations/010-audit-tree-heads.js';
import { M011_AUDIT_LOOKUP_PARTIAL } from './migrations/011-audit-lookup-partial.js';
import { M012_LEASES } from './migrations/012-leases.js';
import { M013_INVALIDATIONS } from './migrations/013-invalidations.js';
import { M014_KMS_KEY_SPECS } from './migrations/014-kms-key-specs.js';
import { M015_KMS_KEY_LAST_USAGE } from './migrations/015-kms-key-last-usage.js';
import { M016_VOLUMES } from './migrations/016-volumes.js';
import { M017_KMS_IMPORTED_MATERIAL } from './migrations/017-kms-imported-material.js';
import { M018_KEYRING } from './migrations/018-keyring.js';
import { M019_KMS_CUSTOM_KEY_STORES } from './migrations/019-kms-custom-key-stores.js';
import { M020_KMS_MULTI_REGION } from './migrations/020-kms-multi-region.js';

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
 * Never edit a released migration: add one (a file in migrations/, appended here).
 */
export const MIGRATIONS: readonly string[] = [M001_INITIAL, M002_KMS_GRANTS, M003_IAM, M004_KMS_GRANTS, M005_IAM, M006_AUDIT, M007_AUDIT_LOOKUP_AND_TRAILS, M008_S3, M009_TRAIL_DELIVERY, M010_AUDIT_TREE_HEADS, M011_AUDIT_LOOKUP_PARTIAL, M012_LEASES, M013_INVALIDATIONS, M014_KMS_KEY_SPECS, M015_KMS_KEY_LAST_USAGE, M016_VOLUMES, M017_KMS_IMPORTED_MATERIAL, M018_KEYRING, M019_KMS_CUSTOM_KEY_STORES, M020_KMS_MULTI_REGION];

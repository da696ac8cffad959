import { createHash } from 'node:crypto';
import { NewGrant } from './grant-types.js';

/**
 * What "the same parameters" means for CreateGrant's Name idempotence: grantee, retiring principal, operations
 * as a set, and constraints (type and pairs, in any order). Hashed so the column stays small. Backend-neutral,
 * so every store computes the same value (the value SQLite data dirs already store).
 */
export function grantFingerprint(g: Pick<NewGrant, 'granteePrincipal' | 'retiringPrincipal' | 'operations' | 'constraints'>): string {
  const pairs = (m: Readonly<Record<string, string>> | undefined) =>
    m === undefined ? null : Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = JSON.stringify([
    g.granteePrincipal,
    g.retiringPrincipal,
    [...new Set(g.operations)].sort(),
    g.constraints === null ? null : [pairs(g.constraints.encryptionContextEquals), pairs(g.constraints.encryptionContextSubset)],
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

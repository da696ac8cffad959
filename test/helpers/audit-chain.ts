// Checks an audit log as `strongroom audit verify` does, from rows read straight out of a database (the tests of
// nodes on PostgreSQL read them with pg): gap-free sequence numbers, every chain hash recomputed, and the newest
// signed tree head's Merkle root and signature.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { MerkleFrontier, leafHash } from '../../src/core/audit/merkle.js';
import { GENESIS_HASH, chainHash } from '../../src/core/audit/record.js';
import { keyIdOf, treeHeadSignatureValid } from '../../src/core/audit/tree-head.js';

export interface AuditRows {
  readonly events: readonly { readonly seq: number; readonly hash: string; readonly record: string }[];
  readonly newestHead: { readonly treeSize: number; readonly rootHash: Buffer; readonly timestamp: number; readonly keyId: string; readonly signature: Buffer } | undefined;
  /** The audit signing key's public half (DER SPKI). */
  readonly publicKey: Buffer;
}

/** Asserts the log is whole and untampered; resolves to the newest signed tree head's size. */
export function assertAuditLogVerifies(rows: AuditRows): number {
  let hash = GENESIS_HASH;
  const tree = MerkleFrontier.empty();
  let headRoot: Buffer | undefined;
  rows.events.forEach((e, i) => {
    assert.equal(e.seq, i + 1, `audit records are gap-free: record #${i + 1} is #${e.seq}`);
    hash = chainHash(hash, e.record);
    assert.equal(e.hash, hash, `the chain hash of record #${e.seq}`);
    tree.append(leafHash(e.record));
    if (rows.newestHead && e.seq === rows.newestHead.treeSize) headRoot = tree.root();
  });
  const head = rows.newestHead;
  assert.ok(head, 'a signed tree head');
  assert.ok(headRoot, `the newest tree head (size ${head.treeSize}) covers records that exist (${rows.events.length})`);
  assert.ok(headRoot.equals(head.rootHash), 'the newest tree head\'s root is the Merkle root of the records it covers');
  const publicKey = createPublicKey({ key: rows.publicKey, format: 'der', type: 'spki' });
  assert.equal(head.keyId, keyIdOf(publicKey));
  assert.ok(treeHeadSignatureValid(head, publicKey), 'the newest tree head\'s signature verifies');
  return head.treeSize;
}

import Database from 'better-sqlite3';
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MerkleFrontier, inclusionProof, leafHash, verifyInclusion } from '../core/audit/merkle.js';
import { keyIdOf } from '../core/audit/tree-head.js';
import { StoredCheckpoint, StoredLink, StoredTreeHead, VerifyKey, verifyLog } from '../core/audit/verify.js';
import { SQLITE_FILE } from '../store/metadata/sqlite/database.js';

export interface AuditVerifyFlags {
  dataDir?: string;
  /** A PEM public key pinned earlier (`strongroom audit export-public-key`), instead of the data dir's. */
  publicKey?: string;
}

export interface AuditProofFlags {
  dataDir?: string;
  seq: string;
  treeSize?: string;
}

export interface AuditExportPublicKeyFlags {
  dataDir?: string;
}

/** How many problems verify prints; an early edit breaks every later head, which says nothing new. */
const MAX_PROBLEMS_SHOWN = 20;

/**
 * `strongroom audit verify`: recomputes the audit log's hash chain and RFC 6962 Merkle tree offline
 * (read-only; a running server may have the database open), checks every signed tree head against them
 * and its signature against the public key, and exits 1 naming what is wrong. See src/core/audit/verify.ts
 * for what it can and cannot detect.
 */
export function auditVerifyCommand(flags: AuditVerifyFlags): number {
  const opened = openLog(flags.dataDir);
  if (typeof opened === 'number') return opened;
  const { db } = opened;
  try {
    if (!hasTable(db, 'audit_events')) {
      process.stdout.write('audit log: no records (the data dir predates the audit log)\n');
      return 0;
    }
    const stored = hasTable(db, 'audit_tree_key') ? dataDirKey(db) : undefined;
    let key: VerifyKey | undefined;
    let keySource: string;
    if (flags.publicKey !== undefined) {
      try {
        const publicKey = createPublicKey(readFileSync(flags.publicKey, 'utf8'));
        if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error(`an ${publicKey.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
        key = { keyId: keyIdOf(publicKey), publicKey };
      } catch (err) {
        process.stderr.write(`strongroom: ${flags.publicKey} is not an Ed25519 public key in PEM: ${err instanceof Error ? err.message : String(err)}\n`);
        return 2;
      }
      const same = stored?.keyId === key.keyId ? 'the data dir holds the same key' : stored ? `the data dir holds another key, ${stored.keyId}` : 'the data dir holds no key';
      keySource = `pinned ${flags.publicKey} (key id ${key.keyId}; ${same})`;
    } else {
      key = stored;
      keySource = stored
        ? `the data dir's (key id ${stored.keyId}; not pinned: someone who can write the database could have replaced it — pin it with \`strongroom audit export-public-key\` and pass --public-key)`
        : 'none (the data dir has no audit signing key)';
    }
    const checkpoint = db.prepare(`SELECT seq, hash, ${hasColumn(db, 'audit_checkpoint', 'frontier') ? 'frontier' : 'NULL AS frontier'} FROM audit_checkpoint WHERE id = 1`).get() as StoredCheckpoint | undefined;
    const treeHeads = hasTable(db, 'audit_tree_heads')
      ? (db.prepare('SELECT id, tree_size AS treeSize, root_hash AS rootHash, timestamp, key_id AS keyId, signature FROM audit_tree_heads ORDER BY id').all() as StoredTreeHead[])
      : [];
    const rows = db.prepare('SELECT seq, hash, record FROM audit_events ORDER BY seq').iterate() as IterableIterator<StoredLink>;
    const report = verifyLog({ rows, checkpoint, treeHeads, key });

    const out: string[] = [];
    if (report.ok) {
      out.push(`audit log verified: ${report.records} records, head ${report.head.seq} ${report.head.hash}`);
      out.push(`merkle tree (RFC 6962): size ${report.records}, root ${report.rootHash.toString('hex')}`);
      const l = report.latestTreeHead;
      out.push(
        l
          ? `signed tree heads: ${report.validTreeHeads} valid; the newest, #${l.id}, covers every record (size ${l.treeSize}, root ${l.rootHash.toString('hex')}, signed ${new Date(l.timestamp).toISOString()})`
          : 'signed tree heads: none (the log is empty)',
      );
    } else {
      for (const p of report.problems.slice(0, MAX_PROBLEMS_SHOWN)) {
        out.push(p.seq !== undefined ? `audit log INVALID at sequence number ${p.seq}: ${p.message} (${report.chainVerified} records verified before it)` : `audit log INVALID: ${p.message}`);
      }
      if (report.problems.length > MAX_PROBLEMS_SHOWN) out.push(`… and ${report.problems.length - MAX_PROBLEMS_SHOWN} more problems`);
    }
    out.push(`public key: ${keySource}`);
    process.stdout.write(`${out.join('\n')}\n`);
    return report.ok ? 0 : 1;
  } finally {
    db.close();
  }
}

/** `strongroom audit export-public-key`: the audit signing key's public key, PEM (SPKI), to pin elsewhere. */
export function auditExportPublicKeyCommand(flags: AuditExportPublicKeyFlags): number {
  const opened = openLog(flags.dataDir);
  if (typeof opened === 'number') return opened;
  try {
    const key = hasTable(opened.db, 'audit_tree_key') ? dataDirKey(opened.db) : undefined;
    if (!key) {
      process.stderr.write('strongroom: the data dir has no audit signing key yet (the server makes it when it starts)\n');
      return 1;
    }
    process.stdout.write(key.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    return 0;
  } finally {
    opened.db.close();
  }
}

/**
 * `strongroom audit proof --seq N [--tree-size S]`: the RFC 6962 §2.1.1 inclusion proof of record N (leaf N−1)
 * in the tree of the first S records — by default the newest signed head's size, so the proof ends at a signed
 * root — printed as JSON with the record, its leaf hash, the root and the signed head of that size when one is
 * kept. Anyone holding the public key can check it without the database (merkle.ts#verifyInclusion).
 */
export function auditProofCommand(flags: AuditProofFlags): number {
  const opened = openLog(flags.dataDir);
  if (typeof opened === 'number') return opened;
  const { db } = opened;
  try {
    const seq = Number(flags.seq);
    const heads = hasTable(db, 'audit_tree_heads')
      ? (db.prepare('SELECT id, tree_size AS treeSize, root_hash AS rootHash, timestamp, key_id AS keyId, signature FROM audit_tree_heads ORDER BY tree_size').all() as StoredTreeHead[])
      : [];
    const count = (db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    const size = flags.treeSize !== undefined ? Number(flags.treeSize) : (heads[heads.length - 1]?.treeSize ?? count);
    if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(size) || seq < 1 || seq > size || size > count) {
      process.stderr.write(`strongroom: no record ${flags.seq} in a tree of ${flags.treeSize ?? size} (the log holds ${count} records)\n`);
      return 2;
    }
    const rows = db.prepare('SELECT seq, record FROM audit_events WHERE seq <= ? ORDER BY seq').all(size) as { seq: number; record: string }[];
    if (rows.some((r, i) => r.seq !== i + 1)) {
      process.stderr.write('strongroom: the log has gaps in its sequence numbers; run `strongroom audit verify`\n');
      return 1;
    }
    const leaves = rows.map((r) => leafHash(r.record));
    const path = inclusionProof(leaves, seq - 1, size);
    const tree = MerkleFrontier.empty();
    for (const l of leaves) tree.append(l);
    const rootHash = tree.root();
    const head = heads.find((h) => h.treeSize === size);
    const ok = verifyInclusion(leaves[seq - 1]!, seq - 1, size, path, rootHash) && (head === undefined || head.rootHash.equals(rootHash));
    const out = {
      seq,
      leafIndex: seq - 1,
      treeSize: size,
      record: rows[seq - 1]!.record,
      leafHash: leaves[seq - 1]!.toString('hex'),
      auditPath: path.map((p) => p.toString('hex')),
      rootHash: rootHash.toString('hex'),
      signedTreeHead: head ? { id: head.id, treeSize: head.treeSize, rootHash: head.rootHash.toString('hex'), timestamp: head.timestamp, keyId: head.keyId, signature: head.signature.toString('base64') } : null,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    if (!ok) process.stderr.write(`strongroom: the records do not match signed tree head #${head?.id} of size ${size}; run \`strongroom audit verify\`\n`);
    return ok ? 0 : 1;
  } finally {
    db.close();
  }
}

function openLog(dir: string | undefined): { db: Database.Database } | number {
  const dataDir = resolve(dir ?? process.env.STRONGROOM_DATA_DIR ?? 'data');
  const path = join(dataDir, SQLITE_FILE);
  if (!existsSync(path)) {
    process.stderr.write(`strongroom: ${dataDir} is not a Strongroom data dir\n`);
    return 2;
  }
  return { db: new Database(path, { readonly: true, fileMustExist: true }) };
}

function dataDirKey(db: Database.Database): VerifyKey | undefined {
  const row = db.prepare('SELECT key_id, public_key FROM audit_tree_key WHERE id = 1').get() as { key_id: string; public_key: Buffer } | undefined;
  if (!row) return undefined;
  // The id is recomputed from the key itself: a stored id that disagrees shows as heads naming another key.
  const publicKey = createPublicKey({ key: row.public_key, format: 'der', type: 'spki' });
  return { keyId: keyIdOf(publicKey), publicKey };
}

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

function hasColumn(db: Database.Database, table: string, column: string): boolean {
  return (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).some((c) => c.name === column);
}

import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { StreamedInclusionProof, leafHash, verifyInclusion } from '../core/audit/merkle.js';
import { keyIdOf } from '../core/audit/tree-head.js';
import { StoredTreeHeadKey } from '../core/audit/tree-head-key.js';
import { StoredTreeHead, VerifyKey, verifyLogPaged } from '../core/audit/verify.js';
import { DeploymentFlags, OpenedDeployment, openDeployment } from './deployment.js';

export interface AuditVerifyFlags extends DeploymentFlags {
  /** A PEM public key pinned earlier (`strongroom audit export-public-key`), instead of the deployment's. */
  publicKey?: string;
}

export interface AuditProofFlags extends DeploymentFlags {
  seq: string;
  treeSize?: string;
}

export type AuditExportPublicKeyFlags = DeploymentFlags;

/** How many problems verify prints; an early edit breaks every later head, which says nothing new. */
const MAX_PROBLEMS_SHOWN = 20;

/** Records read per page: the log is streamed, never held whole (a million records are ~1.5 GB of JSON). */
const PAGE_SIZE = 2000;

/** Below every sequence number, so that a row numbered 0 or less (an edit) is read, and reported, too. */
const BEFORE_EVERY_SEQ = Number.MIN_SAFE_INTEGER;

/**
 * `strongroom audit verify`: recomputes the audit log's hash chain and RFC 6962 Merkle tree offline, on either
 * backend (--data-dir or --database-url), a page of records at a time, checks every signed tree head against
 * them and its signature against the public key, and exits 1 naming what is wrong. Read-only and on one
 * snapshot of the log (AuditLogSource.readSnapshot): a running server may go on committing meanwhile. See
 * src/core/audit/verify.ts for what it can and cannot detect.
 */
export async function auditVerifyCommand(flags: AuditVerifyFlags): Promise<number> {
  const opened = await openLog(flags);
  if (typeof opened === 'number') return opened;
  const { stores } = opened;
  try {
    const place = placeOf(opened);
    const stored = storedKey(await stores.audit.treeHeadKey());
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
      const same = stored?.keyId === key.keyId ? `${place} holds the same key` : stored ? `${place} holds another key, ${stored.keyId}` : `${place} holds no key`;
      keySource = `pinned ${flags.publicKey} (key id ${key.keyId}; ${same})`;
    } else {
      key = stored;
      keySource = stored
        ? `${place}'s (key id ${stored.keyId}; not pinned: someone who can write the database could have replaced it — pin it with \`strongroom audit export-public-key\` and pass --public-key)`
        : `none (${place} has no audit signing key)`;
    }
    const report = await stores.audit.readSnapshot(async (log) =>
      verifyLogPaged({ checkpoint: await log.checkpoint(), treeHeads: await log.treeHeads(), key, links: (after, limit) => log.links(after, limit), pageSize: PAGE_SIZE }),
    );

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
    await opened.close();
  }
}

/** `strongroom audit export-public-key`: the audit signing key's public key, PEM (SPKI), to pin elsewhere. */
export async function auditExportPublicKeyCommand(flags: AuditExportPublicKeyFlags): Promise<number> {
  const opened = await openLog(flags);
  if (typeof opened === 'number') return opened;
  try {
    const key = storedKey(await opened.stores.audit.treeHeadKey());
    if (!key) {
      process.stderr.write(`strongroom: ${placeOf(opened)} has no audit signing key yet (the server makes it when it starts)\n`);
      return 1;
    }
    process.stdout.write(key.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    return 0;
  } finally {
    await opened.close();
  }
}

/**
 * `strongroom audit proof --seq N [--tree-size S]`: the RFC 6962 §2.1.1 inclusion proof of record N (leaf N−1)
 * in the tree of the first S records — by default the newest signed head's size, so the proof ends at a signed
 * root — printed as JSON with the record, its leaf hash, the root and the signed head of that size when one is
 * kept. Anyone holding the public key can check it without the database (merkle.ts#verifyInclusion). The
 * records are read a page at a time, on one snapshot of the log, and only O(log S) hashes are kept.
 */
export async function auditProofCommand(flags: AuditProofFlags): Promise<number> {
  const opened = await openLog(flags);
  if (typeof opened === 'number') return opened;
  try {
    return await opened.stores.audit.readSnapshot(async (log) => {
      const seq = Number(flags.seq);
      const heads = (await log.treeHeads()).sort((a, b) => a.treeSize - b.treeSize || a.id - b.id);
      const count = await log.recordCount();
      const size = flags.treeSize !== undefined ? Number(flags.treeSize) : (heads[heads.length - 1]?.treeSize ?? count);
      if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(size) || seq < 1 || seq > size || size > count) {
        process.stderr.write(`strongroom: no record ${flags.seq} in a tree of ${flags.treeSize ?? size} (the log holds ${count} records)\n`);
        return 2;
      }
      const proof = new StreamedInclusionProof(seq - 1, size);
      let record: string | undefined;
      let read = 0;
      for (let after = BEFORE_EVERY_SEQ; read < size; ) {
        const page = await log.links(after, Math.min(PAGE_SIZE, size - read));
        for (const r of page) {
          if (r.seq !== read + 1) break;
          proof.add(leafHash(r.record));
          if (r.seq === seq) record = r.record;
          read += 1;
        }
        if (page.length === 0 || page[page.length - 1]!.seq !== read) break;
        after = read;
      }
      if (read !== size || record === undefined) {
        process.stderr.write('strongroom: the log has gaps in its sequence numbers; run `strongroom audit verify`\n');
        return 1;
      }
      const { leaf, path, root: rootHash } = proof.result();
      const head = heads.find((h) => h.treeSize === size);
      const ok = verifyInclusion(leaf, seq - 1, size, path, rootHash) && (head === undefined || head.rootHash.equals(rootHash));
      const out = {
        seq,
        leafIndex: seq - 1,
        treeSize: size,
        record,
        leafHash: leaf.toString('hex'),
        auditPath: path.map((p) => p.toString('hex')),
        rootHash: rootHash.toString('hex'),
        signedTreeHead: head ? signedHeadJson(head) : null,
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      if (!ok) process.stderr.write(`strongroom: the records do not match signed tree head #${head?.id} of size ${size}; run \`strongroom audit verify\`\n`);
      return ok ? 0 : 1;
    });
  } finally {
    await opened.close();
  }
}

function signedHeadJson(h: StoredTreeHead): object {
  return { id: h.id, treeSize: h.treeSize, rootHash: h.rootHash.toString('hex'), timestamp: h.timestamp, keyId: h.keyId, signature: h.signature.toString('base64') };
}

/**
 * The deployment on either backend, as `serve` finds it (--data-dir, or --database-url). Only the log is
 * read: a copy of a SQLite database without its root-of-trust key is enough. Exit 2 when there is none.
 */
async function openLog(flags: DeploymentFlags): Promise<OpenedDeployment | number> {
  const opened = await openDeployment(flags, process.env, { rootOfTrust: false });
  if (typeof opened === 'string') {
    process.stderr.write(`strongroom: ${opened}\n`);
    return 2;
  }
  return opened;
}

/** How messages name where the log is. */
function placeOf(opened: OpenedDeployment): string {
  return opened.stores.backend === 'sqlite' ? 'the data dir' : 'the database';
}

function storedKey(stored: StoredTreeHeadKey | undefined): VerifyKey | undefined {
  if (!stored) return undefined;
  // The id is recomputed from the key itself: a stored id that disagrees shows as heads naming another key.
  const publicKey = createPublicKey({ key: stored.publicKey, format: 'der', type: 'spki' });
  return { keyId: keyIdOf(publicKey), publicKey };
}

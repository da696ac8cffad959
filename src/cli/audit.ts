import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ChainHead } from '../core/audit/audit-log.js';
import { StoredLink, verifyChain } from '../core/audit/verify.js';
import { SQLITE_FILE } from '../store/metadata/sqlite/database.js';

export interface AuditVerifyFlags {
  dataDir?: string;
}

/**
 * `strongroom audit verify`: recomputes the audit log's hash chain offline (read-only; a running server may
 * have the database open) and exits 1 naming the first bad sequence number. See src/core/audit/verify.ts for
 * what it can and cannot detect.
 */
export function auditVerifyCommand(flags: AuditVerifyFlags): number {
  const dataDir = resolve(flags.dataDir ?? process.env.STRONGROOM_DATA_DIR ?? 'data');
  const path = join(dataDir, SQLITE_FILE);
  if (!existsSync(path)) {
    process.stderr.write(`strongroom: ${dataDir} is not a Strongroom data dir\n`);
    return 2;
  }
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const hasLog = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_events'").get() !== undefined;
    if (!hasLog) {
      process.stdout.write('audit log: no records (the data dir predates the audit log)\n');
      return 0;
    }
    const checkpoint = db.prepare('SELECT seq, hash FROM audit_checkpoint WHERE id = 1').get() as ChainHead | undefined;
    const rows = db.prepare('SELECT seq, hash, record FROM audit_events ORDER BY seq').iterate() as IterableIterator<StoredLink>;
    const result = verifyChain(rows, checkpoint);
    if (result.ok) {
      process.stdout.write(`audit log verified: ${result.records} records, head ${result.head.seq} ${result.head.hash}\n`);
      return 0;
    }
    process.stdout.write(`audit log INVALID at sequence number ${result.badSeq}: ${result.problem} (${result.records} records verified before it)\n`);
    return 1;
  } finally {
    db.close();
  }
}

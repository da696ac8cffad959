import { describe } from 'node:test';
import { SqliteAuditStore } from '../../src/store/metadata/sqlite/audit-store.js';
import { auditStoreContract } from './audit-store.contract.js';
import { freshSqlite, SQLITE_MODES } from './fresh-sqlite.js';

for (const [mode, options] of SQLITE_MODES) {
  describe(`SQLite audit store (${mode})`, () => {
    auditStoreContract(freshSqlite((database) => new SqliteAuditStore(database), options));
  });
}

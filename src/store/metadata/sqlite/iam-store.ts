import {
  AttachedPolicyRef, IamAccessKeyRecord, IamGroupRecord, IamRoleRecord, IamStore, IamStoreError, IamUserRecord,
  InlineQuota, ListOptions, ManagedPolicyRecord, PolicyOwner, PolicyVersionRecord, SessionRecord,
} from '../iam-types.js';
import { iamRows } from '../rows/iam.js';
import { Page, pageOf } from '../types.js';
import { SqliteDatabase } from './database.js';
import { SQLITE_ROWS } from './rows.js';

type Row = Record<string, unknown>;

const { toUser, toGroup, toRole, toPolicy, toVersion, toAccessKey, toSession } = iamRows(SQLITE_ROWS);

const OWNER_TABLE: Record<PolicyOwner['kind'], { table: string; id: string }> = {
  user: { table: 'iam_users', id: 'user_id' },
  group: { table: 'iam_groups', id: 'group_id' },
  role: { table: 'iam_roles', id: 'role_id' },
};

/** SQL that keeps rows whose `column` starts with the bound prefix (bound twice: length, then text). */
const PATH_PREFIX = (column: string) => `substr(${column}, 1, length(?)) = ?`;

/**
 * The IAM store on the shared SQLite database. better-sqlite3 is synchronous, so every method runs its
 * checks and writes in one transaction without yielding: no other request interleaves.
 */
export class SqliteIamStore implements IamStore {
  constructor(private readonly db: SqliteDatabase) {}

  #stmt(sql: string) {
    return this.db.stmt(sql);
  }

  #insert(what: string, run: () => void): void {
    try {
      run();
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT_') && /UNIQUE|PRIMARYKEY/.test((err as { code: string }).code)) {
        throw new IamStoreError('exists', what);
      }
      throw err;
    }
  }

  #ownerExists(owner: PolicyOwner): boolean {
    const { table, id } = OWNER_TABLE[owner.kind];
    return this.#stmt(`SELECT 1 FROM ${table} WHERE ${id} = ?`).get(owner.id) !== undefined;
  }

  #count(sql: string, ...params: unknown[]): number {
    return Number((this.#stmt(sql).get(...params) as Row).n);
  }

  // ---- users

  async createUser(u: IamUserRecord): Promise<void> {
    this.#insert('user', () =>
      this.#stmt('INSERT INTO iam_users (user_id, account_id, user_name, path, arn, created_at, tags) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        u.userId, u.accountId, u.userName, u.path, u.arn, u.createdAt, JSON.stringify(u.tags),
      ),
    );
  }

  async getUser(accountId: string, userName: string): Promise<IamUserRecord | undefined> {
    const row = this.#stmt('SELECT * FROM iam_users WHERE account_id = ? AND user_name = ?').get(accountId, userName) as Row | undefined;
    return row ? toUser(row) : undefined;
  }

  async getUserById(userId: string): Promise<IamUserRecord | undefined> {
    const row = this.#stmt('SELECT * FROM iam_users WHERE user_id = ?').get(userId) as Row | undefined;
    return row ? toUser(row) : undefined;
  }

  async listUsers(accountId: string, o: ListOptions): Promise<Page<IamUserRecord>> {
    const prefix = o.pathPrefix ?? '/';
    const rows = this.#stmt(
      `SELECT * FROM iam_users WHERE account_id = ? AND ${PATH_PREFIX('path')} AND user_name > ? ORDER BY user_name LIMIT ?`,
    ).all(accountId, prefix, prefix, o.after ?? '', o.limit + 1) as Row[];
    return pageOf(rows.map(toUser), o.limit, (u) => u.userName);
  }

  async deleteUser(accountId: string, userName: string): Promise<void> {
    this.db.transaction(() => {
      const user = this.#stmt('SELECT user_id FROM iam_users WHERE account_id = ? AND user_name = ?').get(accountId, userName) as Row | undefined;
      if (!user) throw new IamStoreError('no-such-entity', 'user');
      const id = String(user.user_id);
      if (this.#count('SELECT count(*) AS n FROM access_keys WHERE account_id = ? AND user_name = ?', accountId, userName) > 0) {
        throw new IamStoreError('conflict', 'access-keys');
      }
      if (this.#count('SELECT count(*) AS n FROM iam_inline_policies WHERE owner_id = ?', id) > 0) throw new IamStoreError('conflict', 'policies');
      if (this.#count('SELECT count(*) AS n FROM iam_attached_policies WHERE owner_id = ?', id) > 0) throw new IamStoreError('conflict', 'attached-policies');
      if (this.#count('SELECT count(*) AS n FROM iam_group_members WHERE user_id = ?', id) > 0) throw new IamStoreError('conflict', 'groups');
      this.#stmt('DELETE FROM iam_users WHERE user_id = ?').run(id);
    });
  }

  // ---- access keys

  async createAccessKey(k: IamAccessKeyRecord, max: number): Promise<void> {
    this.db.transaction(() => {
      if (k.userName !== null && !this.#stmt('SELECT 1 FROM iam_users WHERE account_id = ? AND user_name = ?').get(k.accountId, k.userName)) {
        throw new IamStoreError('no-such-entity', 'user');
      }
      if ((this.#keysOf(k.accountId, k.userName, 'count(*) AS n')[0] as Row).n as number >= max) throw new IamStoreError('limit', 'AccessKeysPerUser');
      this.#insert('access-key', () =>
        this.#stmt(
          `INSERT INTO access_keys (access_key_id, account_id, principal_arn, principal_type, principal_id, secret_wrapped, status, created_at, user_name)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(k.accessKeyId, k.accountId, k.principalArn, k.principalType, k.principalId, k.secretWrapped, k.status, k.createdAt, k.userName),
      );
    });
  }

  /** The keys of a user, or the root's (userName null). */
  #keysOf(accountId: string, userName: string | null, columns: string): Row[] {
    return userName === null
      ? (this.#stmt(`SELECT ${columns} FROM access_keys WHERE account_id = ? AND principal_type = 'Root' ORDER BY created_at, access_key_id`).all(accountId) as Row[])
      : (this.#stmt(`SELECT ${columns} FROM access_keys WHERE account_id = ? AND user_name = ? ORDER BY created_at, access_key_id`).all(accountId, userName) as Row[]);
  }

  async listAccessKeys(accountId: string, userName: string | null): Promise<IamAccessKeyRecord[]> {
    return this.#keysOf(accountId, userName, '*').map(toAccessKey);
  }

  async setAccessKeyStatus(accountId: string, userName: string | null, accessKeyId: string, status: 'Active' | 'Inactive'): Promise<boolean> {
    const owner = userName === null ? "principal_type = 'Root'" : 'user_name = ?';
    const params = userName === null ? [] : [userName];
    return this.#stmt(`UPDATE access_keys SET status = ? WHERE access_key_id = ? AND account_id = ? AND ${owner}`).run(status, accessKeyId, accountId, ...params).changes > 0;
  }

  async deleteAccessKey(accountId: string, userName: string | null, accessKeyId: string): Promise<boolean> {
    const owner = userName === null ? "principal_type = 'Root'" : 'user_name = ?';
    const params = userName === null ? [] : [userName];
    return this.#stmt(`DELETE FROM access_keys WHERE access_key_id = ? AND account_id = ? AND ${owner}`).run(accessKeyId, accountId, ...params).changes > 0;
  }

  // ---- groups

  async createGroup(g: IamGroupRecord): Promise<void> {
    this.#insert('group', () =>
      this.#stmt('INSERT INTO iam_groups (group_id, account_id, group_name, path, arn, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
        g.groupId, g.accountId, g.groupName, g.path, g.arn, g.createdAt,
      ),
    );
  }

  async getGroup(accountId: string, groupName: string): Promise<IamGroupRecord | undefined> {
    const row = this.#stmt('SELECT * FROM iam_groups WHERE account_id = ? AND group_name = ?').get(accountId, groupName) as Row | undefined;
    return row ? toGroup(row) : undefined;
  }

  async listGroups(accountId: string, o: ListOptions): Promise<Page<IamGroupRecord>> {
    const prefix = o.pathPrefix ?? '/';
    const rows = this.#stmt(
      `SELECT * FROM iam_groups WHERE account_id = ? AND ${PATH_PREFIX('path')} AND group_name > ? ORDER BY group_name LIMIT ?`,
    ).all(accountId, prefix, prefix, o.after ?? '', o.limit + 1) as Row[];
    return pageOf(rows.map(toGroup), o.limit, (g) => g.groupName);
  }

  async deleteGroup(accountId: string, groupName: string): Promise<void> {
    this.db.transaction(() => {
      const group = this.#stmt('SELECT group_id FROM iam_groups WHERE account_id = ? AND group_name = ?').get(accountId, groupName) as Row | undefined;
      if (!group) throw new IamStoreError('no-such-entity', 'group');
      const id = String(group.group_id);
      if (this.#count('SELECT count(*) AS n FROM iam_group_members WHERE group_id = ?', id) > 0) throw new IamStoreError('conflict', 'members');
      if (this.#count('SELECT count(*) AS n FROM iam_inline_policies WHERE owner_id = ?', id) > 0) throw new IamStoreError('conflict', 'policies');
      if (this.#count('SELECT count(*) AS n FROM iam_attached_policies WHERE owner_id = ?', id) > 0) throw new IamStoreError('conflict', 'attached-policies');
      this.#stmt('DELETE FROM iam_groups WHERE group_id = ?').run(id);
    });
  }

  async addUserToGroup(groupId: string, userId: string, maxGroups: number): Promise<void> {
    this.db.transaction(() => {
      if (!this.#ownerExists({ kind: 'group', id: groupId })) throw new IamStoreError('no-such-entity', 'group');
      if (!this.#ownerExists({ kind: 'user', id: userId })) throw new IamStoreError('no-such-entity', 'user');
      if (this.#stmt('SELECT 1 FROM iam_group_members WHERE group_id = ? AND user_id = ?').get(groupId, userId)) return;
      if (this.#count('SELECT count(*) AS n FROM iam_group_members WHERE user_id = ?', userId) >= maxGroups) throw new IamStoreError('limit', 'GroupsPerUser');
      this.#stmt('INSERT INTO iam_group_members (group_id, user_id) VALUES (?, ?)').run(groupId, userId);
    });
  }

  async removeUserFromGroup(groupId: string, userId: string): Promise<boolean> {
    return this.#stmt('DELETE FROM iam_group_members WHERE group_id = ? AND user_id = ?').run(groupId, userId).changes > 0;
  }

  async listGroupsForUser(userId: string, o: ListOptions): Promise<Page<IamGroupRecord>> {
    const rows = this.#stmt(
      `SELECT g.* FROM iam_groups g JOIN iam_group_members m ON m.group_id = g.group_id
       WHERE m.user_id = ? AND g.group_name > ? ORDER BY g.group_name LIMIT ?`,
    ).all(userId, o.after ?? '', o.limit + 1) as Row[];
    return pageOf(rows.map(toGroup), o.limit, (g) => g.groupName);
  }

  async listGroupMembers(groupId: string, o: ListOptions): Promise<Page<IamUserRecord>> {
    const rows = this.#stmt(
      `SELECT u.* FROM iam_users u JOIN iam_group_members m ON m.user_id = u.user_id
       WHERE m.group_id = ? AND u.user_name > ? ORDER BY u.user_name LIMIT ?`,
    ).all(groupId, o.after ?? '', o.limit + 1) as Row[];
    return pageOf(rows.map(toUser), o.limit, (u) => u.userName);
  }

  // ---- roles

  async createRole(r: IamRoleRecord): Promise<void> {
    this.#insert('role', () =>
      this.#stmt(
        `INSERT INTO iam_roles (role_id, account_id, role_name, path, arn, created_at, assume_role_policy, description, max_session_duration, tags)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(r.roleId, r.accountId, r.roleName, r.path, r.arn, r.createdAt, r.assumeRolePolicy, r.description, r.maxSessionDuration, JSON.stringify(r.tags)),
    );
  }

  async getRole(accountId: string, roleName: string): Promise<IamRoleRecord | undefined> {
    const row = this.#stmt('SELECT * FROM iam_roles WHERE account_id = ? AND role_name = ?').get(accountId, roleName) as Row | undefined;
    return row ? toRole(row) : undefined;
  }

  async getRoleById(roleId: string): Promise<IamRoleRecord | undefined> {
    const row = this.#stmt('SELECT * FROM iam_roles WHERE role_id = ?').get(roleId) as Row | undefined;
    return row ? toRole(row) : undefined;
  }

  async listRoles(accountId: string, o: ListOptions): Promise<Page<IamRoleRecord>> {
    const prefix = o.pathPrefix ?? '/';
    const rows = this.#stmt(
      `SELECT * FROM iam_roles WHERE account_id = ? AND ${PATH_PREFIX('path')} AND role_name > ? ORDER BY role_name LIMIT ?`,
    ).all(accountId, prefix, prefix, o.after ?? '', o.limit + 1) as Row[];
    return pageOf(rows.map(toRole), o.limit, (r) => r.roleName);
  }

  async deleteRole(accountId: string, roleName: string): Promise<void> {
    this.db.transaction(() => {
      const role = this.#stmt('SELECT role_id FROM iam_roles WHERE account_id = ? AND role_name = ?').get(accountId, roleName) as Row | undefined;
      if (!role) throw new IamStoreError('no-such-entity', 'role');
      const id = String(role.role_id);
      if (this.#count('SELECT count(*) AS n FROM iam_inline_policies WHERE owner_id = ?', id) > 0) throw new IamStoreError('conflict', 'policies');
      if (this.#count('SELECT count(*) AS n FROM iam_attached_policies WHERE owner_id = ?', id) > 0) throw new IamStoreError('conflict', 'attached-policies');
      this.#stmt('DELETE FROM iam_roles WHERE role_id = ?').run(id);
    });
  }

  async updateAssumeRolePolicy(accountId: string, roleName: string, document: string): Promise<boolean> {
    return this.#stmt('UPDATE iam_roles SET assume_role_policy = ? WHERE account_id = ? AND role_name = ?').run(document, accountId, roleName).changes > 0;
  }

  // ---- inline policies

  async putInlinePolicy(owner: PolicyOwner, policyName: string, document: string, quota: InlineQuota): Promise<void> {
    this.db.transaction(() => {
      if (!this.#ownerExists(owner)) throw new IamStoreError('no-such-entity', owner.kind);
      const others = this.#stmt('SELECT document FROM iam_inline_policies WHERE owner_id = ? AND policy_name <> ?').all(owner.id, policyName) as Row[];
      const total = others.reduce((n, r) => n + quota.length(String(r.document)), quota.length(document));
      if (total > quota.max) throw new IamStoreError('limit', quota.name);
      this.#stmt(
        `INSERT INTO iam_inline_policies (owner_id, policy_name, document) VALUES (?, ?, ?)
         ON CONFLICT (owner_id, policy_name) DO UPDATE SET policy_name = excluded.policy_name, document = excluded.document`,
      ).run(owner.id, policyName, document);
    });
  }

  async getInlinePolicy(owner: PolicyOwner, policyName: string): Promise<{ policyName: string; document: string } | undefined> {
    const row = this.#stmt('SELECT policy_name, document FROM iam_inline_policies WHERE owner_id = ? AND policy_name = ?').get(owner.id, policyName) as Row | undefined;
    return row ? { policyName: String(row.policy_name), document: String(row.document) } : undefined;
  }

  async listInlinePolicyNames(owner: PolicyOwner, o: ListOptions): Promise<Page<string>> {
    const rows = this.#stmt('SELECT policy_name FROM iam_inline_policies WHERE owner_id = ? AND policy_name > ? ORDER BY policy_name LIMIT ?').all(
      owner.id, o.after ?? '', o.limit + 1,
    ) as Row[];
    return pageOf(rows.map((r) => String(r.policy_name)), o.limit, (n) => n);
  }

  async listInlinePolicies(owner: PolicyOwner): Promise<{ policyName: string; document: string }[]> {
    const rows = this.#stmt('SELECT policy_name, document FROM iam_inline_policies WHERE owner_id = ? ORDER BY policy_name').all(owner.id) as Row[];
    return rows.map((r) => ({ policyName: String(r.policy_name), document: String(r.document) }));
  }

  async deleteInlinePolicy(owner: PolicyOwner, policyName: string): Promise<boolean> {
    return this.#stmt('DELETE FROM iam_inline_policies WHERE owner_id = ? AND policy_name = ?').run(owner.id, policyName).changes > 0;
  }

  // ---- managed policies

  async createPolicy(p: Omit<ManagedPolicyRecord, 'attachmentCount' | 'defaultVersionId'>, document: string): Promise<void> {
    this.db.transaction(() => {
      this.#insert('policy', () =>
        this.#stmt(
          `INSERT INTO iam_policies (policy_id, account_id, policy_name, path, arn, description, created_at, updated_at, default_version, last_version, tags)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'v1', 1, ?)`,
        ).run(p.policyId, p.accountId, p.policyName, p.path, p.arn, p.description, p.createdAt, p.updatedAt, JSON.stringify(p.tags)),
      );
      this.#stmt('INSERT INTO iam_policy_versions (policy_id, version_id, document, created_at) VALUES (?, ?, ?, ?)').run(p.policyId, 'v1', document, p.createdAt);
    });
  }

  static readonly #POLICY = `SELECT p.*, (SELECT count(*) FROM iam_attached_policies a WHERE a.policy_id = p.policy_id) AS attachment_count FROM iam_policies p`;

  async getPolicy(arn: string): Promise<ManagedPolicyRecord | undefined> {
    const row = this.#stmt(`${SqliteIamStore.#POLICY} WHERE p.arn = ?`).get(arn) as Row | undefined;
    return row ? toPolicy(row) : undefined;
  }

  async listPolicies(accountId: string, o: ListOptions & { onlyAttached: boolean }): Promise<Page<ManagedPolicyRecord>> {
    const prefix = o.pathPrefix ?? '/';
    const attached = o.onlyAttached ? 'AND EXISTS (SELECT 1 FROM iam_attached_policies a WHERE a.policy_id = p.policy_id)' : '';
    const rows = this.#stmt(
      `${SqliteIamStore.#POLICY} WHERE p.account_id = ? AND ${PATH_PREFIX('p.path')} AND p.policy_name > ? ${attached} ORDER BY p.policy_name LIMIT ?`,
    ).all(accountId, prefix, prefix, o.after ?? '', o.limit + 1) as Row[];
    return pageOf(rows.map(toPolicy), o.limit, (p) => p.policyName);
  }

  #policyId(arn: string): string {
    const row = this.#stmt('SELECT policy_id FROM iam_policies WHERE arn = ?').get(arn) as Row | undefined;
    if (!row) throw new IamStoreError('no-such-entity', 'policy');
    return String(row.policy_id);
  }

  async deletePolicy(arn: string): Promise<void> {
    this.db.transaction(() => {
      const id = this.#policyId(arn);
      if (this.#count('SELECT count(*) AS n FROM iam_attached_policies WHERE policy_id = ?', id) > 0) throw new IamStoreError('conflict', 'attachments');
      if (this.#count('SELECT count(*) AS n FROM iam_policy_versions WHERE policy_id = ?', id) > 1) throw new IamStoreError('conflict', 'versions');
      this.#stmt('DELETE FROM iam_policies WHERE policy_id = ?').run(id);
    });
  }

  async createPolicyVersion(arn: string, document: string, setAsDefault: boolean, createdAt: number, maxVersions: number): Promise<PolicyVersionRecord> {
    return this.db.transaction(() => {
      const id = this.#policyId(arn);
      if (this.#count('SELECT count(*) AS n FROM iam_policy_versions WHERE policy_id = ?', id) >= maxVersions) throw new IamStoreError('limit', 'PolicyVersions');
      const last = Number((this.#stmt('SELECT last_version FROM iam_policies WHERE policy_id = ?').get(id) as Row).last_version);
      const versionId = `v${last + 1}`;
      this.#stmt('INSERT INTO iam_policy_versions (policy_id, version_id, document, created_at) VALUES (?, ?, ?, ?)').run(id, versionId, document, createdAt);
      if (setAsDefault) {
        this.#stmt('UPDATE iam_policies SET last_version = ?, default_version = ?, updated_at = ? WHERE policy_id = ?').run(last + 1, versionId, createdAt, id);
      } else {
        this.#stmt('UPDATE iam_policies SET last_version = ? WHERE policy_id = ?').run(last + 1, id);
      }
      return { versionId, document, createdAt, isDefault: setAsDefault };
    });
  }

  static readonly #VERSION = `SELECT v.*, (v.version_id = p.default_version) AS is_default
    FROM iam_policy_versions v JOIN iam_policies p ON p.policy_id = v.policy_id`;

  async getPolicyVersion(arn: string, versionId: string): Promise<PolicyVersionRecord | undefined> {
    const row = this.#stmt(`${SqliteIamStore.#VERSION} WHERE p.arn = ? AND v.version_id = ?`).get(arn, versionId) as Row | undefined;
    return row ? toVersion(row) : undefined;
  }

  async listPolicyVersions(arn: string): Promise<PolicyVersionRecord[]> {
    const rows = this.#stmt(`${SqliteIamStore.#VERSION} WHERE p.arn = ? ORDER BY CAST(substr(v.version_id, 2) AS INTEGER) DESC`).all(arn) as Row[];
    return rows.map(toVersion);
  }

  async deletePolicyVersion(arn: string, versionId: string): Promise<void> {
    this.db.transaction(() => {
      const version = this.#stmt(`${SqliteIamStore.#VERSION} WHERE p.arn = ? AND v.version_id = ?`).get(arn, versionId) as Row | undefined;
      if (!version) throw new IamStoreError('no-such-entity', 'policy-version');
      if (Number(version.is_default) === 1) throw new IamStoreError('conflict', 'default-version');
      this.#stmt('DELETE FROM iam_policy_versions WHERE policy_id = ? AND version_id = ?').run(version.policy_id, versionId);
    });
  }

  async setDefaultPolicyVersion(arn: string, versionId: string, updatedAt: number): Promise<void> {
    this.db.transaction(() => {
      const version = this.#stmt(`${SqliteIamStore.#VERSION} WHERE p.arn = ? AND v.version_id = ?`).get(arn, versionId) as Row | undefined;
      if (!version) throw new IamStoreError('no-such-entity', 'policy-version');
      this.#stmt('UPDATE iam_policies SET default_version = ?, updated_at = ? WHERE policy_id = ?').run(versionId, updatedAt, version.policy_id);
    });
  }

  // ---- attachments

  async attachPolicy(owner: PolicyOwner, policyArn: string, max: number): Promise<void> {
    this.db.transaction(() => {
      if (!this.#ownerExists(owner)) throw new IamStoreError('no-such-entity', owner.kind);
      const id = this.#policyId(policyArn);
      if (this.#stmt('SELECT 1 FROM iam_attached_policies WHERE owner_id = ? AND policy_id = ?').get(owner.id, id)) return;
      if (this.#count('SELECT count(*) AS n FROM iam_attached_policies WHERE owner_id = ?', owner.id) >= max) {
        throw new IamStoreError('limit', `PoliciesPer${owner.kind[0]!.toUpperCase()}${owner.kind.slice(1)}`);
      }
      this.#stmt('INSERT INTO iam_attached_policies (owner_id, policy_id) VALUES (?, ?)').run(owner.id, id);
    });
  }

  async detachPolicy(owner: PolicyOwner, policyArn: string): Promise<boolean> {
    return (
      this.#stmt('DELETE FROM iam_attached_policies WHERE owner_id = ? AND policy_id = (SELECT policy_id FROM iam_policies WHERE arn = ?)').run(owner.id, policyArn)
        .changes > 0
    );
  }

  async listAttachedPolicies(owner: PolicyOwner, o: ListOptions): Promise<Page<AttachedPolicyRef>> {
    const prefix = o.pathPrefix ?? '/';
    const rows = this.#stmt(
      `SELECT p.policy_name, p.arn FROM iam_attached_policies a JOIN iam_policies p ON p.policy_id = a.policy_id
       WHERE a.owner_id = ? AND ${PATH_PREFIX('p.path')} AND p.policy_name > ? ORDER BY p.policy_name LIMIT ?`,
    ).all(owner.id, prefix, prefix, o.after ?? '', o.limit + 1) as Row[];
    return pageOf(
      rows.map((r) => ({ policyName: String(r.policy_name), policyArn: String(r.arn) })),
      o.limit,
      (p) => p.policyName,
    );
  }

  async attachedPolicyDocuments(owner: PolicyOwner): Promise<{ policyArn: string; document: string }[]> {
    const rows = this.#stmt(
      `SELECT p.arn, v.document FROM iam_attached_policies a
       JOIN iam_policies p ON p.policy_id = a.policy_id
       JOIN iam_policy_versions v ON v.policy_id = p.policy_id AND v.version_id = p.default_version
       WHERE a.owner_id = ? ORDER BY p.policy_name`,
    ).all(owner.id) as Row[];
    return rows.map((r) => ({ policyArn: String(r.arn), document: String(r.document) }));
  }

  // ---- STS sessions

  async putSession(s: SessionRecord): Promise<void> {
    this.#stmt(
      `INSERT INTO sts_sessions (access_key_id, account_id, principal_type, principal_arn, principal_id, user_name, role_arn, session_name,
        secret_wrapped, token_sha256, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      s.accessKeyId, s.accountId, s.principalType, s.principalArn, s.principalId, s.userName ?? null, s.roleArn ?? null, s.sessionName ?? null,
      s.secretWrapped, s.tokenSha256, s.expiresAt, s.createdAt,
    );
  }

  async getSession(accessKeyId: string): Promise<SessionRecord | undefined> {
    const r = this.#stmt('SELECT * FROM sts_sessions WHERE access_key_id = ?').get(accessKeyId) as Row | undefined;
    if (!r) return undefined;
    return toSession(r);
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    return this.#stmt('DELETE FROM sts_sessions WHERE expires_at <= ?').run(now).changes;
  }
}

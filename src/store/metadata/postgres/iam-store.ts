import {
  AttachedPolicyRef, IamAccessKeyRecord, IamGroupRecord, IamRoleRecord, IamStore, IamStoreError, IamUserRecord,
  InlineQuota, ListOptions, ManagedPolicyRecord, PolicyOwner, PolicyVersionRecord, SessionRecord,
} from '../iam-types.js';
import { iamRows } from '../rows/iam.js';
import { Page, pageOf } from '../types.js';
import { PostgresDatabase, Queryable, UNIQUE_VIOLATION } from './database.js';
import { POSTGRES_ROWS } from './rows.js';

type Row = Record<string, unknown>;

const { toUser, toGroup, toRole, toPolicy, toVersion, toAccessKey, toSession } = iamRows(POSTGRES_ROWS);

const OWNER_TABLE: Record<PolicyOwner['kind'], { table: string; id: string }> = {
  user: { table: 'iam_users', id: 'user_id' },
  group: { table: 'iam_groups', id: 'group_id' },
  role: { table: 'iam_roles', id: 'role_id' },
};

/**
 * `column` equals parameter `$n` regardless of case. Both sides fold under the C collation, which folds ASCII
 * letters only, as SQLite's NOCASE (migrations/003-iam.ts); the unique indexes are on lower(name).
 */
const SAME_NAME = (column: string, n: number) => `lower(${column}) = lower($${n}::text COLLATE "C")`;
/** Names in NOCASE order, and the page condition "after the marker" in that order. */
const BY_NAME = (column: string) => `lower(${column})`;
const AFTER_NAME = (column: string, n: number) => `lower(${column}) > lower($${n}::text COLLATE "C")`;
/** Rows whose `column` starts with parameter `$n` (an IAM path prefix). */
const PATH_PREFIX = (column: string, n: number) => `left(${column}, length($${n}::text)) = $${n}::text`;

/**
 * The IAM store on PostgreSQL. Every method that checks and then writes does both in one transaction, and
 * first locks the row its checks are about (the user, group, role, policy or account, SELECT … FOR UPDATE),
 * so that concurrent requests on any node are serialised where SQLite's single writer serialised them: a key
 * quota cannot be passed twice, a user cannot be deleted while a key is being added to it, and so on.
 * Uniqueness is the indexes'; a unique violation becomes IamStoreError('exists').
 */
export class PostgresIamStore implements IamStore {
  constructor(private readonly db: PostgresDatabase) {}

  async #insert(q: Queryable, what: string, sql: string, params: unknown[]): Promise<void> {
    try {
      await q.query(sql, params);
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new IamStoreError('exists', what);
      throw err;
    }
  }

  async #one(q: Queryable, sql: string, params: unknown[]): Promise<Row | undefined> {
    return (await q.query(sql, params)).rows[0];
  }

  /** The one row `sql` selects as a record, or undefined. */
  async #get<T>(sql: string, params: unknown[], map: (r: Row) => T): Promise<T | undefined> {
    const row = await this.#one(this.db, sql, params);
    return row ? map(row) : undefined;
  }

  /** A page of an account's users, groups or roles (`table`, a constant): under the path prefix, after the marker, by name. */
  async #listNamed<T>(table: string, nameColumn: string, accountId: string, o: ListOptions, map: (r: Row) => T, name: (t: T) => string): Promise<Page<T>> {
    const { rows } = await this.db.query(
      `SELECT * FROM ${table} WHERE account_id = $1 AND ${PATH_PREFIX('path', 2)} AND ${AFTER_NAME(nameColumn, 3)}
       ORDER BY ${BY_NAME(nameColumn)} LIMIT $4`,
      [accountId, o.pathPrefix ?? '/', o.after ?? '', o.limit + 1],
    );
    return pageOf(rows.map(map), o.limit, name);
  }

  async #count(q: Queryable, sql: string, params: unknown[]): Promise<number> {
    return Number((await q.query(sql, params)).rows[0]!.n);
  }

  /** Locks the owner's row for the rest of the transaction; false when there is no such owner. */
  async #lockOwner(q: Queryable, owner: PolicyOwner): Promise<boolean> {
    const { table, id } = OWNER_TABLE[owner.kind];
    return (await q.query(`SELECT 1 FROM ${table} WHERE ${id} = $1 FOR UPDATE`, [owner.id])).rows.length > 0;
  }

  // ---- users

  async createUser(u: IamUserRecord): Promise<void> {
    await this.#insert(
      this.db,
      'user',
      'INSERT INTO iam_users (user_id, account_id, user_name, path, arn, created_at, tags) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [u.userId, u.accountId, u.userName, u.path, u.arn, u.createdAt, JSON.stringify(u.tags)],
    );
  }

  async getUser(accountId: string, userName: string): Promise<IamUserRecord | undefined> {
    return this.#get(`SELECT * FROM iam_users WHERE account_id = $1 AND ${SAME_NAME('user_name', 2)}`, [accountId, userName], toUser);
  }

  async getUserById(userId: string): Promise<IamUserRecord | undefined> {
    return this.#get('SELECT * FROM iam_users WHERE user_id = $1', [userId], toUser);
  }

  async listUsers(accountId: string, o: ListOptions): Promise<Page<IamUserRecord>> {
    return this.#listNamed('iam_users', 'user_name', accountId, o, toUser, (u) => u.userName);
  }

  async deleteUser(accountId: string, userName: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const user = await this.#one(tx, `SELECT user_id FROM iam_users WHERE account_id = $1 AND ${SAME_NAME('user_name', 2)} FOR UPDATE`, [accountId, userName]);
      if (!user) throw new IamStoreError('no-such-entity', 'user');
      const id = String(user.user_id);
      if ((await this.#count(tx, `SELECT count(*) AS n FROM access_keys WHERE account_id = $1 AND ${SAME_NAME('user_name', 2)}`, [accountId, userName])) > 0) {
        throw new IamStoreError('conflict', 'access-keys');
      }
      if ((await this.#count(tx, 'SELECT count(*) AS n FROM iam_inline_policies WHERE owner_id = $1', [id])) > 0) throw new IamStoreError('conflict', 'policies');
      if ((await this.#count(tx, 'SELECT count(*) AS n FROM iam_attached_policies WHERE owner_id = $1', [id])) > 0) throw new IamStoreError('conflict', 'attached-policies');
      if ((await this.#count(tx, 'SELECT count(*) AS n FROM iam_group_members WHERE user_id = $1', [id])) > 0) throw new IamStoreError('conflict', 'groups');
      await tx.query('DELETE FROM iam_users WHERE user_id = $1', [id]);
    });
  }

  // ---- access keys

  async createAccessKey(k: IamAccessKeyRecord, max: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Lock what the quota is about: the user, or for root keys the account.
      if (k.userName !== null) {
        const user = await this.#one(tx, `SELECT 1 FROM iam_users WHERE account_id = $1 AND ${SAME_NAME('user_name', 2)} FOR UPDATE`, [k.accountId, k.userName]);
        if (!user) throw new IamStoreError('no-such-entity', 'user');
      } else {
        await tx.query('SELECT 1 FROM accounts WHERE account_id = $1 FOR UPDATE', [k.accountId]);
      }
      if (Number((await this.#keysOf(tx, k.accountId, k.userName, 'count(*) AS n', false))[0]!.n) >= max) {
        throw new IamStoreError('limit', 'AccessKeysPerUser');
      }
      await this.#insert(
        tx,
        'access-key',
        `INSERT INTO access_keys (access_key_id, account_id, principal_arn, principal_type, principal_id, secret_wrapped, status, created_at, user_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [k.accessKeyId, k.accountId, k.principalArn, k.principalType, k.principalId, k.secretWrapped, k.status, k.createdAt, k.userName],
      );
    });
  }

  /** The keys of a user, or the root's (userName null). */
  async #keysOf(q: Queryable, accountId: string, userName: string | null, columns: string, ordered = true): Promise<Row[]> {
    const order = ordered ? ' ORDER BY created_at, access_key_id' : '';
    const { rows } =
      userName === null
        ? await q.query(`SELECT ${columns} FROM access_keys WHERE account_id = $1 AND principal_type = 'Root'${order}`, [accountId])
        : await q.query(`SELECT ${columns} FROM access_keys WHERE account_id = $1 AND ${SAME_NAME('user_name', 2)}${order}`, [accountId, userName]);
    return rows;
  }

  async listAccessKeys(accountId: string, userName: string | null): Promise<IamAccessKeyRecord[]> {
    return (await this.#keysOf(this.db, accountId, userName, '*')).map(toAccessKey);
  }

  async setAccessKeyStatus(accountId: string, userName: string | null, accessKeyId: string, status: 'Active' | 'Inactive'): Promise<boolean> {
    const owner = userName === null ? "principal_type = 'Root'" : SAME_NAME('user_name', 4);
    const res = await this.db.query(
      `UPDATE access_keys SET status = $1 WHERE access_key_id = $2 AND account_id = $3 AND ${owner}`,
      [status, accessKeyId, accountId, ...(userName === null ? [] : [userName])],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async deleteAccessKey(accountId: string, userName: string | null, accessKeyId: string): Promise<boolean> {
    const owner = userName === null ? "principal_type = 'Root'" : SAME_NAME('user_name', 3);
    const res = await this.db.query(
      `DELETE FROM access_keys WHERE access_key_id = $1 AND account_id = $2 AND ${owner}`,
      [accessKeyId, accountId, ...(userName === null ? [] : [userName])],
    );
    return (res.rowCount ?? 0) > 0;
  }

  // ---- groups

  async createGroup(g: IamGroupRecord): Promise<void> {
    await this.#insert(
      this.db,
      'group',
      'INSERT INTO iam_groups (group_id, account_id, group_name, path, arn, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [g.groupId, g.accountId, g.groupName, g.path, g.arn, g.createdAt],
    );
  }

  async getGroup(accountId: string, groupName: string): Promise<IamGroupRecord | undefined> {
    return this.#get(`SELECT * FROM iam_groups WHERE account_id = $1 AND ${SAME_NAME('group_name', 2)}`, [accountId, groupName], toGroup);
  }

  async listGroups(accountId: string, o: ListOptions): Promise<Page<IamGroupRecord>> {
    return this.#listNamed('iam_groups', 'group_name', accountId, o, toGroup, (g) => g.groupName);
  }

  async deleteGroup(accountId: string, groupName: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const group = await this.#one(tx, `SELECT group_id FROM iam_groups WHERE account_id = $1 AND ${SAME_NAME('group_name', 2)} FOR UPDATE`, [accountId, groupName]);
      if (!group) throw new IamStoreError('no-such-entity', 'group');
      const id = String(group.group_id);
      if ((await this.#count(tx, 'SELECT count(*) AS n FROM iam_group_members WHERE group_id = $1', [id])) > 0) throw new IamStoreError('conflict', 'members');
      if ((await this.#count(tx, 'SELECT count(*) AS n FROM iam_inline_policies WHERE owner_id = $1', [id])) > 0) throw new IamStoreError('conflict', 'policies');
      if ((await this.#count(tx, 'SELECT count(*) AS n FROM iam_attached_policies WHERE owner_id = $1', [id])) > 0) throw new IamStoreError('conflict', 'attached-policies');
      await tx.query('DELETE FROM iam_groups WHERE group_id = $1', [id]);
    });
  }

  async addUserToGroup(groupId: string, userId: string, maxGroups: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      // The group is only shared (DeleteGroup waits for us); the user is exclusive (its group quota).
      if (!(await this.#one(tx, 'SELECT 1 FROM iam_groups WHERE group_id = $1 FOR SHARE', [groupId]))) throw new IamStoreError('no-such-entity', 'group');
      if (!(await this.#lockOwner(tx, { kind: 'user', id: userId }))) throw new IamStoreError('no-such-entity', 'user');
      if (await this.#one(tx, 'SELECT 1 FROM iam_group_members WHERE group_id = $1 AND user_id = $2', [groupId, userId])) return;
      if ((await this.#count(tx, 'SELECT count(*) AS n FROM iam_group_members WHERE user_id = $1', [userId])) >= maxGroups) {
        throw new IamStoreError('limit', 'GroupsPerUser');
      }
      await tx.query('INSERT INTO iam_group_members (group_id, user_id) VALUES ($1, $2)', [groupId, userId]);
    });
  }

  async removeUserFromGroup(groupId: string, userId: string): Promise<boolean> {
    const res = await this.db.query('DELETE FROM iam_group_members WHERE group_id = $1 AND user_id = $2', [groupId, userId]);
    return (res.rowCount ?? 0) > 0;
  }

  async listGroupsForUser(userId: string, o: ListOptions): Promise<Page<IamGroupRecord>> {
    const { rows } = await this.db.query(
      `SELECT g.* FROM iam_groups g JOIN iam_group_members m ON m.group_id = g.group_id
       WHERE m.user_id = $1 AND ${AFTER_NAME('g.group_name', 2)} ORDER BY ${BY_NAME('g.group_name')} LIMIT $3`,
      [userId, o.after ?? '', o.limit + 1],
    );
    return pageOf(rows.map(toGroup), o.limit, (g) => g.groupName);
  }

  async listGroupMembers(groupId: string, o: ListOptions): Promise<Page<IamUserRecord>> {
    const { rows } = await this.db.query(
      `SELECT u.* FROM iam_users u JOIN iam_group_members m ON m.user_id = u.user_id
       WHERE m.group_id = $1 AND ${AFTER_NAME('u.user_name', 2)} ORDER BY ${BY_NAME('u.user_name')} LIMIT $3`,
      [groupId, o.after ?? '', o.limit + 1],
    );
    return pageOf(rows.map(toUser), o.limit, (u) => u.userName);
  }

  // ---- roles

  async createRole(r: IamRoleRecord): Promise<void> {
    await this.#insert(
      this.db,
      'role',
      `INSERT INTO iam_roles (role_id, account_id, role_name, path, arn, created_at, assume_role_policy, description, max_session_duration, tags)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [r.roleId, r.accountId, r.roleName, r.path, r.arn, r.createdAt, r.assumeRolePolicy, r.description, r.maxSessionDuration, JSON.stringify(r.tags)],
    );
  }

  async getRole(accountId: string, roleName: string): Promise<IamRoleRecord | undefined> {
    return this.#get(`SELECT * FROM iam_roles WHERE account_id = $1 AND ${SAME_NAME('role_name', 2)}`, [accountId, roleName], toRole);
  }

  async getRoleById(roleId: string): Promise<IamRoleRecord | undefined> {
    return this.#get('SELECT * FROM iam_roles WHERE role_id = $1', [roleId], toRole);
  }

  async listRoles(accountId: string, o: ListOptions): Promise<Page<IamRoleRecord>> {
    return this.#listNamed('iam_roles', 'role_name', accountId, o, toRole, (r) => r.roleName);
  }

  async deleteRole(accountId: string, roleName: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const role = await this.#one(tx, `SELECT role_id FROM iam_roles WHERE account_id = $1 AND ${SAME_NAME('role_name', 2)} FOR UPDATE`, [accountId, roleName]);
      if (!role) throw new IamStoreError('no-such-entity', 'role');
      const id = String(role.role_id);
      if ((await this.#count(tx, 'SELECT count(*) AS n FROM iam_inline_policies WHERE owner_id = $1', [id])) > 0) throw new IamStoreError('conflict', 'policies');
      if ((await this.#count(tx, 'SELECT count(*) AS n FROM iam_attached_policies WHERE owner_id = $1', [id])) > 0) throw new IamStoreError('conflict', 'attached-policies');
      await tx.query('DELETE FROM iam_roles WHERE role_id = $1', [id]);
    });
  }

  async updateAssumeRolePolicy(accountId: string, roleName: string, document: string): Promise<boolean> {
    const res = await this.db.query(`UPDATE iam_roles SET assume_role_policy = $1 WHERE account_id = $2 AND ${SAME_NAME('role_name', 3)}`, [
      document,
      accountId,
      roleName,
    ]);
    return (res.rowCount ?? 0) > 0;
  }

  // ---- inline policies

  async putInlinePolicy(owner: PolicyOwner, policyName: string, document: string, quota: InlineQuota): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (!(await this.#lockOwner(tx, owner))) throw new IamStoreError('no-such-entity', owner.kind);
      const { rows: others } = await tx.query(
        `SELECT document FROM iam_inline_policies WHERE owner_id = $1 AND NOT ${SAME_NAME('policy_name', 2)}`,
        [owner.id, policyName],
      );
      const total = others.reduce((n, r) => n + quota.length(String(r.document)), quota.length(document));
      if (total > quota.max) throw new IamStoreError('limit', quota.name);
      // Replacing keeps one policy per name in any case, and takes the new name's case (as SQLite's upsert does).
      await tx.query(
        `INSERT INTO iam_inline_policies (owner_id, policy_name, document) VALUES ($1, $2, $3)
         ON CONFLICT (owner_id, lower(policy_name)) DO UPDATE SET policy_name = excluded.policy_name, document = excluded.document`,
        [owner.id, policyName, document],
      );
    });
  }

  async getInlinePolicy(owner: PolicyOwner, policyName: string): Promise<{ policyName: string; document: string } | undefined> {
    const row = await this.#one(this.db, `SELECT policy_name, document FROM iam_inline_policies WHERE owner_id = $1 AND ${SAME_NAME('policy_name', 2)}`, [
      owner.id,
      policyName,
    ]);
    return row ? { policyName: String(row.policy_name), document: String(row.document) } : undefined;
  }

  async listInlinePolicyNames(owner: PolicyOwner, o: ListOptions): Promise<Page<string>> {
    const { rows } = await this.db.query(
      `SELECT policy_name FROM iam_inline_policies WHERE owner_id = $1 AND ${AFTER_NAME('policy_name', 2)}
       ORDER BY ${BY_NAME('policy_name')} LIMIT $3`,
      [owner.id, o.after ?? '', o.limit + 1],
    );
    return pageOf(rows.map((r) => String(r.policy_name)), o.limit, (n) => n);
  }

  async listInlinePolicies(owner: PolicyOwner): Promise<{ policyName: string; document: string }[]> {
    const { rows } = await this.db.query(
      `SELECT policy_name, document FROM iam_inline_policies WHERE owner_id = $1 ORDER BY ${BY_NAME('policy_name')}`,
      [owner.id],
    );
    return rows.map((r) => ({ policyName: String(r.policy_name), document: String(r.document) }));
  }

  async deleteInlinePolicy(owner: PolicyOwner, policyName: string): Promise<boolean> {
    const res = await this.db.query(`DELETE FROM iam_inline_policies WHERE owner_id = $1 AND ${SAME_NAME('policy_name', 2)}`, [owner.id, policyName]);
    return (res.rowCount ?? 0) > 0;
  }

  // ---- managed policies

  async createPolicy(p: Omit<ManagedPolicyRecord, 'attachmentCount' | 'defaultVersionId'>, document: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.#insert(
        tx,
        'policy',
        `INSERT INTO iam_policies (policy_id, account_id, policy_name, path, arn, description, created_at, updated_at, default_version, last_version, tags)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'v1', 1, $9)`,
        [p.policyId, p.accountId, p.policyName, p.path, p.arn, p.description, p.createdAt, p.updatedAt, JSON.stringify(p.tags)],
      );
      await tx.query('INSERT INTO iam_policy_versions (policy_id, version_id, document, created_at) VALUES ($1, $2, $3, $4)', [
        p.policyId,
        'v1',
        document,
        p.createdAt,
      ]);
    });
  }

  static readonly #POLICY = `SELECT p.*, (SELECT count(*) FROM iam_attached_policies a WHERE a.policy_id = p.policy_id) AS attachment_count FROM iam_policies p`;

  async getPolicy(arn: string): Promise<ManagedPolicyRecord | undefined> {
    return this.#get(`${PostgresIamStore.#POLICY} WHERE p.arn = $1`, [arn], toPolicy);
  }

  async listPolicies(accountId: string, o: ListOptions & { onlyAttached: boolean }): Promise<Page<ManagedPolicyRecord>> {
    const attached = o.onlyAttached ? 'AND EXISTS (SELECT 1 FROM iam_attached_policies a WHERE a.policy_id = p.policy_id)' : '';
    const { rows } = await this.db.query(
      `${PostgresIamStore.#POLICY} WHERE p.account_id = $1 AND ${PATH_PREFIX('p.path', 2)} AND ${AFTER_NAME('p.policy_name', 3)} ${attached}
       ORDER BY ${BY_NAME('p.policy_name')} LIMIT $4`,
      [accountId, o.pathPrefix ?? '/', o.after ?? '', o.limit + 1],
    );
    return pageOf(rows.map(toPolicy), o.limit, (p) => p.policyName);
  }

  /** The policy's id, its row locked (`lock`) for the rest of the transaction. */
  async #policyId(q: Queryable, arn: string, lock: 'UPDATE' | 'SHARE'): Promise<string> {
    const row = await this.#one(q, `SELECT policy_id FROM iam_policies WHERE arn = $1 FOR ${lock}`, [arn]);
    if (!row) throw new IamStoreError('no-such-entity', 'policy');
    return String(row.policy_id);
  }

  async deletePolicy(arn: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const id = await this.#policyId(tx, arn, 'UPDATE');
      if ((await this.#count(tx, 'SELECT count(*) AS n FROM iam_attached_policies WHERE policy_id = $1', [id])) > 0) throw new IamStoreError('conflict', 'attachments');
      if ((await this.#count(tx, 'SELECT count(*) AS n FROM iam_policy_versions WHERE policy_id = $1', [id])) > 1) throw new IamStoreError('conflict', 'versions');
      await tx.query('DELETE FROM iam_policies WHERE policy_id = $1', [id]);
    });
  }

  async createPolicyVersion(arn: string, document: string, setAsDefault: boolean, createdAt: number, maxVersions: number): Promise<PolicyVersionRecord> {
    return this.db.transaction(async (tx) => {
      const id = await this.#policyId(tx, arn, 'UPDATE');
      if ((await this.#count(tx, 'SELECT count(*) AS n FROM iam_policy_versions WHERE policy_id = $1', [id])) >= maxVersions) {
        throw new IamStoreError('limit', 'PolicyVersions');
      }
      const last = Number((await this.#one(tx, 'SELECT last_version FROM iam_policies WHERE policy_id = $1', [id]))!.last_version);
      const versionId = `v${last + 1}`;
      await tx.query('INSERT INTO iam_policy_versions (policy_id, version_id, document, created_at) VALUES ($1, $2, $3, $4)', [id, versionId, document, createdAt]);
      if (setAsDefault) {
        await tx.query('UPDATE iam_policies SET last_version = $1, default_version = $2, updated_at = $3 WHERE policy_id = $4', [last + 1, versionId, createdAt, id]);
      } else {
        await tx.query('UPDATE iam_policies SET last_version = $1 WHERE policy_id = $2', [last + 1, id]);
      }
      return { versionId, document, createdAt, isDefault: setAsDefault };
    });
  }

  static readonly #VERSION = `SELECT v.*, (v.version_id = p.default_version) AS is_default
    FROM iam_policy_versions v JOIN iam_policies p ON p.policy_id = v.policy_id`;

  async getPolicyVersion(arn: string, versionId: string): Promise<PolicyVersionRecord | undefined> {
    return this.#get(`${PostgresIamStore.#VERSION} WHERE p.arn = $1 AND v.version_id = $2`, [arn, versionId], toVersion);
  }

  async listPolicyVersions(arn: string): Promise<PolicyVersionRecord[]> {
    const { rows } = await this.db.query(
      `${PostgresIamStore.#VERSION} WHERE p.arn = $1 ORDER BY CAST(substr(v.version_id, 2) AS integer) DESC`,
      [arn],
    );
    return rows.map(toVersion);
  }

  /** A version of the policy, the policy's row locked; IamStoreError when either is missing. */
  async #lockedVersion(tx: Queryable, arn: string, versionId: string): Promise<Row> {
    const version = await this.#one(
      tx,
      `SELECT v.policy_id, (v.version_id = p.default_version) AS is_default
       FROM iam_policies p JOIN iam_policy_versions v ON v.policy_id = p.policy_id
       WHERE p.arn = $1 AND v.version_id = $2 FOR UPDATE OF p`,
      [arn, versionId],
    );
    if (!version) throw new IamStoreError('no-such-entity', 'policy-version');
    return version;
  }

  async deletePolicyVersion(arn: string, versionId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const version = await this.#lockedVersion(tx, arn, versionId);
      if (version.is_default === true) throw new IamStoreError('conflict', 'default-version');
      await tx.query('DELETE FROM iam_policy_versions WHERE policy_id = $1 AND version_id = $2', [version.policy_id, versionId]);
    });
  }

  async setDefaultPolicyVersion(arn: string, versionId: string, updatedAt: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      const version = await this.#lockedVersion(tx, arn, versionId);
      await tx.query('UPDATE iam_policies SET default_version = $1, updated_at = $2 WHERE policy_id = $3', [versionId, updatedAt, version.policy_id]);
    });
  }

  // ---- attachments

  async attachPolicy(owner: PolicyOwner, policyArn: string, max: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Owner first, then the policy (shared: DeletePolicy waits for us), always in this order.
      if (!(await this.#lockOwner(tx, owner))) throw new IamStoreError('no-such-entity', owner.kind);
      const id = await this.#policyId(tx, policyArn, 'SHARE');
      if (await this.#one(tx, 'SELECT 1 FROM iam_attached_policies WHERE owner_id = $1 AND policy_id = $2', [owner.id, id])) return;
      if ((await this.#count(tx, 'SELECT count(*) AS n FROM iam_attached_policies WHERE owner_id = $1', [owner.id])) >= max) {
        throw new IamStoreError('limit', `PoliciesPer${owner.kind[0]!.toUpperCase()}${owner.kind.slice(1)}`);
      }
      await tx.query('INSERT INTO iam_attached_policies (owner_id, policy_id) VALUES ($1, $2)', [owner.id, id]);
    });
  }

  async detachPolicy(owner: PolicyOwner, policyArn: string): Promise<boolean> {
    const res = await this.db.query(
      'DELETE FROM iam_attached_policies WHERE owner_id = $1 AND policy_id = (SELECT policy_id FROM iam_policies WHERE arn = $2)',
      [owner.id, policyArn],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async listAttachedPolicies(owner: PolicyOwner, o: ListOptions): Promise<Page<AttachedPolicyRef>> {
    const { rows } = await this.db.query(
      `SELECT p.policy_name, p.arn FROM iam_attached_policies a JOIN iam_policies p ON p.policy_id = a.policy_id
       WHERE a.owner_id = $1 AND ${PATH_PREFIX('p.path', 2)} AND ${AFTER_NAME('p.policy_name', 3)}
       ORDER BY ${BY_NAME('p.policy_name')} LIMIT $4`,
      [owner.id, o.pathPrefix ?? '/', o.after ?? '', o.limit + 1],
    );
    return pageOf(
      rows.map((r) => ({ policyName: String(r.policy_name), policyArn: String(r.arn) })),
      o.limit,
      (p) => p.policyName,
    );
  }

  async attachedPolicyDocuments(owner: PolicyOwner): Promise<{ policyArn: string; document: string }[]> {
    const { rows } = await this.db.query(
      `SELECT p.arn, v.document FROM iam_attached_policies a
       JOIN iam_policies p ON p.policy_id = a.policy_id
       JOIN iam_policy_versions v ON v.policy_id = p.policy_id AND v.version_id = p.default_version
       WHERE a.owner_id = $1 ORDER BY ${BY_NAME('p.policy_name')}`,
      [owner.id],
    );
    return rows.map((r) => ({ policyArn: String(r.arn), document: String(r.document) }));
  }

  // ---- STS sessions

  async putSession(s: SessionRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO sts_sessions (access_key_id, account_id, principal_type, principal_arn, principal_id, user_name, role_arn, session_name,
         secret_wrapped, token_sha256, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        s.accessKeyId, s.accountId, s.principalType, s.principalArn, s.principalId, s.userName ?? null, s.roleArn ?? null,
        s.sessionName ?? null, s.secretWrapped, s.tokenSha256, s.expiresAt, s.createdAt,
      ],
    );
  }

  async getSession(accessKeyId: string): Promise<SessionRecord | undefined> {
    return this.#get('SELECT * FROM sts_sessions WHERE access_key_id = $1', [accessKeyId], toSession);
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    return (await this.db.query('DELETE FROM sts_sessions WHERE expires_at <= $1', [now])).rowCount ?? 0;
  }
}

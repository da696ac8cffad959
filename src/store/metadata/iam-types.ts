import { AccessKeyRecord, Page } from './types.js';

/**
 * The IAM store: users, groups, roles, managed and inline policies, IAM users' access keys and STS
 * sessions. SQLite implements it (sqlite/iam-store.ts, sharing the one database); every implementation
 * runs test/contract/iam-store.contract.ts. Every method is atomic: a check and the write it guards
 * happen in one transaction, so nothing is half-created and no conflict slips in between.
 * Names are unique per account regardless of case, as IAM's are ("you cannot create resources named
 * both MyResource and myresource"): https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 * Times are epoch milliseconds.
 */

export interface IamTag {
  readonly Key: string;
  readonly Value: string;
}

export interface IamUserRecord {
  readonly accountId: string;
  /** AIDA… */
  readonly userId: string;
  readonly userName: string;
  readonly path: string;
  readonly arn: string;
  readonly createdAt: number;
  readonly tags: readonly IamTag[];
}

export interface IamGroupRecord {
  readonly accountId: string;
  /** AGPA… */
  readonly groupId: string;
  readonly groupName: string;
  readonly path: string;
  readonly arn: string;
  readonly createdAt: number;
}

export interface IamRoleRecord {
  readonly accountId: string;
  /** AROA… */
  readonly roleId: string;
  readonly roleName: string;
  readonly path: string;
  readonly arn: string;
  readonly createdAt: number;
  /** The trust policy, as the caller wrote it. */
  readonly assumeRolePolicy: string;
  readonly description: string | null;
  /** Seconds, 3600–43200. */
  readonly maxSessionDuration: number;
  readonly tags: readonly IamTag[];
}

export interface ManagedPolicyRecord {
  readonly accountId: string;
  /** ANPA… */
  readonly policyId: string;
  readonly policyName: string;
  readonly path: string;
  readonly arn: string;
  readonly description: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** v1, v2, … */
  readonly defaultVersionId: string;
  /** How many users, groups and roles it is attached to. */
  readonly attachmentCount: number;
  readonly tags: readonly IamTag[];
}

export interface PolicyVersionRecord {
  readonly versionId: string;
  readonly document: string;
  readonly createdAt: number;
  readonly isDefault: boolean;
}

/** Who an inline or attached policy belongs to: a user, group or role, by its unique id. */
export interface PolicyOwner {
  readonly kind: 'user' | 'group' | 'role';
  readonly id: string;
}

export interface AttachedPolicyRef {
  readonly policyName: string;
  readonly policyArn: string;
}

/** An access key as IAM lists it: an IAM user's (userName set) or the account root's (userName null). */
export interface IamAccessKeyRecord extends AccessKeyRecord {
  readonly userName: string | null;
}

/** STS temporary credentials: the secret wrapped by the root of trust, the session token only as a hash. */
export interface SessionRecord {
  /** ASIA… */
  readonly accessKeyId: string;
  readonly accountId: string;
  readonly principalType: 'Root' | 'IAMUser' | 'AssumedRole';
  /** The user's (or root's) ARN, or arn:aws:sts::<account>:assumed-role/<role>/<session>. */
  readonly principalArn: string;
  /** The user's id, the account id (root), or "AROA…:<session>". */
  readonly principalId: string;
  readonly userName?: string;
  readonly roleArn?: string;
  readonly sessionName?: string;
  readonly secretWrapped: Buffer;
  readonly tokenSha256: Buffer;
  readonly expiresAt: number;
  readonly createdAt: number;
}

export interface ListOptions {
  /** Only entities whose path starts with this. */
  readonly pathPrefix?: string;
  /** The sort key of the last item of the previous page. */
  readonly after?: string;
  readonly limit: number;
}

/** How much room the inline policies of one owner may take together (IAM counts characters, not white space). */
export interface InlineQuota {
  readonly name: string;
  readonly max: number;
  readonly length: (document: string) => number;
}

/**
 * Why a write was refused. The domain turns it into IAM's error and words the message:
 * - exists: the name is taken (EntityAlreadyExists);
 * - no-such-entity: `detail` names what is missing (user, group, role, policy, policy-version);
 * - limit: `detail` names the quota (AccessKeysPerUser, GroupsPerUser, PoliciesPerUser, PolicyVersions, <quota name>);
 * - conflict: `detail` names what is in the way (access-keys, policies, attached-policies, groups, members,
 *   attachments, versions, default-version).
 */
export type IamStoreFailure = 'exists' | 'no-such-entity' | 'limit' | 'conflict';

export class IamStoreError extends Error {
  constructor(
    readonly failure: IamStoreFailure,
    readonly detail: string,
  ) {
    super(`${failure}: ${detail}`);
    this.name = 'IamStoreError';
  }
}

export interface IamStore {
  createUser(user: IamUserRecord): Promise<void>;
  getUser(accountId: string, userName: string): Promise<IamUserRecord | undefined>;
  getUserById(userId: string): Promise<IamUserRecord | undefined>;
  listUsers(accountId: string, options: ListOptions): Promise<Page<IamUserRecord>>;
  /** Refuses (conflict) while the user has access keys, inline or attached policies, or groups. */
  deleteUser(accountId: string, userName: string): Promise<void>;

  /** Refuses when the user does not exist, or when it (or the root, userName null) already has `max` keys. */
  createAccessKey(key: IamAccessKeyRecord, max: number): Promise<void>;
  /** The keys of a user, or of the account root when userName is null. */
  listAccessKeys(accountId: string, userName: string | null): Promise<IamAccessKeyRecord[]>;
  setAccessKeyStatus(accountId: string, userName: string | null, accessKeyId: string, status: 'Active' | 'Inactive'): Promise<boolean>;
  deleteAccessKey(accountId: string, userName: string | null, accessKeyId: string): Promise<boolean>;

  createGroup(group: IamGroupRecord): Promise<void>;
  getGroup(accountId: string, groupName: string): Promise<IamGroupRecord | undefined>;
  listGroups(accountId: string, options: ListOptions): Promise<Page<IamGroupRecord>>;
  /** Refuses while the group has members, inline or attached policies. */
  deleteGroup(accountId: string, groupName: string): Promise<void>;
  /** Idempotent; refuses when the user already is in `maxGroups` groups. */
  addUserToGroup(groupId: string, userId: string, maxGroups: number): Promise<void>;
  removeUserFromGroup(groupId: string, userId: string): Promise<boolean>;
  listGroupsForUser(userId: string, options: ListOptions): Promise<Page<IamGroupRecord>>;
  listGroupMembers(groupId: string, options: ListOptions): Promise<Page<IamUserRecord>>;

  createRole(role: IamRoleRecord): Promise<void>;
  getRole(accountId: string, roleName: string): Promise<IamRoleRecord | undefined>;
  getRoleById(roleId: string): Promise<IamRoleRecord | undefined>;
  listRoles(accountId: string, options: ListOptions): Promise<Page<IamRoleRecord>>;
  /** Refuses while the role has inline or attached policies. */
  deleteRole(accountId: string, roleName: string): Promise<void>;
  updateAssumeRolePolicy(accountId: string, roleName: string, document: string): Promise<boolean>;

  /** Creates or replaces; refuses when the owner is gone or the owner's inline policies would exceed the quota. */
  putInlinePolicy(owner: PolicyOwner, policyName: string, document: string, quota: InlineQuota): Promise<void>;
  getInlinePolicy(owner: PolicyOwner, policyName: string): Promise<{ policyName: string; document: string } | undefined>;
  listInlinePolicyNames(owner: PolicyOwner, options: ListOptions): Promise<Page<string>>;
  /** Every inline policy of the owner (for evaluation). */
  listInlinePolicies(owner: PolicyOwner): Promise<{ policyName: string; document: string }[]>;
  deleteInlinePolicy(owner: PolicyOwner, policyName: string): Promise<boolean>;

  /** Creates the policy with its first version, v1, as the default. */
  createPolicy(policy: Omit<ManagedPolicyRecord, 'attachmentCount' | 'defaultVersionId'>, document: string): Promise<void>;
  getPolicy(arn: string): Promise<ManagedPolicyRecord | undefined>;
  listPolicies(accountId: string, options: ListOptions & { onlyAttached: boolean }): Promise<Page<ManagedPolicyRecord>>;
  /** Refuses while the policy is attached or has versions besides the default. */
  deletePolicy(arn: string): Promise<void>;
  /** Adds the next version (v<highest+1>); refuses beyond `maxVersions`. */
  createPolicyVersion(arn: string, document: string, setAsDefault: boolean, createdAt: number, maxVersions: number): Promise<PolicyVersionRecord>;
  getPolicyVersion(arn: string, versionId: string): Promise<PolicyVersionRecord | undefined>;
  listPolicyVersions(arn: string): Promise<PolicyVersionRecord[]>;
  /** Refuses to delete the default version. */
  deletePolicyVersion(arn: string, versionId: string): Promise<void>;
  setDefaultPolicyVersion(arn: string, versionId: string, updatedAt: number): Promise<void>;

  /** Idempotent; refuses when the owner or policy is gone or the owner has `max` attached policies. */
  attachPolicy(owner: PolicyOwner, policyArn: string, max: number): Promise<void>;
  detachPolicy(owner: PolicyOwner, policyArn: string): Promise<boolean>;
  listAttachedPolicies(owner: PolicyOwner, options: ListOptions): Promise<Page<AttachedPolicyRef>>;
  /** The default-version documents of the owner's attached policies (for evaluation). */
  attachedPolicyDocuments(owner: PolicyOwner): Promise<{ policyArn: string; document: string }[]>;

  putSession(session: SessionRecord): Promise<void>;
  getSession(accessKeyId: string): Promise<SessionRecord | undefined>;
  /** Removes sessions that expired at or before `now`; returns how many. */
  deleteExpiredSessions(now: number): Promise<number>;
}

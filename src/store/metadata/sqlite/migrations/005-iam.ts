/**
 * IAM users, groups, roles, managed and inline policies, and STS sessions.
 * Names compare without regard to case (COLLATE NOCASE), as IAM's do. Access keys of IAM users stay in
 * access_keys (SigV4 finds every long-term key there); user_name ties a key to its user (NULL for root keys).
 */
export const M005_IAM = `
  ALTER TABLE access_keys ADD COLUMN user_name TEXT COLLATE NOCASE;
  CREATE INDEX access_keys_user ON access_keys(account_id, user_name);

  CREATE TABLE iam_users (
    user_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    user_name TEXT NOT NULL COLLATE NOCASE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    tags TEXT NOT NULL,
    UNIQUE (account_id, user_name)
  ) STRICT;

  CREATE TABLE iam_groups (
    group_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    group_name TEXT NOT NULL COLLATE NOCASE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, group_name)
  ) STRICT;

  CREATE TABLE iam_group_members (
    group_id TEXT NOT NULL REFERENCES iam_groups(group_id),
    user_id TEXT NOT NULL REFERENCES iam_users(user_id),
    PRIMARY KEY (group_id, user_id)
  ) STRICT;
  CREATE INDEX iam_group_members_user ON iam_group_members(user_id);

  CREATE TABLE iam_roles (
    role_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    role_name TEXT NOT NULL COLLATE NOCASE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    assume_role_policy TEXT NOT NULL,
    description TEXT,
    max_session_duration INTEGER NOT NULL,
    tags TEXT NOT NULL,
    UNIQUE (account_id, role_name)
  ) STRICT;

  CREATE TABLE iam_policies (
    policy_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    policy_name TEXT NOT NULL COLLATE NOCASE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    default_version TEXT NOT NULL,
    last_version INTEGER NOT NULL,
    tags TEXT NOT NULL,
    UNIQUE (account_id, policy_name)
  ) STRICT;

  CREATE TABLE iam_policy_versions (
    policy_id TEXT NOT NULL REFERENCES iam_policies(policy_id) ON DELETE CASCADE,
    version_id TEXT NOT NULL,
    document TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (policy_id, version_id)
  ) STRICT;

  -- owner_id: the unique id of a user (AIDA…), group (AGPA…) or role (AROA…).
  CREATE TABLE iam_inline_policies (
    owner_id TEXT NOT NULL,
    policy_name TEXT NOT NULL COLLATE NOCASE,
    document TEXT NOT NULL,
    PRIMARY KEY (owner_id, policy_name)
  ) STRICT;

  CREATE TABLE iam_attached_policies (
    owner_id TEXT NOT NULL,
    policy_id TEXT NOT NULL REFERENCES iam_policies(policy_id),
    PRIMARY KEY (owner_id, policy_id)
  ) STRICT;
  CREATE INDEX iam_attached_policies_policy ON iam_attached_policies(policy_id);

  CREATE TABLE sts_sessions (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    principal_type TEXT NOT NULL,
    principal_arn TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    user_name TEXT,
    role_arn TEXT,
    session_name TEXT,
    secret_wrapped BLOB NOT NULL,
    token_sha256 BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX sts_sessions_expiry ON sts_sessions(expires_at);
`;

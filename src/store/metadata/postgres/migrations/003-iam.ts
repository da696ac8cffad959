/**
 * IAM users, groups, roles, managed and inline policies, and STS sessions: SQLite's migration 005 in
 * PostgreSQL types. IAM names are unique and looked up regardless of case (SQLite's COLLATE NOCASE): here the
 * columns keep the name as given, COLLATE "C", and every uniqueness, lookup and order goes through
 * lower(name) — which under the C collation folds ASCII letters only, exactly as NOCASE does (IAM names are
 * ASCII: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). Tags are `json` (kept
 * as written, in order). Access keys of IAM users stay in access_keys, where SigV4 finds every long-term key.
 */
export const P003_IAM = `
  ALTER TABLE access_keys ADD COLUMN user_name text COLLATE "C";
  CREATE INDEX access_keys_user ON access_keys(account_id, lower(user_name));

  CREATE TABLE iam_users (
    user_id text COLLATE "C" PRIMARY KEY,
    account_id text COLLATE "C" NOT NULL REFERENCES accounts(account_id),
    user_name text COLLATE "C" NOT NULL,
    path text COLLATE "C" NOT NULL,
    arn text NOT NULL,
    created_at bigint NOT NULL,
    tags json NOT NULL
  );
  CREATE UNIQUE INDEX iam_users_name ON iam_users(account_id, lower(user_name));

  CREATE TABLE iam_groups (
    group_id text COLLATE "C" PRIMARY KEY,
    account_id text COLLATE "C" NOT NULL REFERENCES accounts(account_id),
    group_name text COLLATE "C" NOT NULL,
    path text COLLATE "C" NOT NULL,
    arn text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE UNIQUE INDEX iam_groups_name ON iam_groups(account_id, lower(group_name));

  CREATE TABLE iam_group_members (
    group_id text COLLATE "C" NOT NULL REFERENCES iam_groups(group_id),
    user_id text COLLATE "C" NOT NULL REFERENCES iam_users(user_id),
    PRIMARY KEY (group_id, user_id)
  );
  CREATE INDEX iam_group_members_user ON iam_group_members(user_id);

  CREATE TABLE iam_roles (
    role_id text COLLATE "C" PRIMARY KEY,
    account_id text COLLATE "C" NOT NULL REFERENCES accounts(account_id),
    role_name text COLLATE "C" NOT NULL,
    path text COLLATE "C" NOT NULL,
    arn text NOT NULL,
    created_at bigint NOT NULL,
    assume_role_policy text NOT NULL,
    description text,
    max_session_duration integer NOT NULL,
    tags json NOT NULL
  );
  CREATE UNIQUE INDEX iam_roles_name ON iam_roles(account_id, lower(role_name));

  CREATE TABLE iam_policies (
    policy_id text COLLATE "C" PRIMARY KEY,
    account_id text COLLATE "C" NOT NULL REFERENCES accounts(account_id),
    policy_name text COLLATE "C" NOT NULL,
    path text COLLATE "C" NOT NULL,
    arn text NOT NULL UNIQUE,
    description text,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    default_version text NOT NULL,
    last_version integer NOT NULL,
    tags json NOT NULL
  );
  CREATE UNIQUE INDEX iam_policies_name ON iam_policies(account_id, lower(policy_name));

  CREATE TABLE iam_policy_versions (
    policy_id text COLLATE "C" NOT NULL REFERENCES iam_policies(policy_id) ON DELETE CASCADE,
    version_id text COLLATE "C" NOT NULL,
    document text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (policy_id, version_id)
  );

  -- owner_id: the unique id of a user (AIDA…), group (AGPA…) or role (AROA…).
  CREATE TABLE iam_inline_policies (
    owner_id text COLLATE "C" NOT NULL,
    policy_name text COLLATE "C" NOT NULL,
    document text NOT NULL
  );
  CREATE UNIQUE INDEX iam_inline_policies_name ON iam_inline_policies(owner_id, lower(policy_name));

  CREATE TABLE iam_attached_policies (
    owner_id text COLLATE "C" NOT NULL,
    policy_id text COLLATE "C" NOT NULL REFERENCES iam_policies(policy_id),
    PRIMARY KEY (owner_id, policy_id)
  );
  CREATE INDEX iam_attached_policies_policy ON iam_attached_policies(policy_id);

  CREATE TABLE sts_sessions (
    access_key_id text COLLATE "C" PRIMARY KEY,
    account_id text COLLATE "C" NOT NULL REFERENCES accounts(account_id),
    principal_type text NOT NULL,
    principal_arn text NOT NULL,
    principal_id text NOT NULL,
    user_name text,
    role_arn text,
    session_name text,
    secret_wrapped bytea NOT NULL,
    token_sha256 bytea NOT NULL,
    expires_at bigint NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE INDEX sts_sessions_expiry ON sts_sessions(expires_at);
`;

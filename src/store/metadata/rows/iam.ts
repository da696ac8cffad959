import {
  IamAccessKeyRecord, IamGroupRecord, IamRoleRecord, IamTag, IamUserRecord, ManagedPolicyRecord, PolicyVersionRecord, SessionRecord,
} from '../iam-types.js';
import { kmsRows } from './kms.js';
import { Row, RowDialect, textOrNull } from './row.js';

/** Rows of the IAM and STS tables as records, on either backend (tags are stored as the JSON array they were given). */
export function iamRows(d: RowDialect) {
  const tags = (v: unknown): IamTag[] => d.json(v) as IamTag[];
  const { toAccessKey } = kmsRows(d);

  return {
    toUser(r: Row): IamUserRecord {
      return {
        accountId: String(r.account_id),
        userId: String(r.user_id),
        userName: String(r.user_name),
        path: String(r.path),
        arn: String(r.arn),
        createdAt: Number(r.created_at),
        tags: tags(r.tags),
      };
    },

    toGroup(r: Row): IamGroupRecord {
      return {
        accountId: String(r.account_id),
        groupId: String(r.group_id),
        groupName: String(r.group_name),
        path: String(r.path),
        arn: String(r.arn),
        createdAt: Number(r.created_at),
      };
    },

    toRole(r: Row): IamRoleRecord {
      return {
        accountId: String(r.account_id),
        roleId: String(r.role_id),
        roleName: String(r.role_name),
        path: String(r.path),
        arn: String(r.arn),
        createdAt: Number(r.created_at),
        assumeRolePolicy: String(r.assume_role_policy),
        description: textOrNull(r.description),
        maxSessionDuration: Number(r.max_session_duration),
        tags: tags(r.tags),
      };
    },

    toPolicy(r: Row): ManagedPolicyRecord {
      return {
        accountId: String(r.account_id),
        policyId: String(r.policy_id),
        policyName: String(r.policy_name),
        path: String(r.path),
        arn: String(r.arn),
        description: textOrNull(r.description),
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
        defaultVersionId: String(r.default_version),
        attachmentCount: Number(r.attachment_count),
        tags: tags(r.tags),
      };
    },

    toVersion(r: Row): PolicyVersionRecord {
      return { versionId: String(r.version_id), document: String(r.document), createdAt: Number(r.created_at), isDefault: d.flag(r.is_default) };
    },

    toAccessKey(r: Row): IamAccessKeyRecord {
      return { ...toAccessKey(r), userName: r.user_name === null || r.user_name === undefined ? null : String(r.user_name) };
    },

    toSession(r: Row): SessionRecord {
      return {
        accessKeyId: String(r.access_key_id),
        accountId: String(r.account_id),
        principalType: r.principal_type as SessionRecord['principalType'],
        principalArn: String(r.principal_arn),
        principalId: String(r.principal_id),
        ...(r.user_name !== null ? { userName: String(r.user_name) } : {}),
        ...(r.role_arn !== null ? { roleArn: String(r.role_arn) } : {}),
        ...(r.session_name !== null ? { sessionName: String(r.session_name) } : {}),
        secretWrapped: r.secret_wrapped as Buffer,
        tokenSha256: r.token_sha256 as Buffer,
        expiresAt: Number(r.expires_at),
        createdAt: Number(r.created_at),
      };
    },
  };
}

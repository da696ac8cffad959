import { IamAccessKeyRecord, IamGroupRecord, IamRoleRecord, IamTag, IamUserRecord, ManagedPolicyRecord, PolicyVersionRecord } from '../../store/metadata/iam-types.js';

/**
 * IAM's answer shapes, member for member as the botocore model names them.
 * Policy documents in answers are URL-encoded: "The policy document returned in this structure is
 * URL-encoded compliant with RFC 3986" (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetUserPolicy.html);
 * the aws CLI and boto3 decode them, the SDKs hand them over as they are.
 */
export function encodeDocument(json: string): string {
  return encodeURIComponent(json).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function tags(list: readonly IamTag[]): { Tags?: IamTag[] } {
  return list.length > 0 ? { Tags: [...list] } : {};
}

export function userShape(u: IamUserRecord, withTags = false): Record<string, unknown> {
  return { Path: u.path, UserName: u.userName, UserId: u.userId, Arn: u.arn, CreateDate: new Date(u.createdAt), ...(withTags ? tags(u.tags) : {}) };
}

export function groupShape(g: IamGroupRecord): Record<string, unknown> {
  return { Path: g.path, GroupName: g.groupName, GroupId: g.groupId, Arn: g.arn, CreateDate: new Date(g.createdAt) };
}

export function roleShape(r: IamRoleRecord, withTags = false): Record<string, unknown> {
  return {
    Path: r.path,
    RoleName: r.roleName,
    RoleId: r.roleId,
    Arn: r.arn,
    CreateDate: new Date(r.createdAt),
    AssumeRolePolicyDocument: encodeDocument(r.assumeRolePolicy),
    ...(r.description !== null ? { Description: r.description } : {}),
    MaxSessionDuration: r.maxSessionDuration,
    ...(withTags ? tags(r.tags) : {}),
  };
}

export function policyShape(p: ManagedPolicyRecord, withTags = false): Record<string, unknown> {
  return {
    PolicyName: p.policyName,
    PolicyId: p.policyId,
    Arn: p.arn,
    Path: p.path,
    DefaultVersionId: p.defaultVersionId,
    AttachmentCount: p.attachmentCount,
    PermissionsBoundaryUsageCount: 0,
    IsAttachable: true,
    ...(p.description !== null ? { Description: p.description } : {}),
    CreateDate: new Date(p.createdAt),
    UpdateDate: new Date(p.updatedAt),
    ...(withTags ? tags(p.tags) : {}),
  };
}

/** ListPolicyVersions and CreatePolicyVersion leave the document out; GetPolicyVersion includes it. */
export function versionShape(v: PolicyVersionRecord, withDocument: boolean): Record<string, unknown> {
  return {
    ...(withDocument ? { Document: encodeDocument(v.document) } : {}),
    VersionId: v.versionId,
    IsDefaultVersion: v.isDefault,
    CreateDate: new Date(v.createdAt),
  };
}

export function accessKeyMetadataShape(k: IamAccessKeyRecord): Record<string, unknown> {
  return { ...(k.userName !== null ? { UserName: k.userName } : {}), AccessKeyId: k.accessKeyId, Status: k.status, CreateDate: new Date(k.createdAt) };
}

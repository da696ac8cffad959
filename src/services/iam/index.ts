import { createRequire } from 'node:module';
import { QueryCodec } from '../../protocols/query/query-codec.js';
import { QueryServiceModel } from '../../protocols/query/query-model.js';
import { IamOperation } from './call.js';
import { AddUserToGroup } from './operations/AddUserToGroup.js';
import { AttachGroupPolicy } from './operations/AttachGroupPolicy.js';
import { AttachRolePolicy } from './operations/AttachRolePolicy.js';
import { AttachUserPolicy } from './operations/AttachUserPolicy.js';
import { CreateAccessKey } from './operations/CreateAccessKey.js';
import { CreateGroup } from './operations/CreateGroup.js';
import { CreatePolicy } from './operations/CreatePolicy.js';
import { CreatePolicyVersion } from './operations/CreatePolicyVersion.js';
import { CreateRole } from './operations/CreateRole.js';
import { CreateUser } from './operations/CreateUser.js';
import { DeleteAccessKey } from './operations/DeleteAccessKey.js';
import { DeleteGroup } from './operations/DeleteGroup.js';
import { DeleteGroupPolicy } from './operations/DeleteGroupPolicy.js';
import { DeletePolicy } from './operations/DeletePolicy.js';
import { DeletePolicyVersion } from './operations/DeletePolicyVersion.js';
import { DeleteRole } from './operations/DeleteRole.js';
import { DeleteRolePolicy } from './operations/DeleteRolePolicy.js';
import { DeleteUser } from './operations/DeleteUser.js';
import { DeleteUserPolicy } from './operations/DeleteUserPolicy.js';
import { DetachGroupPolicy } from './operations/DetachGroupPolicy.js';
import { DetachRolePolicy } from './operations/DetachRolePolicy.js';
import { DetachUserPolicy } from './operations/DetachUserPolicy.js';
import { GetGroup } from './operations/GetGroup.js';
import { GetGroupPolicy } from './operations/GetGroupPolicy.js';
import { GetPolicy } from './operations/GetPolicy.js';
import { GetPolicyVersion } from './operations/GetPolicyVersion.js';
import { GetRole } from './operations/GetRole.js';
import { GetRolePolicy } from './operations/GetRolePolicy.js';
import { GetUser } from './operations/GetUser.js';
import { GetUserPolicy } from './operations/GetUserPolicy.js';
import { ListAccessKeys } from './operations/ListAccessKeys.js';
import { ListAttachedGroupPolicies } from './operations/ListAttachedGroupPolicies.js';
import { ListAttachedRolePolicies } from './operations/ListAttachedRolePolicies.js';
import { ListAttachedUserPolicies } from './operations/ListAttachedUserPolicies.js';
import { ListGroupPolicies } from './operations/ListGroupPolicies.js';
import { ListGroups } from './operations/ListGroups.js';
import { ListGroupsForUser } from './operations/ListGroupsForUser.js';
import { ListPolicies } from './operations/ListPolicies.js';
import { ListPolicyVersions } from './operations/ListPolicyVersions.js';
import { ListRolePolicies } from './operations/ListRolePolicies.js';
import { ListRoles } from './operations/ListRoles.js';
import { ListUserPolicies } from './operations/ListUserPolicies.js';
import { ListUsers } from './operations/ListUsers.js';
import { PutGroupPolicy } from './operations/PutGroupPolicy.js';
import { PutRolePolicy } from './operations/PutRolePolicy.js';
import { PutUserPolicy } from './operations/PutUserPolicy.js';
import { RemoveUserFromGroup } from './operations/RemoveUserFromGroup.js';
import { SetDefaultPolicyVersion } from './operations/SetDefaultPolicyVersion.js';
import { UpdateAccessKey } from './operations/UpdateAccessKey.js';
import { UpdateAssumeRolePolicy } from './operations/UpdateAssumeRolePolicy.js';

const model = createRequire(import.meta.url)('./model.json') as QueryServiceModel;

/** The IAM operation table: wire name → operation. Every entry must exist in the botocore model. */
export const IAM_OPERATIONS: ReadonlyMap<string, IamOperation> = new Map(
  [
    AddUserToGroup, AttachGroupPolicy, AttachRolePolicy, AttachUserPolicy, CreateAccessKey, CreateGroup,
    CreatePolicy, CreatePolicyVersion, CreateRole, CreateUser, DeleteAccessKey, DeleteGroup, DeleteGroupPolicy,
    DeletePolicy, DeletePolicyVersion, DeleteRole, DeleteRolePolicy, DeleteUser, DeleteUserPolicy,
    DetachGroupPolicy, DetachRolePolicy, DetachUserPolicy, GetGroup, GetGroupPolicy, GetPolicy, GetPolicyVersion,
    GetRole, GetRolePolicy, GetUser, GetUserPolicy, ListAccessKeys, ListAttachedGroupPolicies,
    ListAttachedRolePolicies, ListAttachedUserPolicies, ListGroupPolicies, ListGroups, ListGroupsForUser,
    ListPolicies, ListPolicyVersions, ListRolePolicies, ListRoles, ListUserPolicies, ListUsers, PutGroupPolicy,
    PutRolePolicy, PutUserPolicy, RemoveUserFromGroup, SetDefaultPolicyVersion, UpdateAccessKey,
    UpdateAssumeRolePolicy,
  ].map((op) => [op.name, op]),
);

export const IAM_MODEL = model;
export const IAM_CODEC = new QueryCodec(model);
/** SigV4 signing name (credential scope service). */
export const IAM_SIGNING_NAME = model.metadata.signingName;

import { AwsError } from '../errors/aws-error.js';
import { IamErrors } from '../errors/iam.js';
import { IamStoreError } from '../../store/metadata/iam-types.js';
import { IAM_GROUP_INLINE_POLICIES_MAX_CHARS, IAM_ROLE_INLINE_POLICIES_MAX_CHARS, IAM_USER_INLINE_POLICIES_MAX_CHARS } from '../policy/index.js';

/**
 * The words IAM answers a refused write with. The store says what went wrong (IamStoreError); this says
 * it as AWS does, e.g. "Cannot delete entity, must delete access keys first." (DeleteConflict).
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUser.html
 */
const CONFLICTS: Record<string, string> = {
  'access-keys': 'Cannot delete entity, must delete access keys first.',
  policies: 'Cannot delete entity, must delete policies first.',
  'attached-policies': 'Cannot delete entity, must detach all policies first.',
  groups: 'Cannot delete entity, must remove user from all groups first.',
  members: 'Cannot delete entity, must remove users from group first.',
  attachments: 'Cannot delete a policy attached to entities.',
  versions:
    "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
  'default-version': 'Cannot delete the default version of a policy.',
};

/** What the entity is called in NoSuchEntity / EntityAlreadyExists messages. */
export interface Subject {
  readonly user?: string;
  readonly group?: string;
  readonly role?: string;
  readonly policy?: string;
  readonly version?: string;
}

export function notFound(kind: 'user' | 'group' | 'role', name: string): AwsError {
  return new AwsError(IamErrors.NoSuchEntity, `The ${kind} with name ${name} cannot be found.`);
}

export function policyNotFound(arn: string): AwsError {
  return new AwsError(IamErrors.NoSuchEntity, `Policy ${arn} does not exist or is not attachable.`);
}

/** Runs a store write and turns an IamStoreError into IAM's error; anything else passes through. */
export async function storeWrite<T>(subject: Subject, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!(err instanceof IamStoreError)) throw err;
    throw describe(err, subject);
  }
}

function describe(err: IamStoreError, s: Subject): AwsError {
  switch (err.failure) {
    case 'exists':
      if (err.detail === 'policy') return new AwsError(IamErrors.EntityAlreadyExists, `A policy called ${s.policy} already exists. Duplicate names are not allowed.`);
      return new AwsError(IamErrors.EntityAlreadyExists, `${capital(err.detail)} with name ${nameOf(err.detail, s)} already exists.`);
    case 'no-such-entity':
      if (err.detail === 'policy') return policyNotFound(s.policy ?? '');
      if (err.detail === 'policy-version') return new AwsError(IamErrors.NoSuchEntity, `Policy ${s.policy} version ${s.version} does not exist or is not attachable.`);
      return notFound(err.detail as 'user' | 'group' | 'role', nameOf(err.detail, s));
    case 'limit':
      if (err.detail === 'PolicyVersions') {
        return new AwsError(IamErrors.LimitExceeded, 'A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.');
      }
      return new AwsError(IamErrors.LimitExceeded, `Cannot exceed quota for ${err.detail}: ${QUOTAS[err.detail] ?? ''}`.replace(/: $/, '.'));
    case 'conflict':
      return new AwsError(IamErrors.DeleteConflict, CONFLICTS[err.detail] ?? 'Cannot delete entity.');
  }
}

/** The quotas the store enforces, for messages ("Cannot exceed quota for AccessKeysPerUser: 2"). */
export const QUOTAS: Record<string, number> = {
  AccessKeysPerUser: 2,
  GroupsPerUser: 10,
  PoliciesPerUser: 10,
  PoliciesPerGroup: 10,
  PoliciesPerRole: 10,
  PolicyVersions: 5,
  UserPolicySize: IAM_USER_INLINE_POLICIES_MAX_CHARS,
  GroupPolicySize: IAM_GROUP_INLINE_POLICIES_MAX_CHARS,
  RolePolicySize: IAM_ROLE_INLINE_POLICIES_MAX_CHARS,
};

function nameOf(kind: string, s: Subject): string {
  return (kind === 'user' ? s.user : kind === 'group' ? s.group : kind === 'role' ? s.role : undefined) ?? '';
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

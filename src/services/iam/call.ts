import { AwsError } from '../../core/errors/aws-error.js';
import { QueryErrors } from '../../core/errors/query.js';
import { Iam } from '../../core/iam/iam.js';
import { iamArn } from '../../core/iam/ids.js';
import { notFound } from '../../core/iam/failures.js';
import { NamedOwner } from '../../core/iam/inline-policies.js';
import { rootArn } from '../../core/identity/principal.js';
import { IamGroupRecord, IamRoleRecord, IamUserRecord } from '../../store/metadata/iam-types.js';
import { Operation, RequestContext, ResourceAccess, defineOperation } from '../operation.js';

/** What an IAM operation handler gets: the domain, the request, and the caller's account (IAM is per account). */
export interface IamCall {
  readonly iam: Iam;
  readonly request: RequestContext;
  readonly accountId: string;
}

export type IamOperation = Operation<IamCall>;

export function onResource(name: string, resource: string): ResourceAccess {
  return { action: `iam:${name}`, resource };
}

/** An operation with no entity to find first (Create*, List*): the resource is what `resource` says. */
export function accountOperation<I>(spec: {
  name: string;
  readOnly: boolean;
  resource: (input: I, call: IamCall) => string;
  handle: (input: I, call: IamCall) => Promise<Record<string, unknown>>;
}): IamOperation {
  return defineOperation<IamCall, I, undefined>({
    name: spec.name,
    action: `iam:${spec.name}`,
    readOnly: spec.readOnly,
    resolve: async (input, call) => ({ access: [onResource(spec.name, spec.resource(input, call))], state: undefined }),
    handle: (input, call) => spec.handle(input, call),
  });
}

/** The three kinds of IAM entity that own policies, and how the wire names them. */
export type Kind = 'user' | 'group' | 'role';
export const WIRE: Record<Kind, { entity: string; member: 'UserName' | 'GroupName' | 'RoleName' }> = {
  user: { entity: 'User', member: 'UserName' },
  group: { entity: 'Group', member: 'GroupName' },
  role: { entity: 'Role', member: 'RoleName' },
};
/** An input naming its entity by the kind's member. */
export type Named = Partial<Record<'UserName' | 'GroupName' | 'RoleName', string>>;
type RecordOf<K extends Kind> = K extends 'user' ? IamUserRecord : K extends 'group' ? IamGroupRecord : IamRoleRecord;

/**
 * An operation on the user, group or role its input names. The entity is looked up before authorization
 * so the resource is its real ARN (with its path); a missing one is authorized as `<kind>/<name>` and
 * only then reported as NoSuchEntity, so callers without permission learn nothing of what exists.
 */
export function entityOperation<K extends Kind, I>(spec: {
  name: string;
  readOnly: boolean;
  kind: K;
  entityName: (input: I) => string;
  handle: (input: I, call: IamCall, entity: RecordOf<K>) => Promise<Record<string, unknown>>;
}): IamOperation {
  return defineOperation<IamCall, I, RecordOf<K> | undefined>({
    name: spec.name,
    action: `iam:${spec.name}`,
    readOnly: spec.readOnly,
    resolve: async (input, call) => {
      const name = spec.entityName(input);
      const entity = (await findEntity(call, spec.kind, name)) as RecordOf<K> | undefined;
      const arn = entity?.arn ?? iamArn(call.accountId, spec.kind, '/', name);
      return { access: [onResource(spec.name, arn)], state: entity };
    },
    handle: async (input, call, entity) => {
      if (!entity) throw notFound(spec.kind, spec.entityName(input));
      return spec.handle(input, call, entity);
    },
  });
}

function findEntity(call: IamCall, kind: Kind, name: string): Promise<IamUserRecord | IamGroupRecord | IamRoleRecord | undefined> {
  const { iam, accountId } = call;
  return kind === 'user' ? iam.users.find(accountId, name) : kind === 'group' ? iam.groups.find(accountId, name) : iam.roles.find(accountId, name);
}

/** The policy owner a user, group or role is. */
export function ownerOf(kind: Kind, entity: IamUserRecord | IamGroupRecord | IamRoleRecord): NamedOwner {
  if (kind === 'user') return { kind, id: (entity as IamUserRecord).userId, name: (entity as IamUserRecord).userName };
  if (kind === 'group') return { kind, id: (entity as IamGroupRecord).groupId, name: (entity as IamGroupRecord).groupName };
  return { kind, id: (entity as IamRoleRecord).roleId, name: (entity as IamRoleRecord).roleName };
}

/**
 * Whose access keys an access-key operation without UserName means: "If you do not specify a user name,
 * IAM determines the user name implicitly based on the Amazon Web Services access key ID signing the
 * request" — the caller's own user, or the account root; a role session must name a user.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html
 */
export interface KeyOwner {
  /** null: the account root's keys. */
  readonly userName: string | null;
  readonly user: IamUserRecord | null;
  readonly arn: string;
}

export function accessKeyOperation<I extends { UserName?: string }>(spec: {
  name: string;
  readOnly: boolean;
  handle: (input: I, call: IamCall, owner: KeyOwner) => Promise<Record<string, unknown>>;
}): IamOperation {
  return defineOperation<IamCall, I, KeyOwner | undefined>({
    name: spec.name,
    action: `iam:${spec.name}`,
    readOnly: spec.readOnly,
    resolve: async (input, call) => {
      const p = call.request.principal;
      let name = input.UserName;
      if (name === undefined) {
        if (p.type === 'Root') return { access: [onResource(spec.name, rootArn(call.accountId))], state: { userName: null, user: null, arn: rootArn(call.accountId) } };
        if (p.type !== 'IAMUser' || p.userName === undefined) throw mustNameUser();
        name = p.userName;
      }
      const user = await call.iam.users.find(call.accountId, name);
      const arn = user?.arn ?? iamArn(call.accountId, 'user', '/', name);
      return { access: [onResource(spec.name, arn)], state: user ? { userName: user.userName, user, arn } : undefined };
    },
    handle: async (input, call, owner) => {
      if (!owner) throw notFound('user', input.UserName ?? call.request.principal.userName ?? '');
      return spec.handle(input, call, owner);
    },
  });
}

export function mustNameUser(): AwsError {
  return new AwsError(QueryErrors.ValidationError, 'Must specify userName when calling with non-User credentials');
}

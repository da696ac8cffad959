import { IamRoleRecord, IamTag, ListOptions } from '../../store/metadata/iam-types.js';
import { Page } from '../../store/metadata/types.js';
import { IamDeps } from './deps.js';
import { notFound, storeWrite } from './failures.js';
import { iamArn, newUniqueId } from './ids.js';
import { checkTrustPolicy } from './policy-documents.js';

/** One hour: a role's maximum session duration unless CreateRole says otherwise. */
export const DEFAULT_MAX_SESSION_DURATION_S = 3600;

/** IAM roles. https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles.html */
export class Roles {
  constructor(private readonly d: IamDeps) {}

  async create(
    accountId: string,
    input: { roleName: string; path?: string; assumeRolePolicy: string; description?: string; maxSessionDuration?: number; tags?: readonly IamTag[] },
  ): Promise<IamRoleRecord> {
    checkTrustPolicy(this.d.policies, input.assumeRolePolicy);
    const path = input.path ?? '/';
    const role: IamRoleRecord = {
      accountId,
      roleId: newUniqueId('AROA'),
      roleName: input.roleName,
      path,
      arn: iamArn(accountId, 'role', path, input.roleName),
      createdAt: this.d.clock.now(),
      assumeRolePolicy: input.assumeRolePolicy,
      description: input.description ?? null,
      maxSessionDuration: input.maxSessionDuration ?? DEFAULT_MAX_SESSION_DURATION_S,
      tags: input.tags ?? [],
    };
    await this.d.changes.after(() => storeWrite({ role: input.roleName }, () => this.d.store.createRole(role)));
    return role;
  }

  find(accountId: string, roleName: string): Promise<IamRoleRecord | undefined> {
    return this.d.store.getRole(accountId, roleName);
  }

  async get(accountId: string, roleName: string): Promise<IamRoleRecord> {
    const role = await this.find(accountId, roleName);
    if (!role) throw notFound('role', roleName);
    return role;
  }

  list(accountId: string, options: ListOptions): Promise<Page<IamRoleRecord>> {
    return this.d.store.listRoles(accountId, options);
  }

  async delete(accountId: string, roleName: string): Promise<void> {
    await this.d.changes.after(() => storeWrite({ role: roleName }, () => this.d.store.deleteRole(accountId, roleName)));
  }

  async updateAssumeRolePolicy(accountId: string, roleName: string, document: string): Promise<void> {
    checkTrustPolicy(this.d.policies, document);
    if (!(await this.d.store.updateAssumeRolePolicy(accountId, roleName, document))) throw notFound('role', roleName);
  }
}

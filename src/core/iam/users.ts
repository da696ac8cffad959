import { IamTag, IamUserRecord, ListOptions } from '../../store/metadata/iam-types.js';
import { Page } from '../../store/metadata/types.js';
import { IamDeps } from './deps.js';
import { notFound, storeWrite } from './failures.js';
import { iamArn, newUniqueId } from './ids.js';

/** IAM users. https://docs.aws.amazon.com/IAM/latest/UserGuide/id_users.html */
export class Users {
  constructor(private readonly d: IamDeps) {}

  async create(accountId: string, input: { userName: string; path?: string; tags?: readonly IamTag[] }): Promise<IamUserRecord> {
    const path = input.path ?? '/';
    const user: IamUserRecord = {
      accountId,
      userId: newUniqueId('AIDA'),
      userName: input.userName,
      path,
      arn: iamArn(accountId, 'user', path, input.userName),
      createdAt: this.d.clock.now(),
      tags: input.tags ?? [],
    };
    await this.d.changes.after(() => storeWrite({ user: input.userName }, () => this.d.store.createUser(user)));
    return user;
  }

  find(accountId: string, userName: string): Promise<IamUserRecord | undefined> {
    return this.d.store.getUser(accountId, userName);
  }

  async get(accountId: string, userName: string): Promise<IamUserRecord> {
    const user = await this.find(accountId, userName);
    if (!user) throw notFound('user', userName);
    return user;
  }

  list(accountId: string, options: ListOptions): Promise<Page<IamUserRecord>> {
    return this.d.store.listUsers(accountId, options);
  }

  /** AWS refuses while the user has access keys, policies or groups (DeleteConflict). */
  async delete(accountId: string, userName: string): Promise<void> {
    await this.d.changes.after(() => storeWrite({ user: userName }, () => this.d.store.deleteUser(accountId, userName)));
  }
}

import { IamGroupRecord, IamUserRecord, ListOptions } from '../../store/metadata/iam-types.js';
import { Page } from '../../store/metadata/types.js';
import { IamDeps } from './deps.js';
import { QUOTAS, notFound, storeWrite } from './failures.js';
import { iamArn, newUniqueId } from './ids.js';

/** IAM groups and their members. https://docs.aws.amazon.com/IAM/latest/UserGuide/id_groups.html */
export class Groups {
  constructor(private readonly d: IamDeps) {}

  async create(accountId: string, input: { groupName: string; path?: string }): Promise<IamGroupRecord> {
    const path = input.path ?? '/';
    const group: IamGroupRecord = {
      accountId,
      groupId: newUniqueId('AGPA'),
      groupName: input.groupName,
      path,
      arn: iamArn(accountId, 'group', path, input.groupName),
      createdAt: this.d.clock.now(),
    };
    await storeWrite({ group: input.groupName }, () => this.d.store.createGroup(group));
    return group;
  }

  find(accountId: string, groupName: string): Promise<IamGroupRecord | undefined> {
    return this.d.store.getGroup(accountId, groupName);
  }

  async get(accountId: string, groupName: string): Promise<IamGroupRecord> {
    const group = await this.find(accountId, groupName);
    if (!group) throw notFound('group', groupName);
    return group;
  }

  list(accountId: string, options: ListOptions): Promise<Page<IamGroupRecord>> {
    return this.d.store.listGroups(accountId, options);
  }

  members(group: IamGroupRecord, options: ListOptions): Promise<Page<IamUserRecord>> {
    return this.d.store.listGroupMembers(group.groupId, options);
  }

  groupsOf(user: IamUserRecord, options: ListOptions): Promise<Page<IamGroupRecord>> {
    return this.d.store.listGroupsForUser(user.userId, options);
  }

  async delete(accountId: string, groupName: string): Promise<void> {
    await this.d.changes.after(() => storeWrite({ group: groupName }, () => this.d.store.deleteGroup(accountId, groupName)));
  }

  async addUser(group: IamGroupRecord, user: IamUserRecord): Promise<void> {
    await this.d.changes.after(() => storeWrite({ group: group.groupName, user: user.userName }, () => this.d.store.addUserToGroup(group.groupId, user.userId, QUOTAS.GroupsPerUser!)));
  }

  /** AWS answers NoSuchEntity when the user is not a member. */
  async removeUser(group: IamGroupRecord, user: IamUserRecord): Promise<void> {
    if (!(await this.d.changes.after(() => this.d.store.removeUserFromGroup(group.groupId, user.userId)))) throw notFound('user', user.userName);
  }
}

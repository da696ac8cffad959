import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  IamAccessKeyRecord, IamGroupRecord, IamRoleRecord, IamStore, IamStoreError, IamUserRecord, InlineQuota, PolicyOwner,
} from '../../src/store/metadata/iam-types.js';
import { MetadataStore } from '../../src/store/metadata/types.js';

const ACCOUNT = '111122223333';
const OTHER = '444455556666';
let seq = 0;
const id = (prefix: string) => `${prefix}${String(++seq).padStart(17, '0')}`;

/** An IAM store and the metadata store of the same database (accounts, and the access_keys SigV4 reads). */
export interface IamStores {
  readonly iam: IamStore;
  readonly metadata: MetadataStore;
}

function user(name: string, path = '/', accountId = ACCOUNT): IamUserRecord {
  return { accountId, userId: id('AIDA'), userName: name, path, arn: `arn:aws:iam::${accountId}:user${path}${name}`, createdAt: 1000, tags: [] };
}
function group(name: string): IamGroupRecord {
  return { accountId: ACCOUNT, groupId: id('AGPA'), groupName: name, path: '/', arn: `arn:aws:iam::${ACCOUNT}:group/${name}`, createdAt: 1000 };
}
function role(name: string): IamRoleRecord {
  return {
    accountId: ACCOUNT, roleId: id('AROA'), roleName: name, path: '/', arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, createdAt: 1000,
    assumeRolePolicy: '{"Statement":[]}', description: null, maxSessionDuration: 3600, tags: [{ Key: 'team', Value: 'x' }],
  };
}
function key(u: IamUserRecord | null, accountId = ACCOUNT): IamAccessKeyRecord {
  return {
    accessKeyId: id('AKIA'), accountId, principalArn: u ? u.arn : `arn:aws:iam::${accountId}:root`, principalType: u ? 'IAMUser' : 'Root',
    principalId: u ? u.userId : accountId, secretWrapped: Buffer.from('wrapped'), status: 'Active', createdAt: 1000 + seq, userName: u ? u.userName : null,
  };
}
function policy(name: string) {
  const policyId = id('ANPA');
  return { accountId: ACCOUNT, policyId, policyName: name, path: '/', arn: `arn:aws:iam::${ACCOUNT}:policy/${name}`, description: null, createdAt: 1000, updatedAt: 1000, tags: [] };
}
const quota = (max: number): InlineQuota => ({ name: 'UserPolicySize', max, length: (d) => d.length });
const owner = (u: IamUserRecord): PolicyOwner => ({ kind: 'user', id: u.userId });

async function refused(p: Promise<unknown>, failure: IamStoreError['failure'], detail: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof IamStoreError && err.failure === failure && err.detail === detail);
}

/** The behaviour every IAM store must have; each implementation's test file runs it. */
export function iamStoreContract(open: () => Promise<IamStores>): void {
  const fresh = async () => {
    const s = await open();
    await s.metadata.createAccount({ accountId: ACCOUNT, createdAt: 1 });
    await s.metadata.createAccount({ accountId: OTHER, createdAt: 1 });
    return s;
  };

  it('creates users, finds them by name regardless of case and by id, and refuses a second user of the same name in any case', async () => {
    const { iam } = await fresh();
    const alice = user('alice', '/eng/');
    await iam.createUser(alice);
    assert.deepEqual(await iam.getUser(ACCOUNT, 'ALICE'), alice);
    assert.deepEqual(await iam.getUserById(alice.userId), alice);
    assert.equal(await iam.getUser(OTHER, 'alice'), undefined);
    await refused(iam.createUser(user('Alice')), 'exists', 'user');
    await iam.createUser(user('alice', '/', OTHER));
  });

  it('lists users by name, a page at a time, under a path prefix', async () => {
    const { iam } = await fresh();
    for (const [n, p] of [['carol', '/ops/'], ['alice', '/eng/'], ['bob', '/eng/']] as const) await iam.createUser(user(n, p));
    const first = await iam.listUsers(ACCOUNT, { limit: 2 });
    assert.deepEqual(first.items.map((u) => u.userName), ['alice', 'bob']);
    assert.equal(first.next, 'bob');
    const second = await iam.listUsers(ACCOUNT, { limit: 2, after: first.next! });
    assert.deepEqual(second.items.map((u) => u.userName), ['carol']);
    assert.equal(second.next, undefined);
    assert.deepEqual((await iam.listUsers(ACCOUNT, { limit: 10, pathPrefix: '/eng' })).items.map((u) => u.userName), ['alice', 'bob']);
  });

  it('refuses to delete a user with access keys, inline or attached policies, or groups, and deletes it once they are gone', async () => {
    const { iam } = await fresh();
    const u = user('dave');
    await iam.createUser(u);
    const k = key(u);
    await iam.createAccessKey(k, 2);
    await refused(iam.deleteUser(ACCOUNT, 'dave'), 'conflict', 'access-keys');
    await iam.deleteAccessKey(ACCOUNT, 'dave', k.accessKeyId);
    await iam.putInlinePolicy(owner(u), 'p', '{}', quota(100));
    await refused(iam.deleteUser(ACCOUNT, 'dave'), 'conflict', 'policies');
    await iam.deleteInlinePolicy(owner(u), 'p');
    const p = policy('P1');
    await iam.createPolicy(p, '{"v":1}');
    await iam.attachPolicy(owner(u), p.arn, 10);
    await refused(iam.deleteUser(ACCOUNT, 'dave'), 'conflict', 'attached-policies');
    await iam.detachPolicy(owner(u), p.arn);
    const g = group('devs');
    await iam.createGroup(g);
    await iam.addUserToGroup(g.groupId, u.userId, 10);
    await refused(iam.deleteUser(ACCOUNT, 'dave'), 'conflict', 'groups');
    await iam.removeUserFromGroup(g.groupId, u.userId);
    await iam.deleteUser(ACCOUNT, 'dave');
    assert.equal(await iam.getUser(ACCOUNT, 'dave'), undefined);
    await refused(iam.deleteUser(ACCOUNT, 'dave'), 'no-such-entity', 'user');
  });

  it("keeps a user's access keys where SigV4 finds them, at most `max` per user, and updates and deletes them", async () => {
    const { iam, metadata } = await fresh();
    const u = user('erin');
    await iam.createUser(u);
    const [k1, k2] = [key(u), key(u)];
    await iam.createAccessKey(k1, 2);
    await iam.createAccessKey(k2, 2);
    await refused(iam.createAccessKey(key(u), 2), 'limit', 'AccessKeysPerUser');
    await refused(iam.createAccessKey(key(user('ghost')), 2), 'no-such-entity', 'user');
    assert.deepEqual((await iam.listAccessKeys(ACCOUNT, 'ERIN')).map((k) => k.accessKeyId), [k1.accessKeyId, k2.accessKeyId]);
    const stored = await metadata.getAccessKey(k1.accessKeyId);
    assert.equal(stored?.principalArn, u.arn);
    assert.equal(stored?.principalType, 'IAMUser');

    assert.equal(await iam.setAccessKeyStatus(ACCOUNT, 'erin', k1.accessKeyId, 'Inactive'), true);
    assert.equal((await metadata.getAccessKey(k1.accessKeyId))?.status, 'Inactive');
    assert.equal(await iam.setAccessKeyStatus(ACCOUNT, 'someone-else', k1.accessKeyId, 'Active'), false);
    assert.equal(await iam.deleteAccessKey(ACCOUNT, 'erin', k1.accessKeyId), true);
    assert.equal(await iam.deleteAccessKey(ACCOUNT, 'erin', k1.accessKeyId), false);
    assert.equal(await metadata.getAccessKey(k1.accessKeyId), undefined);
  });

  it("keeps the account root's keys apart from users' keys (userName null)", async () => {
    const { iam } = await fresh();
    const u = user('frank');
    await iam.createUser(u);
    await iam.createAccessKey(key(u), 2);
    const r = key(null);
    await iam.createAccessKey(r, 2);
    assert.deepEqual((await iam.listAccessKeys(ACCOUNT, null)).map((k) => k.accessKeyId), [r.accessKeyId]);
    assert.equal((await iam.listAccessKeys(ACCOUNT, null))[0]!.userName, null);
    assert.equal(await iam.setAccessKeyStatus(ACCOUNT, 'frank', r.accessKeyId, 'Inactive'), false);
    assert.equal(await iam.deleteAccessKey(ACCOUNT, null, r.accessKeyId), true);
  });

  it('adds users to groups once, bounded per user, lists both ways, and refuses to delete a group with members or policies', async () => {
    const { iam } = await fresh();
    const u = user('gina');
    await iam.createUser(u);
    const [g1, g2] = [group('b-team'), group('a-team')];
    await iam.createGroup(g1);
    await iam.createGroup(g2);
    await refused(iam.createGroup(group('A-TEAM')), 'exists', 'group');
    await iam.addUserToGroup(g1.groupId, u.userId, 2);
    await iam.addUserToGroup(g1.groupId, u.userId, 2);
    await iam.addUserToGroup(g2.groupId, u.userId, 2);
    const g3 = group('c-team');
    await iam.createGroup(g3);
    await refused(iam.addUserToGroup(g3.groupId, u.userId, 2), 'limit', 'GroupsPerUser');
    await refused(iam.addUserToGroup(g3.groupId, 'AIDANOBODY', 2), 'no-such-entity', 'user');
    assert.deepEqual((await iam.listGroupsForUser(u.userId, { limit: 10 })).items.map((g) => g.groupName), ['a-team', 'b-team']);
    assert.deepEqual((await iam.listGroupMembers(g1.groupId, { limit: 10 })).items.map((x) => x.userName), ['gina']);
    assert.deepEqual((await iam.listGroups(ACCOUNT, { limit: 10 })).items.map((g) => g.groupName), ['a-team', 'b-team', 'c-team']);
    await refused(iam.deleteGroup(ACCOUNT, 'b-team'), 'conflict', 'members');
    assert.equal(await iam.removeUserFromGroup(g1.groupId, u.userId), true);
    assert.equal(await iam.removeUserFromGroup(g1.groupId, u.userId), false);
    await iam.putInlinePolicy({ kind: 'group', id: g1.groupId }, 'gp', '{}', quota(100));
    await refused(iam.deleteGroup(ACCOUNT, 'b-team'), 'conflict', 'policies');
    await iam.deleteInlinePolicy({ kind: 'group', id: g1.groupId }, 'gp');
    await iam.deleteGroup(ACCOUNT, 'b-team');
    assert.equal(await iam.getGroup(ACCOUNT, 'b-team'), undefined);
  });

  it('creates roles with their trust policy and tags, updates the trust policy, and refuses to delete a role with policies', async () => {
    const { iam } = await fresh();
    const r = role('Admin');
    await iam.createRole(r);
    assert.deepEqual(await iam.getRole(ACCOUNT, 'admin'), r);
    assert.deepEqual(await iam.getRoleById(r.roleId), r);
    await refused(iam.createRole(role('ADMIN')), 'exists', 'role');
    assert.equal(await iam.updateAssumeRolePolicy(ACCOUNT, 'Admin', '{"new":1}'), true);
    assert.equal((await iam.getRole(ACCOUNT, 'Admin'))?.assumeRolePolicy, '{"new":1}');
    assert.equal(await iam.updateAssumeRolePolicy(ACCOUNT, 'Nope', '{}'), false);
    const p = policy('RoleP');
    await iam.createPolicy(p, '{}');
    await iam.attachPolicy({ kind: 'role', id: r.roleId }, p.arn, 10);
    await refused(iam.deleteRole(ACCOUNT, 'Admin'), 'conflict', 'attached-policies');
    await iam.detachPolicy({ kind: 'role', id: r.roleId }, p.arn);
    await iam.deleteRole(ACCOUNT, 'Admin');
    assert.deepEqual((await iam.listRoles(ACCOUNT, { limit: 10 })).items, []);
  });

  it('puts, replaces, lists and deletes inline policies, within the quota on their sum', async () => {
    const { iam } = await fresh();
    const u = user('hank');
    await iam.createUser(u);
    await iam.putInlinePolicy(owner(u), 'b', 'x'.repeat(40), quota(100));
    await iam.putInlinePolicy(owner(u), 'a', 'y'.repeat(50), quota(100));
    await refused(iam.putInlinePolicy(owner(u), 'c', 'z'.repeat(11), quota(100)), 'limit', 'UserPolicySize');
    // Replacing counts the new document instead of the old one.
    await iam.putInlinePolicy(owner(u), 'B', 'w'.repeat(50), quota(100));
    assert.deepEqual(await iam.getInlinePolicy(owner(u), 'b'), { policyName: 'B', document: 'w'.repeat(50) });
    const page = await iam.listInlinePolicyNames(owner(u), { limit: 1 });
    assert.deepEqual(page, { items: ['a'], next: 'a' });
    assert.deepEqual((await iam.listInlinePolicyNames(owner(u), { limit: 1, after: 'a' })).items, ['B']);
    assert.equal((await iam.listInlinePolicies(owner(u))).length, 2);
    await refused(iam.putInlinePolicy({ kind: 'user', id: 'AIDAGONE' }, 'p', '{}', quota(100)), 'no-such-entity', 'user');
    assert.equal(await iam.deleteInlinePolicy(owner(u), 'a'), true);
    assert.equal(await iam.deleteInlinePolicy(owner(u), 'a'), false);
    assert.equal(await iam.getInlinePolicy(owner(u), 'a'), undefined);
  });

  it('managed policies: v1 first, up to `max` versions numbered on, one default, which evaluation reads', async () => {
    const { iam } = await fresh();
    const p = policy('Ops');
    await iam.createPolicy(p, 'doc1');
    await refused(iam.createPolicy(policy('OPS'), 'doc'), 'exists', 'policy');
    const got = await iam.getPolicy(p.arn);
    assert.equal(got?.defaultVersionId, 'v1');
    assert.equal(got?.attachmentCount, 0);
    await iam.createPolicyVersion(p.arn, 'doc2', false, 2000, 3);
    const v3 = await iam.createPolicyVersion(p.arn, 'doc3', true, 3000, 3);
    assert.deepEqual(v3, { versionId: 'v3', document: 'doc3', createdAt: 3000, isDefault: true });
    await refused(iam.createPolicyVersion(p.arn, 'doc4', false, 4000, 3), 'limit', 'PolicyVersions');
    assert.deepEqual((await iam.listPolicyVersions(p.arn)).map((v) => [v.versionId, v.isDefault]), [['v3', true], ['v2', false], ['v1', false]]);
    await refused(iam.deletePolicyVersion(p.arn, 'v3'), 'conflict', 'default-version');
    await iam.deletePolicyVersion(p.arn, 'v2');
    await refused(iam.deletePolicyVersion(p.arn, 'v2'), 'no-such-entity', 'policy-version');
    // Version numbers are never reused.
    assert.equal((await iam.createPolicyVersion(p.arn, 'doc4', false, 4000, 3)).versionId, 'v4');

    const u = user('ivy');
    await iam.createUser(u);
    await iam.attachPolicy(owner(u), p.arn, 10);
    await iam.attachPolicy(owner(u), p.arn, 10);
    assert.equal((await iam.getPolicy(p.arn))?.attachmentCount, 1);
    assert.deepEqual(await iam.attachedPolicyDocuments(owner(u)), [{ policyArn: p.arn, document: 'doc3' }]);
    await iam.setDefaultPolicyVersion(p.arn, 'v1', 5000);
    assert.deepEqual(await iam.attachedPolicyDocuments(owner(u)), [{ policyArn: p.arn, document: 'doc1' }]);
    assert.equal((await iam.getPolicy(p.arn))?.updatedAt, 5000);
    assert.deepEqual((await iam.listAttachedPolicies(owner(u), { limit: 10 })).items, [{ policyName: 'Ops', policyArn: p.arn }]);
    assert.equal((await iam.listPolicies(ACCOUNT, { limit: 10, onlyAttached: true })).items.length, 1);

    await refused(iam.deletePolicy(p.arn), 'conflict', 'attachments');
    assert.equal(await iam.detachPolicy(owner(u), p.arn), true);
    assert.equal(await iam.detachPolicy(owner(u), p.arn), false);
    await refused(iam.deletePolicy(p.arn), 'conflict', 'versions');
    await iam.deletePolicyVersion(p.arn, 'v3');
    await iam.deletePolicyVersion(p.arn, 'v4');
    await iam.deletePolicy(p.arn);
    assert.equal(await iam.getPolicy(p.arn), undefined);
    await refused(iam.deletePolicy(p.arn), 'no-such-entity', 'policy');
  });

  it('attaches at most `max` policies per owner, and only policies that exist', async () => {
    const { iam } = await fresh();
    const u = user('jack');
    await iam.createUser(u);
    const [a, b] = [policy('PA'), policy('PB')];
    await iam.createPolicy(a, '{}');
    await iam.createPolicy(b, '{}');
    await iam.attachPolicy(owner(u), a.arn, 1);
    await refused(iam.attachPolicy(owner(u), b.arn, 1), 'limit', 'PoliciesPerUser');
    await refused(iam.attachPolicy(owner(u), `arn:aws:iam::${ACCOUNT}:policy/Nope`, 1), 'no-such-entity', 'policy');
    await refused(iam.attachPolicy({ kind: 'role', id: 'AROAGONE' }, a.arn, 1), 'no-such-entity', 'role');
  });

  it('keeps STS sessions with their wrapped secret and token hash, and forgets expired ones', async () => {
    const { iam } = await fresh();
    const session = {
      accessKeyId: id('ASIA'), accountId: ACCOUNT, principalType: 'AssumedRole' as const,
      principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/s1`, principalId: 'AROAX:s1', roleArn: `arn:aws:iam::${ACCOUNT}:role/Admin`,
      sessionName: 's1', secretWrapped: Buffer.from('w'), tokenSha256: Buffer.alloc(32, 7), expiresAt: 5000, createdAt: 1000,
    };
    await iam.putSession(session);
    const userSession = { ...session, accessKeyId: id('ASIA'), principalType: 'IAMUser' as const, principalArn: `arn:aws:iam::${ACCOUNT}:user/u`, principalId: 'AIDAX', userName: 'u', expiresAt: 9000 };
    delete (userSession as { roleArn?: string }).roleArn;
    delete (userSession as { sessionName?: string }).sessionName;
    await iam.putSession(userSession);
    assert.deepEqual(await iam.getSession(session.accessKeyId), session);
    assert.deepEqual(await iam.getSession(userSession.accessKeyId), userSession);
    assert.equal(await iam.deleteExpiredSessions(5000), 1);
    assert.equal(await iam.getSession(session.accessKeyId), undefined);
    assert.notEqual(await iam.getSession(userSession.accessKeyId), undefined);
  });
}

import {
  AddUserToGroupCommand, AttachGroupPolicyCommand, AttachRolePolicyCommand, CreateGroupCommand, CreatePolicyCommand, CreateRoleCommand,
  CreateUserCommand, DeleteGroupCommand, DeleteGroupPolicyCommand, DeleteRoleCommand, DeleteRolePolicyCommand, DeleteUserCommand,
  DetachGroupPolicyCommand, DetachRolePolicyCommand, GetGroupCommand, GetGroupPolicyCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient,
  ListAttachedGroupPoliciesCommand, ListAttachedRolePoliciesCommand, ListGroupPoliciesCommand, ListGroupsCommand, ListGroupsForUserCommand,
  ListRolePoliciesCommand, ListRolesCommand, PutGroupPolicyCommand, PutRolePolicyCommand, RemoveUserFromGroupCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Clients, allow, policyDocument, trustPolicy } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

describe('IAM groups and roles (@aws-sdk/client-iam)', () => {
  let server: TestServer;
  let clients: Clients;
  let iam: IAMClient;
  let policyArn: string;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    iam = clients.iam();
    for (const name of ['gus', 'hal']) await iam.send(new CreateUserCommand({ UserName: name }));
    policyArn = (await iam.send(new CreatePolicyCommand({ PolicyName: 'ReadKeys', PolicyDocument: policyDocument(allow('kms:ListKeys')) }))).Policy!.Arn!;
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  describe('groups', () => {
    it('CreateGroup answers an AGPA id and the ARN; GetGroup lists the members', async () => {
      const { Group } = await iam.send(new CreateGroupCommand({ GroupName: 'devs', Path: '/teams/' }));
      assert.match(Group!.GroupId!, /^AGPA[A-Z2-7]{17}$/);
      assert.equal(Group!.Arn, `arn:aws:iam::${TEST_ACCOUNT}:group/teams/devs`);
      await iam.send(new AddUserToGroupCommand({ GroupName: 'devs', UserName: 'hal' }));
      await iam.send(new AddUserToGroupCommand({ GroupName: 'devs', UserName: 'gus' }));
      await iam.send(new AddUserToGroupCommand({ GroupName: 'devs', UserName: 'gus' }));
      const got = await iam.send(new GetGroupCommand({ GroupName: 'devs' }));
      assert.equal(got.Group?.GroupName, 'devs');
      assert.deepEqual(got.Users?.map((u) => u.UserName), ['gus', 'hal']);
      assert.equal(got.IsTruncated, false);
      assert.deepEqual((await iam.send(new ListGroupsForUserCommand({ UserName: 'gus' }))).Groups?.map((g) => g.GroupName), ['devs']);
      assert.deepEqual((await iam.send(new ListGroupsCommand({ PathPrefix: '/teams/' }))).Groups?.map((g) => g.GroupName), ['devs']);
    });

    it('adding an unknown user, or to an unknown group, is NoSuchEntity', async () => {
      assert.equal((await rejection(iam.send(new AddUserToGroupCommand({ GroupName: 'devs', UserName: 'nobody' })))).message, 'The user with name nobody cannot be found.');
      assert.equal((await rejection(iam.send(new AddUserToGroupCommand({ GroupName: 'nogroup', UserName: 'gus' })))).message, 'The group with name nogroup cannot be found.');
    });

    it('group inline and attached policies: put, get (URL-encoded), list, attach, detach', async () => {
      const doc = policyDocument(allow('kms:DescribeKey'));
      await iam.send(new PutGroupPolicyCommand({ GroupName: 'devs', PolicyName: 'describe', PolicyDocument: doc }));
      assert.equal(decodeURIComponent((await iam.send(new GetGroupPolicyCommand({ GroupName: 'devs', PolicyName: 'describe' }))).PolicyDocument!), doc);
      assert.deepEqual((await iam.send(new ListGroupPoliciesCommand({ GroupName: 'devs' }))).PolicyNames, ['describe']);
      await iam.send(new AttachGroupPolicyCommand({ GroupName: 'devs', PolicyArn: policyArn }));
      assert.deepEqual((await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'devs' }))).AttachedPolicies, [{ PolicyName: 'ReadKeys', PolicyArn: policyArn }]);
    });

    it('DeleteGroup is DeleteConflict while it has members, inline or attached policies', async () => {
      assert.equal((await rejection(iam.send(new DeleteGroupCommand({ GroupName: 'devs' })))).message, 'Cannot delete entity, must remove users from group first.');
      await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'devs', UserName: 'gus' }));
      await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'devs', UserName: 'hal' }));
      assert.equal((await rejection(iam.send(new RemoveUserFromGroupCommand({ GroupName: 'devs', UserName: 'hal' })))).name, 'NoSuchEntityException');
      assert.equal((await rejection(iam.send(new DeleteGroupCommand({ GroupName: 'devs' })))).message, 'Cannot delete entity, must delete policies first.');
      await iam.send(new DeleteGroupPolicyCommand({ GroupName: 'devs', PolicyName: 'describe' }));
      assert.equal((await rejection(iam.send(new DeleteGroupCommand({ GroupName: 'devs' })))).message, 'Cannot delete entity, must detach all policies first.');
      await iam.send(new DetachGroupPolicyCommand({ GroupName: 'devs', PolicyArn: policyArn }));
      await iam.send(new DeleteGroupCommand({ GroupName: 'devs' }));
      assert.equal((await rejection(iam.send(new GetGroupCommand({ GroupName: 'devs' })))).name, 'NoSuchEntityException');
      await iam.send(new DeleteUserCommand({ UserName: 'gus' }));
    });
  });

  describe('roles', () => {
    const trust = trustPolicy(`arn:aws:iam::${TEST_ACCOUNT}:user/hal`);

    it('CreateRole answers an AROA id, the ARN, the trust policy URL-encoded and the default MaxSessionDuration of an hour', async () => {
      const { Role } = await iam.send(new CreateRoleCommand({ RoleName: 'Deployer', Path: '/ci/', AssumeRolePolicyDocument: trust, Description: 'deploys' }));
      assert.match(Role!.RoleId!, /^AROA[A-Z2-7]{17}$/);
      assert.equal(Role!.Arn, `arn:aws:iam::${TEST_ACCOUNT}:role/ci/Deployer`);
      assert.equal(decodeURIComponent(Role!.AssumeRolePolicyDocument!), trust);
      assert.equal(Role!.MaxSessionDuration, 3600);
      assert.equal(Role!.Description, 'deploys');
      const got = await iam.send(new GetRoleCommand({ RoleName: 'deployer' }));
      assert.equal(got.Role?.Arn, Role!.Arn);
      assert.deepEqual((await iam.send(new ListRolesCommand({}))).Roles?.map((r) => r.RoleName), ['Deployer']);
    });

    it('a trust policy must name a principal and no resource: MalformedPolicyDocument; nothing is created', async () => {
      const noPrincipal = policyDocument({ Effect: 'Allow', Action: 'sts:AssumeRole' });
      const err = await rejection(iam.send(new CreateRoleCommand({ RoleName: 'Broken', AssumeRolePolicyDocument: noPrincipal })));
      assert.equal(err.name, 'MalformedPolicyDocumentException');
      assert.match(err.message, /Principal/);
      const withResource = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: TEST_ACCOUNT }, Action: 'sts:AssumeRole', Resource: '*' }] });
      assert.equal((await rejection(iam.send(new CreateRoleCommand({ RoleName: 'Broken', AssumeRolePolicyDocument: withResource })))).name, 'MalformedPolicyDocumentException');
      assert.equal((await rejection(iam.send(new GetRoleCommand({ RoleName: 'Broken' })))).name, 'NoSuchEntityException');
    });

    it('MaxSessionDuration outside 3600–43200 is a ValidationError', async () => {
      const err = await rejection(iam.send(new CreateRoleCommand({ RoleName: 'Short', AssumeRolePolicyDocument: trust, MaxSessionDuration: 600 })));
      assert.equal(err.name, 'ValidationError');
      assert.match(err.message, /maxSessionDuration/);
    });

    it('UpdateAssumeRolePolicy replaces the trust policy (validated the same way)', async () => {
      const next = trustPolicy(TEST_ACCOUNT);
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'Deployer', PolicyDocument: next }));
      assert.equal(decodeURIComponent((await iam.send(new GetRoleCommand({ RoleName: 'Deployer' }))).Role!.AssumeRolePolicyDocument!), next);
      assert.equal((await rejection(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'Deployer', PolicyDocument: '[]' })))).name, 'MalformedPolicyDocumentException');
      assert.equal((await rejection(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'Nope', PolicyDocument: next })))).message, 'The role with name Nope cannot be found.');
    });

    it('role inline and attached policies, and DeleteRole refused (DeleteConflict) until they are gone', async () => {
      const doc = policyDocument(allow('kms:*'));
      await iam.send(new PutRolePolicyCommand({ RoleName: 'Deployer', PolicyName: 'kms', PolicyDocument: doc }));
      assert.equal(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: 'Deployer', PolicyName: 'kms' }))).PolicyDocument!), doc);
      assert.deepEqual((await iam.send(new ListRolePoliciesCommand({ RoleName: 'Deployer' }))).PolicyNames, ['kms']);
      await iam.send(new AttachRolePolicyCommand({ RoleName: 'Deployer', PolicyArn: policyArn }));
      assert.deepEqual((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'Deployer' }))).AttachedPolicies?.map((p) => p.PolicyArn), [policyArn]);

      assert.equal((await rejection(iam.send(new DeleteRoleCommand({ RoleName: 'Deployer' })))).name, 'DeleteConflictException');
      await iam.send(new DeleteRolePolicyCommand({ RoleName: 'Deployer', PolicyName: 'kms' }));
      assert.equal((await rejection(iam.send(new DeleteRoleCommand({ RoleName: 'Deployer' })))).message, 'Cannot delete entity, must detach all policies first.');
      await iam.send(new DetachRolePolicyCommand({ RoleName: 'Deployer', PolicyArn: policyArn }));
      assert.equal((await rejection(iam.send(new DetachRolePolicyCommand({ RoleName: 'Deployer', PolicyArn: policyArn })))).name, 'NoSuchEntityException');
      await iam.send(new DeleteRoleCommand({ RoleName: 'Deployer' }));
      assert.deepEqual((await iam.send(new ListRolesCommand({}))).Roles, []);
    });
  });
});

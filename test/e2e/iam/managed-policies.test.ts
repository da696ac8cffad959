import {
  AttachUserPolicyCommand, CreatePolicyCommand, CreatePolicyVersionCommand, CreateUserCommand, DeletePolicyCommand, DeletePolicyVersionCommand,
  DetachUserPolicyCommand, GetPolicyCommand, GetPolicyVersionCommand, IAMClient, ListAttachedUserPoliciesCommand, ListPoliciesCommand,
  ListPolicyVersionsCommand, SetDefaultPolicyVersionCommand,
} from '@aws-sdk/client-iam';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Clients, allow, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

describe('IAM customer managed policies, versions and attachments (@aws-sdk/client-iam)', () => {
  let server: TestServer;
  let clients: Clients;
  let iam: IAMClient;
  const arn = `arn:aws:iam::${TEST_ACCOUNT}:policy/security/KeyReaders`;
  const v1 = policyDocument(allow(['kms:ListKeys', 'kms:DescribeKey']));

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    iam = clients.iam();
    await iam.send(new CreateUserCommand({ UserName: 'ivan' }));
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  it('CreatePolicy answers the policy: ANPA id, ARN with the path, v1 as the default version, attachable, attached nowhere', async () => {
    const { Policy } = await iam.send(new CreatePolicyCommand({ PolicyName: 'KeyReaders', Path: '/security/', PolicyDocument: v1, Description: 'read keys' }));
    assert.match(Policy!.PolicyId!, /^ANPA[A-Z2-7]{17}$/);
    assert.equal(Policy!.Arn, arn);
    assert.equal(Policy!.DefaultVersionId, 'v1');
    assert.equal(Policy!.AttachmentCount, 0);
    assert.equal(Policy!.IsAttachable, true);
    assert.equal(Policy!.Description, 'read keys');
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.PolicyName, 'KeyReaders');
    const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v1' }));
    assert.equal(version.PolicyVersion?.IsDefaultVersion, true);
    assert.equal(decodeURIComponent(version.PolicyVersion!.Document!), v1);
  });

  it('a second policy of the same name is EntityAlreadyExists; an unknown one NoSuchEntity', async () => {
    const dup = await rejection(iam.send(new CreatePolicyCommand({ PolicyName: 'keyreaders', PolicyDocument: v1 })));
    assert.equal(dup.name, 'EntityAlreadyExistsException');
    assert.equal(dup.message, 'A policy called keyreaders already exists. Duplicate names are not allowed.');
    const missing = await rejection(iam.send(new GetPolicyCommand({ PolicyArn: `arn:aws:iam::${TEST_ACCOUNT}:policy/Nope` })));
    assert.equal(missing.name, 'NoSuchEntityException');
    assert.equal(missing.message, `Policy arn:aws:iam::${TEST_ACCOUNT}:policy/Nope was not found.`);
  });

  it('a managed policy may have 6,144 characters; more is LimitExceeded, a malformed one MalformedPolicyDocument', async () => {
    const big = policyDocument(allow('kms:Decrypt', Array.from({ length: 150 }, (_, i) => `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:key/${i}`)));
    assert.equal((await rejection(iam.send(new CreatePolicyCommand({ PolicyName: 'Big', PolicyDocument: big })))).message, 'Cannot exceed quota for PolicySize: 6144');
    const err = await rejection(iam.send(new CreatePolicyCommand({ PolicyName: 'Bad', PolicyDocument: policyDocument({ Effect: 'Maybe', Action: '*', Resource: '*' }) })));
    assert.equal(err.name, 'MalformedPolicyDocumentException');
  });

  it('versions: up to five, numbered on, one default; the default cannot be deleted', async () => {
    const v2 = await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: policyDocument(allow('kms:ListKeys')), SetAsDefault: true }));
    assert.equal(v2.PolicyVersion?.VersionId, 'v2');
    assert.equal(v2.PolicyVersion?.IsDefaultVersion, true);
    assert.equal(v2.PolicyVersion?.Document, undefined);
    for (let i = 3; i <= 5; i++) await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: policyDocument(allow('kms:ListAliases')) }));
    const sixth = await rejection(iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: v1 })));
    assert.equal(sixth.name, 'LimitExceededException');
    const listed = await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }));
    assert.deepEqual(listed.Versions?.map((v) => [v.VersionId, v.IsDefaultVersion]), [['v5', false], ['v4', false], ['v3', false], ['v2', true], ['v1', false]]);
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.DefaultVersionId, 'v2');
    const dflt = await rejection(iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v2' })));
    assert.equal(dflt.name, 'DeleteConflictException');
    await iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v1' }));
    for (const v of ['v2', 'v3', 'v4', 'v5']) await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: v }));
    assert.equal((await rejection(iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v3' })))).name, 'NoSuchEntityException');
  });

  it('attach, list attached, OnlyAttached; DeletePolicy is DeleteConflict while attached', async () => {
    await iam.send(new AttachUserPolicyCommand({ UserName: 'ivan', PolicyArn: arn }));
    assert.deepEqual((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'ivan' }))).AttachedPolicies, [{ PolicyName: 'KeyReaders', PolicyArn: arn }]);
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.AttachmentCount, 1);
    await iam.send(new CreatePolicyCommand({ PolicyName: 'Unused', PolicyDocument: v1 }));
    assert.deepEqual((await iam.send(new ListPoliciesCommand({ Scope: 'Local' }))).Policies?.map((p) => p.PolicyName), ['KeyReaders', 'Unused']);
    assert.deepEqual((await iam.send(new ListPoliciesCommand({ OnlyAttached: true }))).Policies?.map((p) => p.PolicyName), ['KeyReaders']);
    assert.deepEqual((await iam.send(new ListPoliciesCommand({ Scope: 'AWS' }))).Policies, []);
    const attached = await rejection(iam.send(new DeletePolicyCommand({ PolicyArn: arn })));
    assert.equal(attached.name, 'DeleteConflictException');
    assert.equal(attached.message, 'Cannot delete a policy attached to entities.');
    await iam.send(new DetachUserPolicyCommand({ UserName: 'ivan', PolicyArn: arn }));
    await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
    assert.equal((await rejection(iam.send(new GetPolicyCommand({ PolicyArn: arn })))).name, 'NoSuchEntityException');
  });

  it('attaching a policy that does not exist, or an AWS managed one, is NoSuchEntity', async () => {
    for (const policyArn of [`arn:aws:iam::${TEST_ACCOUNT}:policy/Gone`, 'arn:aws:iam::aws:policy/AdministratorAccess']) {
      const err = await rejection(iam.send(new AttachUserPolicyCommand({ UserName: 'ivan', PolicyArn: policyArn })));
      assert.equal(err.name, 'NoSuchEntityException');
      assert.equal(err.message, `Policy ${policyArn} does not exist or is not attachable.`);
    }
  });
});

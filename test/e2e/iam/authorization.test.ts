import {
  AddUserToGroupCommand, AttachUserPolicyCommand, CreateAccessKeyCommand, CreateGroupCommand, CreatePolicyCommand, CreateUserCommand,
  DeleteAccessKeyCommand, DeleteUserPolicyCommand, DetachUserPolicyCommand, GetUserCommand, IAMClient, ListAccessKeysCommand, ListUsersCommand,
  PutGroupPolicyCommand, PutUserPolicyCommand, UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { CreateKeyCommand, DescribeKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Clients, Credentials, allow, deny, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

/**
 * IAM users act with what their identity-based policies allow — their own, their managed policies', their
 * groups' — on IAM itself and on KMS; their access keys authenticate until made Inactive or deleted.
 */
describe('IAM users: access keys that authenticate, policies that authorize', () => {
  let server: TestServer;
  let clients: Clients;
  let root: IAMClient;
  let alice: Credentials;
  let aliceIam: IAMClient;
  const aliceArn = `arn:aws:iam::${TEST_ACCOUNT}:user/alice`;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    root = clients.iam();
    await root.send(new CreateUserCommand({ UserName: 'alice' }));
    const { AccessKey } = await root.send(new CreateAccessKeyCommand({ UserName: 'alice' }));
    alice = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    aliceIam = clients.iam(alice);
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  it('a new access key authenticates at once: STS GetCallerIdentity names the user', async () => {
    const me = await clients.sts(alice).send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, aliceArn);
    assert.equal(me.Account, TEST_ACCOUNT);
    assert.match(me.UserId!, /^AIDA/);
  });

  it('without any policy a user may do nothing: AccessDenied (403) with AWS\'s message', async () => {
    const err = await rejection(aliceIam.send(new CreateUserCommand({ UserName: 'mallory' })));
    assert.equal(err.name, 'AccessDenied');
    assert.equal(err.$metadata?.httpStatusCode, 403);
    assert.equal(
      err.message,
      `User: ${aliceArn} is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::${TEST_ACCOUNT}:user/mallory because no identity-based policy allows the iam:CreateUser action`,
    );
    const kms = await rejection(clients.kms(alice).send(new ListKeysCommand({})));
    assert.equal(kms.name, 'AccessDeniedException');
  });

  it('an inline policy allows what it names, on the resources it names (policy variables included)', async () => {
    await root.send(
      new PutUserPolicyCommand({
        UserName: 'alice',
        PolicyName: 'self-service',
        PolicyDocument: policyDocument(
          allow(['iam:GetUser', 'iam:ListAccessKeys'], `arn:aws:iam::${TEST_ACCOUNT}:user/\${aws:username}`),
          allow('iam:CreateUser', `arn:aws:iam::${TEST_ACCOUNT}:user/interns/*`),
        ),
      }),
    );
    assert.equal((await aliceIam.send(new GetUserCommand({}))).User?.Arn, aliceArn);
    assert.equal((await aliceIam.send(new ListAccessKeysCommand({}))).AccessKeyMetadata?.[0]?.AccessKeyId, alice.accessKeyId);
    await aliceIam.send(new CreateUserCommand({ UserName: 'ian', Path: '/interns/' }));
    assert.equal((await rejection(aliceIam.send(new CreateUserCommand({ UserName: 'ivy' })))).name, 'AccessDenied');
    assert.equal((await rejection(aliceIam.send(new GetUserCommand({ UserName: 'ian' })))).name, 'AccessDenied');
  });

  it('an explicit Deny wins over any Allow, and says so', async () => {
    await root.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'no-interns', PolicyDocument: policyDocument(deny('iam:CreateUser', `arn:aws:iam::${TEST_ACCOUNT}:user/interns/eve`)) }));
    const err = await rejection(aliceIam.send(new CreateUserCommand({ UserName: 'eve', Path: '/interns/' })));
    assert.equal(
      err.message,
      `User: ${aliceArn} is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::${TEST_ACCOUNT}:user/interns/eve with an explicit deny in an identity-based policy`,
    );
    await root.send(new DeleteUserPolicyCommand({ UserName: 'alice', PolicyName: 'no-interns' }));
  });

  it('attached managed policies and group policies count, and their changes take effect at once', async () => {
    const { Policy } = await root.send(new CreatePolicyCommand({ PolicyName: 'KmsUse', PolicyDocument: policyDocument(allow(['kms:ListKeys', 'kms:CreateKey', 'kms:DescribeKey'])) }));
    await root.send(new AttachUserPolicyCommand({ UserName: 'alice', PolicyArn: Policy!.Arn }));
    const kms = clients.kms(alice);
    assert.ok(Array.isArray((await kms.send(new ListKeysCommand({}))).Keys));
    const key = await kms.send(new CreateKeyCommand({ Description: "alice's" }));
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyMetadata!.KeyId }))).KeyMetadata?.Description, "alice's");
    await root.send(new DetachUserPolicyCommand({ UserName: 'alice', PolicyArn: Policy!.Arn }));
    assert.equal((await rejection(kms.send(new ListKeysCommand({})))).name, 'AccessDeniedException');

    await root.send(new CreateGroupCommand({ GroupName: 'auditors' }));
    await root.send(new PutGroupPolicyCommand({ GroupName: 'auditors', PolicyName: 'list', PolicyDocument: policyDocument(allow(['kms:ListKeys', 'iam:ListUsers'])) }));
    assert.equal((await rejection(aliceIam.send(new ListUsersCommand({})))).name, 'AccessDenied');
    await root.send(new AddUserToGroupCommand({ GroupName: 'auditors', UserName: 'alice' }));
    assert.ok((await aliceIam.send(new ListUsersCommand({}))).Users!.length >= 2);
    assert.ok(Array.isArray((await kms.send(new ListKeysCommand({}))).Keys));
  });

  it('UpdateAccessKey Inactive: the key stops authenticating at once (IAM, STS and KMS); Active brings it back', async () => {
    await root.send(new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: alice.accessKeyId, Status: 'Inactive' }));
    const iamErr = await rejection(aliceIam.send(new ListUsersCommand({})));
    assert.equal(iamErr.name, 'InvalidClientTokenId');
    assert.equal(iamErr.$metadata?.httpStatusCode, 403);
    assert.equal(iamErr.message, 'The security token included in the request is invalid.');
    assert.equal((await rejection(clients.sts(alice).send(new GetCallerIdentityCommand({})))).name, 'InvalidClientTokenId');
    assert.equal((await rejection(clients.kms(alice).send(new ListKeysCommand({})))).name, 'UnrecognizedClientException');
    const listed = await root.send(new ListAccessKeysCommand({ UserName: 'alice' }));
    assert.equal(listed.AccessKeyMetadata?.[0]?.Status, 'Inactive');

    await root.send(new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: alice.accessKeyId, Status: 'Active' }));
    assert.ok((await aliceIam.send(new ListUsersCommand({}))).Users);
  });

  it('DeleteAccessKey: the key stops authenticating at once', async () => {
    const { AccessKey } = await root.send(new CreateAccessKeyCommand({ UserName: 'alice' }));
    const second = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    assert.equal((await clients.sts(second).send(new GetCallerIdentityCommand({}))).Arn, aliceArn);
    await root.send(new DeleteAccessKeyCommand({ UserName: 'alice', AccessKeyId: second.accessKeyId }));
    assert.equal((await rejection(clients.sts(second).send(new GetCallerIdentityCommand({})))).name, 'InvalidClientTokenId');
  });

  it('the root user may do anything in its account, and create its own access keys (no UserName)', async () => {
    const { AccessKey } = await root.send(new CreateAccessKeyCommand({}));
    assert.equal(AccessKey?.UserName, undefined);
    const rootKey = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    assert.equal((await clients.sts(rootKey).send(new GetCallerIdentityCommand({}))).Arn, `arn:aws:iam::${TEST_ACCOUNT}:root`);
    const rootKeys = await root.send(new ListAccessKeysCommand({}));
    assert.ok(rootKeys.AccessKeyMetadata?.some((k) => k.AccessKeyId === rootKey.accessKeyId));
    await root.send(new DeleteAccessKeyCommand({ AccessKeyId: rootKey.accessKeyId }));
  });
});

import {
  CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, DeleteUserCommand, DeleteUserPolicyCommand, GetUserCommand,
  GetUserPolicyCommand, IAMClient, ListAccessKeysCommand, ListUserPoliciesCommand, ListUsersCommand, PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import assert from 'node:assert/strict';
import { filesUnder } from '../../helpers/files.js';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Clients, allow, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

/** IAM users, their access keys and inline policies through @aws-sdk/client-iam, as the account root. */
describe('IAM users, access keys and inline policies (@aws-sdk/client-iam)', () => {
  let server: TestServer;
  let clients: Clients;
  let iam: IAMClient;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    iam = clients.iam();
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  it('CreateUser answers the user as AWS shapes it: AIDA id, ARN with the path, creation date, tags', async () => {
    const before = Date.now();
    const { User } = await iam.send(new CreateUserCommand({ UserName: 'alice', Path: '/engineering/', Tags: [{ Key: 'team', Value: 'core' }] }));
    assert.ok(User);
    assert.match(User.UserId!, /^AIDA[A-Z2-7]{17}$/);
    assert.equal(User.Arn, `arn:aws:iam::${TEST_ACCOUNT}:user/engineering/alice`);
    assert.equal(User.Path, '/engineering/');
    assert.equal(User.UserName, 'alice');
    assert.ok(Math.abs(User.CreateDate!.getTime() - before) < 5000);
    assert.deepEqual(User.Tags, [{ Key: 'team', Value: 'core' }]);
    const got = await iam.send(new GetUserCommand({ UserName: 'alice' }));
    assert.deepEqual({ ...got.User, CreateDate: undefined }, { ...User, CreateDate: undefined });
  });

  it('GetUser without a name, as the root user, answers the account: its id and the root ARN', async () => {
    const { User } = await iam.send(new GetUserCommand({}));
    assert.equal(User?.UserId, TEST_ACCOUNT);
    assert.equal(User?.Arn, `arn:aws:iam::${TEST_ACCOUNT}:root`);
    assert.equal(User?.UserName, undefined);
  });

  it('names are unique regardless of case: EntityAlreadyExists (409)', async () => {
    const err = await rejection(iam.send(new CreateUserCommand({ UserName: 'ALICE' })));
    assert.equal(err.name, 'EntityAlreadyExistsException');
    assert.equal(err.$metadata?.httpStatusCode, 409);
    assert.equal(err.message, 'User with name ALICE already exists.');
  });

  it('names and paths are validated by the model: ValidationError (400) saying which constraint', async () => {
    const bad = await rejection(iam.send(new CreateUserCommand({ UserName: 'not allowed!' })));
    assert.equal(bad.name, 'ValidationError');
    assert.equal(bad.$metadata?.httpStatusCode, 400);
    assert.equal(
      bad.message,
      "1 validation error detected: Value 'not allowed!' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
    );
    const long = await rejection(iam.send(new CreateUserCommand({ UserName: 'a'.repeat(65) })));
    assert.match(long.message, /Member must have length less than or equal to 64/);
    const path = await rejection(iam.send(new CreateUserCommand({ UserName: 'p', Path: 'no-slashes' })));
    assert.equal(path.name, 'ValidationError');
    assert.match(path.message, /at 'path'/);
  });

  it('an unknown user is NoSuchEntity (404) with AWS\'s message', async () => {
    const err = await rejection(iam.send(new GetUserCommand({ UserName: 'ghost' })));
    assert.equal(err.name, 'NoSuchEntityException');
    assert.equal(err.$metadata?.httpStatusCode, 404);
    assert.equal(err.message, 'The user with name ghost cannot be found.');
  });

  it('ListUsers lists by name, filters by path prefix and pages with MaxItems and Marker', async () => {
    for (const name of ['bob', 'carol', 'dan']) await iam.send(new CreateUserCommand({ UserName: name, Path: '/ops/' }));
    const eng = await iam.send(new ListUsersCommand({ PathPrefix: '/engineering/' }));
    assert.deepEqual(eng.Users?.map((u) => u.UserName), ['alice']);
    const first = await iam.send(new ListUsersCommand({ PathPrefix: '/ops/', MaxItems: 2 }));
    assert.deepEqual(first.Users?.map((u) => u.UserName), ['bob', 'carol']);
    assert.equal(first.IsTruncated, true);
    assert.ok(first.Marker);
    const second = await iam.send(new ListUsersCommand({ PathPrefix: '/ops/', MaxItems: 2, Marker: first.Marker }));
    assert.deepEqual(second.Users?.map((u) => u.UserName), ['dan']);
    assert.equal(second.IsTruncated, false);
    assert.equal(second.Marker, undefined);
    const badMarker = await rejection(iam.send(new ListUsersCommand({ Marker: 'not-a-marker' })));
    assert.equal(badMarker.name, 'ValidationError');
  });

  it('CreateAccessKey returns the secret once; ListAccessKeys never does; a third key is LimitExceeded (409)', async () => {
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    assert.match(AccessKey!.AccessKeyId!, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(AccessKey!.SecretAccessKey!.length, 40);
    assert.equal(AccessKey!.Status, 'Active');
    assert.equal(AccessKey!.UserName, 'bob');
    await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    const third = await rejection(iam.send(new CreateAccessKeyCommand({ UserName: 'bob' })));
    assert.equal(third.name, 'LimitExceededException');
    assert.equal(third.$metadata?.httpStatusCode, 409);
    assert.equal(third.message, 'Cannot exceed quota for AccessKeysPerUser: 2');

    const listed = await iam.send(new ListAccessKeysCommand({ UserName: 'bob' }));
    assert.equal(listed.AccessKeyMetadata?.length, 2);
    assert.deepEqual(Object.keys(listed.AccessKeyMetadata![0]!).sort(), ['AccessKeyId', 'CreateDate', 'Status', 'UserName']);
    assert.ok(!JSON.stringify(listed).includes(AccessKey!.SecretAccessKey!));
    assert.ok(!server.logs.join('').includes(AccessKey!.SecretAccessKey!), 'the secret is never logged');
    for (const file of filesUnder(server.dataDir)) {
      assert.ok(!readFileSync(file).includes(AccessKey!.SecretAccessKey!), `the secret is not in ${file} in the clear`);
    }
  });

  it('UpdateAccessKey and DeleteAccessKey of a key the user does not have are NoSuchEntity', async () => {
    const err = await rejection(iam.send(new UpdateAccessKeyCommand({ UserName: 'bob', AccessKeyId: 'AKIAAAAAAAAAAAAAAAAA', Status: 'Inactive' })));
    assert.equal(err.name, 'NoSuchEntityException');
    assert.equal(err.message, 'The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found.');
    const { AccessKeyMetadata } = await iam.send(new ListAccessKeysCommand({ UserName: 'bob' }));
    const other = await rejection(iam.send(new DeleteAccessKeyCommand({ UserName: 'carol', AccessKeyId: AccessKeyMetadata![0]!.AccessKeyId })));
    assert.equal(other.name, 'NoSuchEntityException');
  });

  it('PutUserPolicy stores the document; GetUserPolicy returns it URL-encoded (RFC 3986) as AWS does', async () => {
    const document = policyDocument(allow(['kms:Encrypt', 'kms:Decrypt'], `arn:aws:kms:*:${TEST_ACCOUNT}:key/*`));
    await iam.send(new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'crypto', PolicyDocument: document }));
    const got = await iam.send(new GetUserPolicyCommand({ UserName: 'carol', PolicyName: 'crypto' }));
    assert.equal(got.UserName, 'carol');
    assert.equal(got.PolicyName, 'crypto');
    assert.match(got.PolicyDocument!, /^%7B%22Version%22%3A%222012-10-17%22/);
    assert.equal(decodeURIComponent(got.PolicyDocument!), document);
    assert.deepEqual((await iam.send(new ListUserPoliciesCommand({ UserName: 'carol' }))).PolicyNames, ['crypto']);
  });

  it('a document that is not a policy is MalformedPolicyDocument (400), saying what is wrong', async () => {
    const notJson = await rejection(iam.send(new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'p', PolicyDocument: '{"Version": ' })));
    assert.equal(notJson.name, 'MalformedPolicyDocumentException');
    assert.equal(notJson.$metadata?.httpStatusCode, 400);
    assert.equal(notJson.message, 'The policy is not valid JSON');
    const withPrincipal = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' }] });
    const principal = await rejection(iam.send(new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'p', PolicyDocument: withPrincipal })));
    assert.equal(principal.name, 'MalformedPolicyDocumentException');
    assert.match(principal.message, /Principal/);
    assert.deepEqual((await iam.send(new ListUserPoliciesCommand({ UserName: 'carol' }))).PolicyNames, ['crypto'], 'nothing was stored');
  });

  it("a user's inline policies may total 2,048 characters: more is LimitExceeded", async () => {
    const big = policyDocument(allow('kms:Decrypt', Array.from({ length: 60 }, (_, i) => `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:key/${i}`)));
    const err = await rejection(iam.send(new PutUserPolicyCommand({ UserName: 'dan', PolicyName: 'big', PolicyDocument: big })));
    assert.equal(err.name, 'LimitExceededException');
    assert.equal(err.message, 'Cannot exceed quota for UserPolicySize: 2048');
  });

  it('a permissions boundary is refused (InvalidInput) rather than ignored', async () => {
    const err = await rejection(iam.send(new CreateUserCommand({ UserName: 'bounded', PermissionsBoundary: `arn:aws:iam::${TEST_ACCOUNT}:policy/B` })));
    assert.equal(err.name, 'InvalidInputException');
    assert.equal((await rejection(iam.send(new GetUserCommand({ UserName: 'bounded' })))).name, 'NoSuchEntityException');
  });

  it('DeleteUser is DeleteConflict (409) while the user has access keys or policies, and works once they are gone', async () => {
    const keys = await rejection(iam.send(new DeleteUserCommand({ UserName: 'bob' })));
    assert.equal(keys.name, 'DeleteConflictException');
    assert.equal(keys.$metadata?.httpStatusCode, 409);
    assert.equal(keys.message, 'Cannot delete entity, must delete access keys first.');
    for (const k of (await iam.send(new ListAccessKeysCommand({ UserName: 'bob' }))).AccessKeyMetadata ?? []) {
      await iam.send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: k.AccessKeyId }));
    }
    await iam.send(new DeleteUserCommand({ UserName: 'bob' }));
    assert.equal((await rejection(iam.send(new GetUserCommand({ UserName: 'bob' })))).name, 'NoSuchEntityException');

    const policies = await rejection(iam.send(new DeleteUserCommand({ UserName: 'carol' })));
    assert.equal(policies.message, 'Cannot delete entity, must delete policies first.');
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'carol', PolicyName: 'crypto' }));
    const missing = await rejection(iam.send(new GetUserPolicyCommand({ UserName: 'carol', PolicyName: 'crypto' })));
    assert.equal(missing.message, 'The user policy with name crypto cannot be found.');
    await iam.send(new DeleteUserCommand({ UserName: 'carol' }));
  });
});

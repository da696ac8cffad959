// IAM and STS end to end on PostgreSQL (issue 10's representative set): users, access keys, managed and inline
// policies deciding a user's KMS calls, roles assumed with AssumeRole, GetSessionToken — every credential and
// policy read back from PostgreSQL by the server's authentication and authorization.
import {
  AttachUserPolicyCommand, CreateAccessKeyCommand, CreatePolicyCommand, CreateRoleCommand, CreateUserCommand, DeleteUserPolicyCommand,
  DetachUserPolicyCommand, GetUserCommand, ListAccessKeysCommand, PutRolePolicyCommand, PutUserPolicyCommand, UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postgresSkip } from '../../helpers/postgres.js';
import { Clients, Credentials, allow, deny, policyDocument, trustPolicy } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection } from '../../helpers/server.js';
import { startPostgresServer } from './pg-server.js';

describe('IAM and STS on PostgreSQL', { skip: postgresSkip() }, () => {
  let server: TestServer;
  let clients: Clients;
  let keyArn: string;
  before(async () => {
    server = await startPostgresServer();
    clients = new Clients(server);
    keyArn = (await clients.kms().send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  });
  after(async () => {
    clients.destroy();
    await server?.destroy();
  });
  const iam = () => clients.iam();
  const encrypt = (c: Credentials) => clients.kms(c).send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x') }));
  const outcome = (p: Promise<unknown>) => p.then(() => 'allowed', (e: Error) => e.name);
  const newUser = async (name: string): Promise<Credentials> => {
    await iam().send(new CreateUserCommand({ UserName: name }));
    const { AccessKey } = await iam().send(new CreateAccessKeyCommand({ UserName: name }));
    return { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
  };

  it('CreateUser and CreateAccessKey: the key signs as the user (GetCallerIdentity); ListAccessKeys and GetUser read them back', async () => {
    const carol = await newUser('pg-carol');
    const who = await clients.sts(carol).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, `arn:aws:iam::${TEST_ACCOUNT}:user/pg-carol`);
    assert.equal(who.Account, TEST_ACCOUNT);
    assert.deepEqual((await iam().send(new ListAccessKeysCommand({ UserName: 'pg-carol' }))).AccessKeyMetadata!.map((k) => [k.AccessKeyId, k.Status]), [[carol.accessKeyId, 'Active']]);
    assert.equal((await iam().send(new GetUserCommand({ UserName: 'pg-carol' }))).User!.Arn, who.Arn);
    assert.equal((await rejection(iam().send(new CreateUserCommand({ UserName: 'pg-carol' })))).name, 'EntityAlreadyExistsException');
  });

  it('a managed policy attached allows the user kms:Encrypt, detached denies it; an inline Deny overrides an Allow', async () => {
    const dave = await newUser('pg-dave');
    assert.equal(await outcome(encrypt(dave)), 'AccessDeniedException', 'no policy: denied');
    const { Policy } = await iam().send(new CreatePolicyCommand({ PolicyName: 'pg-encrypt', PolicyDocument: policyDocument(allow('kms:Encrypt', keyArn)) }));
    await iam().send(new AttachUserPolicyCommand({ UserName: 'pg-dave', PolicyArn: Policy!.Arn }));
    assert.equal(await outcome(encrypt(dave)), 'allowed');
    await iam().send(new PutUserPolicyCommand({ UserName: 'pg-dave', PolicyName: 'no', PolicyDocument: policyDocument(deny('kms:*')) }));
    assert.equal(await outcome(encrypt(dave)), 'AccessDeniedException', 'an explicit deny wins');
    await iam().send(new DeleteUserPolicyCommand({ UserName: 'pg-dave', PolicyName: 'no' }));
    assert.equal(await outcome(encrypt(dave)), 'allowed');
    await iam().send(new DetachUserPolicyCommand({ UserName: 'pg-dave', PolicyArn: Policy!.Arn }));
    assert.equal(await outcome(encrypt(dave)), 'AccessDeniedException');
  });

  it('an access key made Inactive no longer signs (InvalidClientTokenId), Active again it does', async () => {
    const erin = await newUser('pg-erin');
    await clients.sts(erin).send(new GetCallerIdentityCommand({}));
    await iam().send(new UpdateAccessKeyCommand({ UserName: 'pg-erin', AccessKeyId: erin.accessKeyId, Status: 'Inactive' }));
    assert.equal((await rejection(clients.sts(erin).send(new GetCallerIdentityCommand({})))).name, 'InvalidClientTokenId');
    await iam().send(new UpdateAccessKeyCommand({ UserName: 'pg-erin', AccessKeyId: erin.accessKeyId, Status: 'Active' }));
    await clients.sts(erin).send(new GetCallerIdentityCommand({}));
  });

  it("AssumeRole: the session's credentials act as the role, with the role's permissions (KMS allowed by its policy)", async () => {
    const frank = await newUser('pg-frank');
    await iam().send(new PutUserPolicyCommand({ UserName: 'pg-frank', PolicyName: 'assume', PolicyDocument: policyDocument(allow('sts:AssumeRole')) }));
    const { Role } = await iam().send(new CreateRoleCommand({ RoleName: 'pg-encryptor', AssumeRolePolicyDocument: trustPolicy(`arn:aws:iam::${TEST_ACCOUNT}:user/pg-frank`) }));
    await iam().send(new PutRolePolicyCommand({ RoleName: 'pg-encryptor', PolicyName: 'encrypt', PolicyDocument: policyDocument(allow('kms:Encrypt', keyArn)) }));
    assert.equal(await outcome(encrypt(frank)), 'AccessDeniedException', 'frank himself may not');
    const { Credentials: c, AssumedRoleUser } = await clients.sts(frank).send(new AssumeRoleCommand({ RoleArn: Role!.Arn, RoleSessionName: 'pg-session' }));
    assert.equal(AssumedRoleUser!.Arn, `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/pg-encryptor/pg-session`);
    const session = { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! };
    assert.equal((await clients.sts(session).send(new GetCallerIdentityCommand({}))).Arn, AssumedRoleUser!.Arn);
    assert.equal(await outcome(encrypt(session)), 'allowed');
    const forged = { ...session, sessionToken: `${session.sessionToken.slice(0, -4)}AAAA` };
    assert.notEqual(await outcome(encrypt(forged)), 'allowed', 'a tampered session token is refused');
  });

  it("GetSessionToken: the temporary credentials act as the user, with the user's permissions", async () => {
    const gina = await newUser('pg-gina');
    await iam().send(new PutUserPolicyCommand({ UserName: 'pg-gina', PolicyName: 'encrypt', PolicyDocument: policyDocument(allow('kms:Encrypt', keyArn)) }));
    const { Credentials: c } = await clients.sts(gina).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const session = { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! };
    assert.equal((await clients.sts(session).send(new GetCallerIdentityCommand({}))).Arn, `arn:aws:iam::${TEST_ACCOUNT}:user/pg-gina`);
    assert.equal(await outcome(encrypt(session)), 'allowed');
  });
});

import {
  CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, DeleteRoleCommand, DeleteRolePolicyCommand, IAMClient, PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { filesUnder } from '../../helpers/files.js';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.js';
import { Clients, Credentials, allow, deny, policyDocument, trustPolicy } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

/** STS through @aws-sdk/client-sts: who am I, role sessions (trust policies, expiry, tokens), session tokens. */
describe('STS (@aws-sdk/client-sts)', () => {
  const clock = new ManualClock();
  let server: TestServer;
  let clients: Clients;
  let root: IAMClient;
  let bob: Credentials;
  let carol: Credentials;
  const bobArn = `arn:aws:iam::${TEST_ACCOUNT}:user/bob`;
  const roleArn = (name: string, path = '/') => `arn:aws:iam::${TEST_ACCOUNT}:role${path}${name}`;

  const userWithKey = async (name: string): Promise<Credentials> => {
    await root.send(new CreateUserCommand({ UserName: name }));
    const { AccessKey } = await root.send(new CreateAccessKeyCommand({ UserName: name }));
    return { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
  };
  const assume = (as: Credentials, RoleArn: string, RoleSessionName: string, DurationSeconds?: number) =>
    clients.sts(as).send(new AssumeRoleCommand({ RoleArn, RoleSessionName, ...(DurationSeconds ? { DurationSeconds } : {}) }));
  const sessionOf = (c: { Credentials?: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } }): Credentials => ({
    accessKeyId: c.Credentials!.AccessKeyId!,
    secretAccessKey: c.Credentials!.SecretAccessKey!,
    sessionToken: c.Credentials!.SessionToken!,
  });

  before(async () => {
    server = await startServer({ clock });
    clients = new Clients(server);
    root = clients.iam();
    bob = await userWithKey('bob');
    carol = await userWithKey('carol');
    // Deployer trusts bob by name; Vault trusts the account (IAM policies decide); Ops lives under a path.
    await root.send(new CreateRoleCommand({ RoleName: 'Deployer', AssumeRolePolicyDocument: trustPolicy(bobArn), MaxSessionDuration: 7200 }));
    await root.send(new PutRolePolicyCommand({ RoleName: 'Deployer', PolicyName: 'kms', PolicyDocument: policyDocument(allow(['kms:ListKeys', 'kms:CreateKey', 'sts:AssumeRole'])) }));
    await root.send(new CreateRoleCommand({ RoleName: 'Vault', AssumeRolePolicyDocument: trustPolicy(TEST_ACCOUNT) }));
    await root.send(new CreateRoleCommand({ RoleName: 'Ops', Path: '/teams/', AssumeRolePolicyDocument: trustPolicy(roleArn('Deployer')) }));
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  it('GetCallerIdentity answers who signed: the root user, or a user', async () => {
    const me = await clients.sts().send(new GetCallerIdentityCommand({}));
    assert.deepEqual({ UserId: me.UserId, Account: me.Account, Arn: me.Arn }, { UserId: TEST_ACCOUNT, Account: TEST_ACCOUNT, Arn: `arn:aws:iam::${TEST_ACCOUNT}:root` });
    assert.equal((await clients.sts(bob).send(new GetCallerIdentityCommand({}))).Arn, bobArn);
  });

  it('AssumeRole by a user the trust policy names: ASIA credentials with a session token and the assumed-role identity', async () => {
    const started = clock.now();
    const out = await assume(bob, roleArn('Deployer'), 'deploy-42');
    assert.match(out.Credentials!.AccessKeyId!, /^ASIA[A-Z2-7]{16}$/);
    assert.equal(out.Credentials!.SecretAccessKey!.length, 40);
    assert.ok(out.Credentials!.SessionToken!.length >= 100);
    assert.ok(Math.abs(out.Credentials!.Expiration!.getTime() - (started + 3600_000)) < 5000, 'one hour by default');
    assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/Deployer/deploy-42`);
    assert.match(out.AssumedRoleUser!.AssumedRoleId!, /^AROA[A-Z2-7]{17}:deploy-42$/);

    const session = sessionOf(out);
    const me = await clients.sts(session).send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, out.AssumedRoleUser?.Arn);
    assert.equal(me.UserId, out.AssumedRoleUser?.AssumedRoleId);
    assert.ok(!server.logs.join('').includes(session.secretAccessKey) && !server.logs.join('').includes(session.sessionToken!), 'no secret in the logs');
    for (const file of filesUnder(server.dataDir)) {
      const bytes = readFileSync(file);
      assert.ok(!bytes.includes(session.secretAccessKey) && !bytes.includes(session.sessionToken!), `neither secret nor token is in ${file} in the clear`);
    }
  });

  it("a role session acts with the role's policies: KMS works as far as they allow", async () => {
    const session = sessionOf(await assume(bob, roleArn('Deployer'), 'kms-user'));
    const kms = clients.kms(session);
    assert.ok(Array.isArray((await kms.send(new ListKeysCommand({}))).Keys));
    const key = await kms.send(new CreateKeyCommand({ Description: 'made by a role session' }));
    assert.equal(key.KeyMetadata?.AWSAccountId, TEST_ACCOUNT);
    const iamErr = await rejection(clients.iam(session).send(new CreateUserCommand({ UserName: 'x' })));
    assert.equal(iamErr.name, 'AccessDenied');
    assert.match(iamErr.message, new RegExp(`^User: arn:aws:sts::${TEST_ACCOUNT}:assumed-role/Deployer/kms-user is not authorized to perform: iam:CreateUser`));
  });

  it('a user the trust policy does not name is AccessDenied, as is a role that does not exist (same words)', async () => {
    const err = await rejection(assume(carol, roleArn('Deployer'), 'ss'));
    assert.equal(err.name, 'AccessDenied');
    assert.equal(err.$metadata?.httpStatusCode, 403);
    assert.equal(err.message, `User: arn:aws:iam::${TEST_ACCOUNT}:user/carol is not authorized to perform: sts:AssumeRole on resource: ${roleArn('Deployer')}`);
    const missing = await rejection(assume(carol, roleArn('Nope'), 'ss'));
    assert.equal(missing.message, `User: arn:aws:iam::${TEST_ACCOUNT}:user/carol is not authorized to perform: sts:AssumeRole on resource: ${roleArn('Nope')}`);
    // The ARN must be the role's, path included.
    assert.equal((await rejection(assume(bob, roleArn('Deployer', '/other/'), 'ss'))).name, 'AccessDenied');
  });

  it('a trust policy that trusts the account lets in only users whose own policies allow sts:AssumeRole on the role', async () => {
    assert.equal((await rejection(assume(carol, roleArn('Vault'), 'ss'))).name, 'AccessDenied');
    await root.send(new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'vault', PolicyDocument: policyDocument(allow('sts:AssumeRole', roleArn('Vault'))) }));
    assert.equal((await assume(carol, roleArn('Vault'), 'in')).AssumedRoleUser?.Arn, `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/Vault/in`);
    await root.send(new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'no-vault', PolicyDocument: policyDocument(deny('sts:AssumeRole')) }));
    assert.equal((await rejection(assume(carol, roleArn('Vault'), 'ss'))).name, 'AccessDenied');
  });

  it('the root user may not assume roles', async () => {
    const err = await rejection(clients.sts().send(new AssumeRoleCommand({ RoleArn: roleArn('Vault'), RoleSessionName: 'root' })));
    assert.equal(err.name, 'AccessDenied');
    assert.equal(err.message, 'Roles may not be assumed by root accounts.');
  });

  it('DurationSeconds: 900 up to the role\'s MaxSessionDuration; session names by the model', async () => {
    const long = await assume(bob, roleArn('Deployer'), 'two-hours', 7200);
    assert.ok(Math.abs(long.Credentials!.Expiration!.getTime() - (clock.now() + 7200_000)) < 5000);
    const over = await rejection(assume(bob, roleArn('Deployer'), 'ss', 7201));
    assert.equal(over.name, 'ValidationError');
    assert.equal(over.message, 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    const under = await rejection(assume(bob, roleArn('Deployer'), 'ss', 899));
    assert.equal(under.name, 'ValidationError');
    assert.match(under.message, /durationSeconds/);
    const name = await rejection(assume(bob, roleArn('Deployer'), 'not valid!'));
    assert.equal(name.name, 'ValidationError');
    assert.match(name.message, /roleSessionName/);
  });

  it('role chaining: a session may assume a role that trusts its role, for at most an hour', async () => {
    const first = sessionOf(await assume(bob, roleArn('Deployer'), 'first'));
    const chained = await assume(first, roleArn('Ops', '/teams/'), 'second');
    assert.equal(chained.AssumedRoleUser?.Arn, `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/Ops/second`);
    await root.send(new CreateRoleCommand({ RoleName: 'LongOps', AssumeRolePolicyDocument: trustPolicy(roleArn('Deployer')), MaxSessionDuration: 7200 }));
    const err = await rejection(assume(first, roleArn('LongOps'), 'long', 7200));
    assert.equal(err.message, 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  });

  it('session credentials expire by the clock: ExpiredToken on IAM/STS, ExpiredTokenException on KMS', async () => {
    const session = sessionOf(await assume(bob, roleArn('Deployer'), 'short', 900));
    assert.ok((await clients.sts(session).send(new GetCallerIdentityCommand({}))).Arn);
    clock.advance(901_000);
    const sts = await rejection(clients.sts(session).send(new GetCallerIdentityCommand({})));
    assert.equal(sts.name, 'ExpiredToken');
    assert.equal(sts.$metadata?.httpStatusCode, 403);
    assert.equal(sts.message, 'The security token included in the request is expired');
    const kms = await rejection(clients.kms(session).send(new ListKeysCommand({})));
    assert.equal(kms.name, 'ExpiredTokenException');
    assert.equal(kms.$metadata?.httpStatusCode, 400);
  });

  it('a tampered or missing session token is refused: InvalidClientTokenId / UnrecognizedClientException', async () => {
    const session = sessionOf(await assume(bob, roleArn('Deployer'), 'tamper'));
    const token = session.sessionToken!;
    const flipped = { ...session, sessionToken: (token[0] === 'A' ? 'B' : 'A') + token.slice(1) };
    const sts = await rejection(clients.sts(flipped).send(new GetCallerIdentityCommand({})));
    assert.equal(sts.name, 'InvalidClientTokenId');
    assert.equal(sts.message, 'The security token included in the request is invalid.');
    assert.equal((await rejection(clients.kms(flipped).send(new ListKeysCommand({})))).name, 'UnrecognizedClientException');
    const none = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey };
    assert.equal((await rejection(clients.sts(none).send(new GetCallerIdentityCommand({})))).name, 'InvalidClientTokenId');
    // A long-term key with somebody's session token is refused too.
    assert.equal((await rejection(clients.sts({ ...bob, sessionToken: token }).send(new GetCallerIdentityCommand({})))).name, 'InvalidClientTokenId');
  });

  it("deleting a role leaves its sessions without permissions", async () => {
    await root.send(new CreateRoleCommand({ RoleName: 'Temp', AssumeRolePolicyDocument: trustPolicy(bobArn) }));
    await root.send(new PutRolePolicyCommand({ RoleName: 'Temp', PolicyName: 'kms', PolicyDocument: policyDocument(allow('kms:ListKeys')) }));
    const kms = clients.kms(sessionOf(await assume(bob, roleArn('Temp'), 'doomed')));
    assert.ok((await kms.send(new ListKeysCommand({}))).Keys);
    await root.send(new DeleteRolePolicyCommand({ RoleName: 'Temp', PolicyName: 'kms' }));
    await root.send(new DeleteRoleCommand({ RoleName: 'Temp' }));
    assert.equal((await rejection(kms.send(new ListKeysCommand({})))).name, 'AccessDeniedException');
  });

  it("GetSessionToken: temporary credentials that act as the user, 12 hours by default; not from session credentials", async () => {
    await root.send(new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'list', PolicyDocument: policyDocument(allow('kms:ListKeys')) }));
    const out = await clients.sts(bob).send(new GetSessionTokenCommand({}));
    assert.match(out.Credentials!.AccessKeyId!, /^ASIA/);
    assert.ok(Math.abs(out.Credentials!.Expiration!.getTime() - (clock.now() + 43_200_000)) < 5000);
    const session = sessionOf(out);
    assert.equal((await clients.sts(session).send(new GetCallerIdentityCommand({}))).Arn, bobArn);
    assert.ok((await clients.kms(session).send(new ListKeysCommand({}))).Keys);
    const again = await rejection(clients.sts(session).send(new GetSessionTokenCommand({})));
    assert.equal(again.name, 'AccessDenied');
    const mfa = await rejection(clients.sts(bob).send(new GetSessionTokenCommand({ SerialNumber: 'arn:aws:iam::111122223333:mfa/bob', TokenCode: '123456' })));
    assert.equal(mfa.name, 'AccessDenied');
  });

  it("the root user's session tokens last at most an hour", async () => {
    const out = await clients.sts().send(new GetSessionTokenCommand({ DurationSeconds: 7200 }));
    assert.ok(Math.abs(out.Credentials!.Expiration!.getTime() - (clock.now() + 3600_000)) < 5000);
    assert.equal((await clients.sts(sessionOf(out)).send(new GetCallerIdentityCommand({}))).Arn, `arn:aws:iam::${TEST_ACCOUNT}:root`);
  });
});

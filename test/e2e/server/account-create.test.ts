import { CreateAccessKeyCommand, CreatePolicyCommand, CreateRoleCommand, CreateUserCommand, GetPolicyCommand, ListUsersCommand, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Clients, Credentials, allow, policyDocument, trustPolicy } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

const OTHER = '999988887777';

function strongroom(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/strongroom.js', ...args], { timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `strongroom account create` adds an account to a running server's data dir: its own root, IAM, keys. */
describe('strongroom account create', () => {
  let server: TestServer;
  let clients: Clients;
  let other: Credentials;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  it('creates the account and prints its root credentials once; the running server accepts them at once', async () => {
    const res = await strongroom(['account', 'create', '--data-dir', server.dataDir, '--account-id', OTHER]);
    assert.equal(res.code, 0, res.stderr);
    const id = /AWS_ACCESS_KEY_ID=(\S+)/.exec(res.stdout)?.[1];
    const secret = /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(res.stdout)?.[1];
    assert.match(id ?? '', /^AKIA[A-Z2-7]{16}$/);
    assert.equal(secret?.length, 40);
    assert.match(res.stdout, new RegExp(`Account ${OTHER} created`));
    other = { accessKeyId: id!, secretAccessKey: secret! };
    const me = await clients.sts(other).send(new GetCallerIdentityCommand({}));
    assert.equal(me.Account, OTHER);
    assert.equal(me.Arn, `arn:aws:iam::${OTHER}:root`);
  });

  it('with the root-of-trust key kept outside the data dir (--root-of-trust-file), the offline command finds it there', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'strongroom-keyapart-'));
    const keyFile = join(mkdtempSync(join(tmpdir(), 'strongroom-key-')), 'root.key');
    const apart = await startServer({ dataDir, rootOfTrustFile: keyFile });
    try {
      await apart.stop();
      const withKey = await strongroom(['account', 'create', '--data-dir', dataDir, '--root-of-trust-file', keyFile]);
      assert.equal(withKey.code, 0, withKey.stderr);
      assert.match(withKey.stdout, /Account \d{12} created/);
      const without = await strongroom(['account', 'create', '--data-dir', dataDir]);
      assert.equal(without.code, 1);
      assert.match(without.stderr, /is not a Strongroom data dir/);
    } finally {
      await apart.destroy();
    }
  });

  it('an account id that exists, or a directory that is no data dir, is refused (exit 1)', async () => {
    const again = await strongroom(['account', 'create', '--data-dir', server.dataDir, '--account-id', OTHER]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`account ${OTHER} already exists`));
    const empty = mkdtempSync(join(tmpdir(), 'strongroom-empty-'));
    try {
      const none = await strongroom(['account', 'create', '--data-dir', empty]);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /is not a Strongroom data dir/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const bad = await strongroom(['account', 'create', '--data-dir', server.dataDir, '--account-id', '12']);
    assert.equal(bad.code, 1);
  });

  it('accounts are isolated: IAM names and KMS keys are per account', async () => {
    await clients.iam().send(new CreateUserCommand({ UserName: 'alice' }));
    await clients.iam(other).send(new CreateUserCommand({ UserName: 'alice' }));
    const users = await clients.iam(other).send(new ListUsersCommand({}));
    assert.deepEqual(users.Users?.map((u) => u.Arn), [`arn:aws:iam::${OTHER}:user/alice`]);
    const key = await clients.kms().send(new CreateKeyCommand({}));
    const theirs = await clients.kms(other).send(new ListKeysCommand({}));
    assert.ok(!theirs.Keys?.some((k) => k.KeyId === key.KeyMetadata?.KeyId));
  });

  it("cross-account AssumeRole: the role's trust policy and the caller's own policies must both allow", async () => {
    const roleArn = `arn:aws:iam::${OTHER}:role/Partner`;
    await clients.iam(other).send(new CreateRoleCommand({ RoleName: 'Partner', AssumeRolePolicyDocument: trustPolicy(TEST_ACCOUNT) }));
    await clients.iam(other).send(new PutRolePolicyCommand({ RoleName: 'Partner', PolicyName: 'kms', PolicyDocument: policyDocument(allow('kms:ListKeys')) }));
    const { AccessKey } = await clients.iam().send(new CreateAccessKeyCommand({ UserName: 'alice' }));
    const alice = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };

    const denied = await rejection(clients.sts(alice).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'partner' })));
    assert.equal(denied.name, 'AccessDenied');
    await clients.iam().send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'partner', PolicyDocument: policyDocument(allow('sts:AssumeRole', roleArn)) }));
    const out = await clients.sts(alice).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'partner' }));
    assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${OTHER}:assumed-role/Partner/partner`);
    const session = { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! };
    assert.equal((await clients.sts(session).send(new GetCallerIdentityCommand({}))).Account, OTHER);
    assert.ok(Array.isArray((await clients.kms(session).send(new ListKeysCommand({}))).Keys));
  });

  it("IAM resources of another account are out of reach whatever the caller's policies say", async () => {
    const { AccessKey } = await clients.iam().send(new CreateAccessKeyCommand({ UserName: 'alice' }));
    const alice = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    await clients.iam().send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'all-iam', PolicyDocument: policyDocument(allow('iam:*')) }));
    // IAM acts in the caller's account: alice sees her account's users, never the other's.
    const listed = await clients.iam(alice).send(new ListUsersCommand({}));
    assert.deepEqual(listed.Users?.map((u) => u.Arn), [`arn:aws:iam::${TEST_ACCOUNT}:user/alice`]);
    // A policy ARN of the other account is refused before anything is looked up, even to the root user.
    const { Policy } = await clients.iam(other).send(new CreatePolicyCommand({ PolicyName: 'Theirs', PolicyDocument: policyDocument(allow('kms:ListKeys')) }));
    for (const caller of [clients.iam(alice), clients.iam()]) {
      const err = await rejection(caller.send(new GetPolicyCommand({ PolicyArn: Policy!.Arn })));
      assert.equal(err.name, 'AccessDenied');
      assert.match(err.message, /on resource: arn:aws:iam::999988887777:policy\/Theirs because no resource-based policy allows the iam:GetPolicy action$/);
    }
  });
});

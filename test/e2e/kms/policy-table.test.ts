import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateAliasCommand, CreateGrantCommand, CreateKeyCommand, GetKeyRotationStatusCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Clients, Credentials, allow, deny, policyDocument, trustPolicy } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

const run = promisify(execFile);
const ACCT_B = '444455556666';
const ROOT = `arn:aws:iam::${TEST_ACCOUNT}:root`;

/**
 * The decision table of KMS authorization, end to end: key policies, IAM policies (user and role), grants,
 * conditions, wildcards, NotAction and cross-account use — each case asserting the decision and, for a
 * denial, AWS's exact message.
 * https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html
 */
describe('KMS authorization decision table (key policy × IAM policy × grant)', () => {
  let server: TestServer;
  let clients: Clients;
  let iam: IAMClient;
  let kms: KMSClient;
  let n = 0;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    iam = clients.iam();
    kms = clients.kms();
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  /** A fresh IAM user with an optional inline policy, and a KMS client acting as it. */
  async function user(policy?: string, account: { iam: IAMClient; id: string } = { iam, id: TEST_ACCOUNT }) {
    const name = `u${++n}`;
    await account.iam.send(new CreateUserCommand({ UserName: name }));
    if (policy) await account.iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: policy }));
    const { AccessKey } = await account.iam.send(new CreateAccessKeyCommand({ UserName: name }));
    const creds: Credentials = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    return { arn: `arn:aws:iam::${account.id}:user/${name}`, kms: clients.kms(creds) };
  }

  const keyWith = async (statements?: Record<string, unknown>[]) =>
    (await kms.send(new CreateKeyCommand(statements ? { Policy: policyDocument(...statements), BypassPolicyLockoutSafetyCheck: true } : {}))).KeyMetadata!.Arn!;
  const adminStatement = { Sid: 'Admin', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' };
  const encryptFor = async (keyArn: string, context?: Record<string, string>) =>
    (await kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('table'), ...(context ? { EncryptionContext: context } : {}) }))).CiphertextBlob!;

  async function denied(p: Promise<unknown>, who: string, action: string, resource: string, because: string): Promise<void> {
    const err = await rejection(p);
    assert.equal(err.name, 'AccessDeniedException');
    assert.equal(err.message, `User: ${who} is not authorized to perform: ${action} on resource: ${resource} ${because}`);
  }

  it('default key policy (delegates to IAM) + no IAM policy → denied: no identity-based policy allows', async () => {
    const key = await keyWith();
    const u = await user();
    await denied(u.kms.send(new DescribeKeyCommand({ KeyId: key })), u.arn, 'kms:DescribeKey', key, 'because no identity-based policy allows the kms:DescribeKey action');
  });

  it('default key policy + IAM Allow → allowed; IAM Deny beside it → denied with an explicit deny', async () => {
    const key = await keyWith();
    const ok = await user(policyDocument(allow(['kms:Encrypt', 'kms:Decrypt'], key)));
    const blob = (await ok.kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x') }))).CiphertextBlob;
    await ok.kms.send(new DecryptCommand({ CiphertextBlob: blob }));
    const d = await user(policyDocument(allow('kms:*'), deny('kms:Decrypt')));
    await denied(d.kms.send(new DecryptCommand({ CiphertextBlob: blob })), d.arn, 'kms:Decrypt', key, 'with an explicit deny in an identity-based policy');
  });

  it('a key policy naming the user directly allows without any IAM policy', async () => {
    const u = await user();
    const key = await keyWith([adminStatement, { Effect: 'Allow', Principal: { AWS: u.arn }, Action: 'kms:DescribeKey', Resource: '*' }]);
    await u.kms.send(new DescribeKeyCommand({ KeyId: key }));
  });

  it('a key policy without the account (no delegation) ignores IAM Allows → denied: no resource-based policy allows', async () => {
    const u = await user(policyDocument(allow('kms:*')));
    const key = await keyWith([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:user/someone-else` }, Action: 'kms:*', Resource: '*' }]);
    await denied(u.kms.send(new DescribeKeyCommand({ KeyId: key })), u.arn, 'kms:DescribeKey', key, 'because no resource-based policy allows the kms:DescribeKey action');
  });

  it('a Deny in the key policy beats an IAM Allow', async () => {
    const u = await user(policyDocument(allow('kms:*')));
    const key = await keyWith([adminStatement, { Effect: 'Deny', Principal: { AWS: u.arn }, Action: 'kms:DescribeKey', Resource: '*' }]);
    await denied(u.kms.send(new DescribeKeyCommand({ KeyId: key })), u.arn, 'kms:DescribeKey', key, 'with an explicit deny in a resource-based policy');
  });

  it('conditions: kms:EncryptionContext true allows, false or missing denies', async () => {
    const key = await keyWith();
    const u = await user(policyDocument({ ...allow('kms:Decrypt', key), Condition: { StringEquals: { 'kms:EncryptionContext:dept': 'hr' } } }));
    await u.kms.send(new DecryptCommand({ CiphertextBlob: await encryptFor(key, { dept: 'hr' }), EncryptionContext: { dept: 'hr' } }));
    const because = 'because no identity-based policy allows the kms:Decrypt action';
    await denied(u.kms.send(new DecryptCommand({ CiphertextBlob: await encryptFor(key, { dept: 'ops' }), EncryptionContext: { dept: 'ops' } })), u.arn, 'kms:Decrypt', key, because);
    await denied(u.kms.send(new DecryptCommand({ CiphertextBlob: await encryptFor(key) })), u.arn, 'kms:Decrypt', key, because);
  });

  it('kms:EncryptionAlgorithm is SYMMETRIC_DEFAULT on cryptographic operations and absent elsewhere', async () => {
    const key = await keyWith();
    const u = await user(policyDocument({ ...allow(['kms:Encrypt', 'kms:DescribeKey']), Condition: { StringEquals: { 'kms:EncryptionAlgorithm': 'SYMMETRIC_DEFAULT' } } }));
    await u.kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x') }));
    await denied(u.kms.send(new DescribeKeyCommand({ KeyId: key })), u.arn, 'kms:DescribeKey', key, 'because no identity-based policy allows the kms:DescribeKey action');
  });

  it('wildcards in Action and Resource, and NotAction', async () => {
    const key = await keyWith();
    const keyId = key.split('/')[1]!;
    const w = await user(policyDocument(allow('kms:Generate*', `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:key/*`)));
    await w.kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    await denied(w.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })), w.arn, 'kms:Encrypt', key, 'because no identity-based policy allows the kms:Encrypt action');
    const otherRegion = await user(policyDocument(allow('kms:*', 'arn:aws:kms:eu-west-1:*:key/*')));
    await denied(otherRegion.kms.send(new DescribeKeyCommand({ KeyId: key })), otherRegion.arn, 'kms:DescribeKey', key, 'because no identity-based policy allows the kms:DescribeKey action');
    const notAction = await user(policyDocument({ Effect: 'Allow', NotAction: 'kms:ScheduleKeyDeletion', Resource: '*' }));
    await notAction.kms.send(new DescribeKeyCommand({ KeyId: key }));
    await denied(notAction.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key })), notAction.arn, 'kms:ScheduleKeyDeletion', key, 'because no identity-based policy allows the kms:ScheduleKeyDeletion action');
  });

  it('aws:ResourceTag/* and kms:ResourceAliases: access by the key’s tags and aliases', async () => {
    const tagged = (await kms.send(new CreateKeyCommand({ Tags: [{ TagKey: 'team', TagValue: 'hr' }] }))).KeyMetadata!.Arn!;
    const untagged = await keyWith();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/finance-table', TargetKeyId: untagged }));
    const u = await user(
      policyDocument(
        { ...allow('kms:DescribeKey'), Condition: { StringEquals: { 'aws:ResourceTag/team': 'hr' } } },
        { ...allow('kms:GetKeyRotationStatus'), Condition: { 'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/finance-*' } } },
      ),
    );
    await u.kms.send(new DescribeKeyCommand({ KeyId: tagged }));
    await denied(u.kms.send(new DescribeKeyCommand({ KeyId: untagged })), u.arn, 'kms:DescribeKey', untagged, 'because no identity-based policy allows the kms:DescribeKey action');
    await u.kms.send(new GetKeyRotationStatusCommand({ KeyId: untagged }));
    await denied(u.kms.send(new GetKeyRotationStatusCommand({ KeyId: tagged })), u.arn, 'kms:GetKeyRotationStatus', tagged, 'because no identity-based policy allows the kms:GetKeyRotationStatus action');
  });

  it('a grant allows what no policy does, within its operations and constraints', async () => {
    const key = await keyWith();
    const u = await user();
    await kms.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: u.arn, Operations: ['Decrypt'], Constraints: { EncryptionContextSubset: { app: 'a' } } }));
    await u.kms.send(new DecryptCommand({ CiphertextBlob: await encryptFor(key, { app: 'a', x: '1' }), EncryptionContext: { app: 'a', x: '1' } }));
    await denied(u.kms.send(new DecryptCommand({ CiphertextBlob: await encryptFor(key, { app: 'b' }), EncryptionContext: { app: 'b' } })), u.arn, 'kms:Decrypt', key, 'because no identity-based policy allows the kms:Decrypt action');
    await denied(u.kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x'), EncryptionContext: { app: 'a' } })), u.arn, 'kms:Encrypt', key, 'because no identity-based policy allows the kms:Encrypt action');
  });

  it('roles: an assumed-role session acts with the role’s policies', async () => {
    const key = await keyWith();
    const u = await user(policyDocument(allow('sts:AssumeRole')));
    await iam.send(new CreateRoleCommand({ RoleName: 'decryptor', AssumeRolePolicyDocument: trustPolicy(u.arn) }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'decryptor', PolicyName: 'p', PolicyDocument: policyDocument(allow('kms:Decrypt', key)) }));
    const { Credentials: c } = await clients
      .sts(await credentialsOf(u.kms))
      .send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/decryptor`, RoleSessionName: 's1' }));
    const session = clients.kms({ accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! });
    await session.send(new DecryptCommand({ CiphertextBlob: await encryptFor(key) }));
    const sessionArn = `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/decryptor/s1`;
    await denied(session.send(new DescribeKeyCommand({ KeyId: key })), sessionArn, 'kms:DescribeKey', key, 'because no identity-based policy allows the kms:DescribeKey action');
  });

  it('cross-account: allowed only when the key policy allows the other account AND its IAM policy allows', async () => {
    const out = await run(process.execPath, ['bin/strongroom.js', 'account', 'create', '--data-dir', server.dataDir, '--account-id', ACCT_B]);
    const creds = {
      accessKeyId: /AWS_ACCESS_KEY_ID=(\S+)/.exec(out.stdout)![1]!,
      secretAccessKey: /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(out.stdout)![1]!,
    };
    const b = { iam: clients.iam(creds), id: ACCT_B };
    const shared = await keyWith([adminStatement, { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT_B}:root` }, Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*' }]);
    const notShared = await keyWith();
    const withIam = await user(policyDocument(allow(['kms:Decrypt', 'kms:DescribeKey'], `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:key/*`)), b);
    const withoutIam = await user(undefined, b);
    await withIam.kms.send(new DecryptCommand({ CiphertextBlob: await encryptFor(shared), KeyId: shared }));
    await denied(withoutIam.kms.send(new DescribeKeyCommand({ KeyId: shared })), withoutIam.arn, 'kms:DescribeKey', shared, 'because no identity-based policy allows the kms:DescribeKey action');
    await denied(withIam.kms.send(new DescribeKeyCommand({ KeyId: notShared })), withIam.arn, 'kms:DescribeKey', notShared, 'because no resource-based policy allows the kms:DescribeKey action');
    // A key id alone names a key in the caller's own account: another account's key needs its ARN.
    const err = await rejection(withIam.kms.send(new DescribeKeyCommand({ KeyId: shared.split('/')[1]! })));
    assert.equal(err.name, 'NotFoundException');
  });

  /** The credentials a KMS client was built with (the SDK resolves them lazily). */
  async function credentialsOf(client: KMSClient): Promise<Credentials> {
    const provider = client.config.credentials as () => Promise<Credentials>;
    const c = await provider();
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
  }
});

import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CreateRoleCommand, CreateUserCommand, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { Clients, allow, policyDocument, trustPolicy } from '../../helpers/query-clients.js';
import { sendRaw, signedJsonRequest } from '../../helpers/raw-request.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

const run = promisify(execFile);
const ROOT = `arn:aws:iam::${TEST_ACCOUNT}:root`;

/** A key whose policy keeps the account's admin rights but denies Decrypt unless the context says dept=hr. */
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' },
    {
      Sid: 'OnlyHr',
      Effect: 'Deny',
      Principal: '*',
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringNotEquals: { 'kms:EncryptionContext:dept': 'hr' } },
    },
  ],
});

describe('explain: why a KMS call is allowed or denied', () => {
  let server: TestServer;
  let kms: KMSClient;
  let keyArn: string;

  before(async () => {
    server = await startServer();
    kms = server.kms();
    keyArn = (await kms.send(new CreateKeyCommand({ Policy: POLICY }))).KeyMetadata!.Arn!;
  });
  after(() => server.destroy());

  it('the key policy is enforced with its condition: Decrypt needs dept=hr', async () => {
    const hr = await kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x'), EncryptionContext: { dept: 'hr' } }));
    await kms.send(new DecryptCommand({ CiphertextBlob: hr.CiphertextBlob, EncryptionContext: { dept: 'hr' } }));
    const ops = await kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x'), EncryptionContext: { dept: 'ops' } }));
    const err = await rejection(kms.send(new DecryptCommand({ CiphertextBlob: ops.CiphertextBlob, EncryptionContext: { dept: 'ops' } })));
    assert.equal(err.name, 'AccessDeniedException');
    assert.equal(err.message, `User: ${ROOT} is not authorized to perform: kms:Decrypt on resource: ${keyArn} with an explicit deny in a resource-based policy`);
  });

  it('strongroom explain prints the decision and the statements that made it', async () => {
    const allowed = await run(process.execPath, ['bin/strongroom.js', 'explain', '--data-dir', server.dataDir, '--principal', ROOT, '--action', 'kms:Decrypt', '--key', keyArn, '--context', 'dept=hr']);
    assert.match(allowed.stdout, /^ALLOW: arn:aws:iam::111122223333:root → kms:Decrypt on arn:aws:kms:/);
    assert.match(allowed.stdout, /Allow key policy statement 0 \(Sid Enable IAM User Permissions\)/);
    const denied = await rejection(
      run(process.execPath, ['bin/strongroom.js', 'explain', '--data-dir', server.dataDir, '--principal', ROOT, '--action', 'kms:Decrypt', '--key', keyArn, '--context', 'dept=ops', '--json']),
    ) as Error & { code?: number; stdout?: string };
    assert.equal(denied.code, 1);
    const e = JSON.parse(denied.stdout!);
    assert.equal(e.decision, 'Deny');
    assert.equal(e.reason, 'with an explicit deny in a resource-based policy');
    assert.ok(e.statements.some((s: { sid?: string; effect: string }) => s.sid === 'OnlyHr' && s.effect === 'Deny'));
  });

  it('explains IAM users and roles by the policies that apply to them', async () => {
    const clients = new Clients(server);
    try {
      const iam = clients.iam();
      await iam.send(new CreateUserCommand({ UserName: 'carol' }));
      await iam.send(new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'dec', PolicyDocument: policyDocument(allow('kms:Decrypt', keyArn)) }));
      await iam.send(new CreateRoleCommand({ RoleName: 'reader', AssumeRolePolicyDocument: trustPolicy(ROOT) }));
      await iam.send(new PutRolePolicyCommand({ RoleName: 'reader', PolicyName: 'desc', PolicyDocument: policyDocument(allow('kms:DescribeKey')) }));
      const explain = async (principal: string, action: string) => {
        try {
          const r = await run(process.execPath, ['bin/strongroom.js', 'explain', '--data-dir', server.dataDir, '--principal', principal, '--action', action, '--key', keyArn, '--context', 'dept=hr', '--json']);
          return JSON.parse(r.stdout);
        } catch (err) {
          return JSON.parse((err as { stdout: string }).stdout);
        }
      };
      const carol = await explain(`arn:aws:iam::${TEST_ACCOUNT}:user/carol`, 'kms:Decrypt');
      assert.equal(carol.decision, 'Allow');
      assert.equal(carol.basis, 'key-policy-and-identity-policy');
      assert.ok(carol.statements.some((st: { policy: string }) => st.policy === 'user/carol/inline/dec'));
      const carolEncrypt = await explain(`arn:aws:iam::${TEST_ACCOUNT}:user/carol`, 'kms:Encrypt');
      assert.equal(carolEncrypt.decision, 'ImplicitDeny');
      assert.equal(carolEncrypt.reason, 'because no identity-based policy allows the kms:Encrypt action');
      const session = await explain(`arn:aws:sts::${TEST_ACCOUNT}:assumed-role/reader/s`, 'kms:DescribeKey');
      assert.equal(session.decision, 'Allow');
      assert.ok(session.statements.some((st: { policy: string }) => st.policy === 'role/reader/inline/desc'));
    } finally {
      clients.destroy();
    }
  });

  it('POST /_strongroom/explain answers the same over SigV4, and another account\'s principals only as far as the caller may read them', async () => {
    const body = JSON.stringify({ principal: ROOT, action: 'kms:Decrypt', key: keyArn, context: { dept: 'ops' } });
    const req = await signedJsonRequest(server.url, 'explain', body, { path: '/_strongroom/explain' });
    const res = await sendRaw(server.url, req);
    assert.equal(res.status, 200);
    const e = JSON.parse(res.body.toString());
    assert.equal(e.decision, 'Deny');
    assert.equal(e.resource, keyArn);
    // Another account's user: its policies are that account's (iam:SimulatePrincipalPolicy cannot be allowed across accounts).
    const other = JSON.stringify({ principal: 'arn:aws:iam::999999999999:user/x', action: 'kms:Decrypt', key: keyArn });
    const refused = await sendRaw(server.url, await signedJsonRequest(server.url, 'explain', other, { path: '/_strongroom/explain' }));
    assert.equal(refused.status, 400);
    assert.equal(JSON.parse(refused.body.toString()).__type, 'AccessDeniedException');
    // Another account's root has no identity-based policies: its access to this key is this key policy's answer, which the caller may read.
    const otherRoot = JSON.stringify({ principal: 'arn:aws:iam::999999999999:root', action: 'kms:Decrypt', key: keyArn });
    const answered = await sendRaw(server.url, await signedJsonRequest(server.url, 'explain', otherRoot, { path: '/_strongroom/explain' }));
    assert.equal(answered.status, 200);
    assert.equal(JSON.parse(answered.body.toString()).decision, 'Deny');
    const unsigned = await fetch(`${server.url}/_strongroom/explain`, { method: 'POST', body });
    assert.equal(unsigned.status, 400);
    assert.equal(((await unsigned.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
  });
});

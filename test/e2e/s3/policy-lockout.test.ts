// No bucket policy locks its owner out for good: as on AWS, the root user of the bucket-owning account may always
// GetBucketPolicy, PutBucketPolicy and DeleteBucketPolicy whatever the policy says (API_DeleteBucketPolicy: "To ensure
// that bucket owners don't inadvertently lock themselves out of their own buckets, the root principal in a bucket
// owner's AWS account can perform the GetBucketPolicy, PutBucketPolicy, and DeleteBucketPolicy API actions, even if
// their bucket policy explicitly denies the root principal's access"). Only those three actions, only that root
// user: the account's IAM users and role sessions stay denied, and so does the root user's access to the objects
// until the policy is changed.
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import {
  CreateBucketCommand, DeleteBucketPolicyCommand, GetBucketPolicyCommand, GetObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand,
  PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Clients, allow, policyDocument, trustPolicy } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

const denyAll = (bucket: string, condition?: Record<string, unknown>): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'DenyEveryone', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`], ...(condition ? { Condition: condition } : {}) }],
  });

describe('S3 bucket policies cannot lock the owning account\'s root user out of the policy', { concurrency: 1 }, () => {
  let server: TestServer;
  let clients: Clients;
  let root: S3Client;
  let user: S3Client;
  let role: S3Client;

  const denied = async (p: Promise<unknown>) => {
    const err = await rejection(p);
    assert.equal(err.name, 'AccessDenied', err.message);
    assert.equal(err.$metadata?.httpStatusCode, 403);
  };

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    root = server.s3();
    const iam = clients.iam();
    await iam.send(new CreateUserCommand({ UserName: 'admin' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'admin', PolicyName: 'all', PolicyDocument: policyDocument(allow(['s3:*', 'sts:AssumeRole'])) }));
    const ak = (await iam.send(new CreateAccessKeyCommand({ UserName: 'admin' }))).AccessKey!;
    const userCreds = { accessKeyId: ak.AccessKeyId!, secretAccessKey: ak.SecretAccessKey! };
    user = server.s3({ credentials: userCreds });
    const roleArn = (await iam.send(new CreateRoleCommand({ RoleName: 'S3Admin', AssumeRolePolicyDocument: trustPolicy(TEST_ACCOUNT) }))).Role!.Arn!;
    await iam.send(new PutRolePolicyCommand({ RoleName: 'S3Admin', PolicyName: 'all', PolicyDocument: policyDocument(allow('s3:*')) }));
    const session = (await clients.sts(userCreds).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'fixer' }))).Credentials!;
    role = server.s3({ credentials: { accessKeyId: session.AccessKeyId!, secretAccessKey: session.SecretAccessKey!, sessionToken: session.SessionToken! } });
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  it('a policy denying everyone everything: root can still read, replace and delete it; its objects stay denied to root until then', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'locked' }));
    await root.send(new PutObjectCommand({ Bucket: 'locked', Key: 'data', Body: 'inside' }));
    const policy = denyAll('locked');
    await root.send(new PutBucketPolicyCommand({ Bucket: 'locked', Policy: policy }));

    // The deny applies to root for everything else.
    await denied(root.send(new GetObjectCommand({ Bucket: 'locked', Key: 'data' })));
    await denied(root.send(new PutObjectCommand({ Bucket: 'locked', Key: 'other', Body: 'x' })));
    await denied(root.send(new ListObjectsV2Command({ Bucket: 'locked' })));

    // Root reads the policy, replaces it (with another deny-all: still allowed), and objects stay denied.
    assert.equal((await root.send(new GetBucketPolicyCommand({ Bucket: 'locked' }))).Policy, policy);
    const replaced = denyAll('locked').replace('DenyEveryone', 'StillDenyEveryone');
    await root.send(new PutBucketPolicyCommand({ Bucket: 'locked', Policy: replaced }));
    assert.equal((await root.send(new GetBucketPolicyCommand({ Bucket: 'locked' }))).Policy, replaced);
    await denied(root.send(new GetObjectCommand({ Bucket: 'locked', Key: 'data' })));

    // Deleting it gives the bucket back.
    await root.send(new DeleteBucketPolicyCommand({ Bucket: 'locked' }));
    const got = await root.send(new GetObjectCommand({ Bucket: 'locked', Key: 'data' }));
    assert.equal(await got.Body!.transformToString(), 'inside');
  });

  it('an IAM user and a role session of the owning account with s3:* cannot get, replace or delete that policy', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'locked-iam' }));
    const policy = denyAll('locked-iam');
    await root.send(new PutBucketPolicyCommand({ Bucket: 'locked-iam', Policy: policy }));
    for (const client of [user, role]) {
      await denied(client.send(new GetBucketPolicyCommand({ Bucket: 'locked-iam' })));
      await denied(client.send(new PutBucketPolicyCommand({ Bucket: 'locked-iam', Policy: policyDocument({ ...allow('s3:*', 'arn:aws:s3:::locked-iam/*'), Principal: '*' }) })));
      await denied(client.send(new DeleteBucketPolicyCommand({ Bucket: 'locked-iam' })));
    }
    assert.equal((await root.send(new GetBucketPolicyCommand({ Bucket: 'locked-iam' }))).Policy, policy);
    // Once root removes it, s3:* works again for them.
    await root.send(new DeleteBucketPolicyCommand({ Bucket: 'locked-iam' }));
    await user.send(new PutObjectCommand({ Bucket: 'locked-iam', Key: 'k', Body: 'x' }));
    assert.equal((await role.send(new ListObjectsV2Command({ Bucket: 'locked-iam' }))).KeyCount, 1);
  });

  it('AWS\'s standard "deny unless aws:SecureTransport" on a plain-HTTP server: root can still remove it over HTTP', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'tls-only-policy' }));
    await root.send(new PutBucketPolicyCommand({ Bucket: 'tls-only-policy', Policy: denyAll('tls-only-policy', { Bool: { 'aws:SecureTransport': 'false' } }) }));
    await denied(root.send(new PutObjectCommand({ Bucket: 'tls-only-policy', Key: 'k', Body: 'x' })));
    await denied(user.send(new DeleteBucketPolicyCommand({ Bucket: 'tls-only-policy' })));
    assert.match((await root.send(new GetBucketPolicyCommand({ Bucket: 'tls-only-policy' }))).Policy!, /aws:SecureTransport/);
    await root.send(new DeleteBucketPolicyCommand({ Bucket: 'tls-only-policy' }));
    await root.send(new PutObjectCommand({ Bucket: 'tls-only-policy', Key: 'k', Body: 'x' }));
  });
});

// Cross-account calls are recorded for both accounts, as CloudTrail delivers them: when account B uses
// account A's KMS key or assumes A's role, B gets the record as it is and A gets its own copy — its own
// eventID and recipientAccountId, a userIdentity of type AWSAccount naming only B and the principal id,
// the same sharedEventID on both. Each account's LookupEvents and trails show its copy and never the other's;
// an attempt on a role A does not have is not told to A; `strongroom audit verify` still passes.
import { CloudTrailClient, CreateTrailCommand, LookupEventsCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Clients, Credentials, allow, policyDocument, trustPolicy } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

const A = TEST_ACCOUNT;
const B = '999988887777';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function strongroom(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/strongroom.js', ...args], { timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function bucketPolicy(bucket: string, account: string): string {
  const cloudTrail = { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' } };
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { ...cloudTrail, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${bucket}` },
      { ...cloudTrail, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/AWSLogs/${account}/*` },
    ],
  });
}

describe('cross-account calls: a record for the caller and a copy for the resource owner', () => {
  let server: TestServer;
  let clients: Clients;
  let b: Credentials;
  let keyArn: string;
  const made: { destroy(): void }[] = [];
  const track = <T extends { destroy(): void }>(c: T): T => (made.push(c), c);
  const ct = (credentials: Credentials) => track(new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials, maxAttempts: 1 }));
  const s3 = (credentials: Credentials) => track(new S3Client({ endpoint: server.url, region: TEST_REGION, credentials, forcePathStyle: true }));
  const lookup = async (credentials: Credentials, eventName: string): Promise<Record<string, any>[]> =>
    ((await ct(credentials).send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: eventName }] }))).Events ?? []).map((e) => JSON.parse(e.CloudTrailEvent!));
  const delivered = async (credentials: Credentials, bucket: string): Promise<Record<string, any>[]> => {
    const out: Record<string, any>[] = [];
    const keys = ((await s3(credentials).send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).filter((k) => k.includes('/CloudTrail/'));
    for (const key of keys) {
      const body = Buffer.from(await (await s3(credentials).send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
      out.push(...(JSON.parse(gunzipSync(body).toString('utf8')) as { Records: Record<string, any>[] }).Records);
    }
    return out;
  };

  before(async () => {
    server = await startServer({ trails: { logIntervalMs: 300, digestIntervalMs: 60_000 } });
    clients = new Clients(server);
    const res = await strongroom(['account', 'create', '--data-dir', server.dataDir, '--account-id', B]);
    assert.equal(res.code, 0, res.stderr);
    b = { accessKeyId: /AWS_ACCESS_KEY_ID=(\S+)/.exec(res.stdout)![1]!, secretAccessKey: /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(res.stdout)![1]! };
    // A's key, usable by B's account; A's role, assumable by B.
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*' },
      ],
    });
    keyArn = (await clients.kms().send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!.Arn!;
    await clients.iam().send(new CreateRoleCommand({ RoleName: 'shared', AssumeRolePolicyDocument: trustPolicy(`arn:aws:iam::${B}:root`) }));
    // Each account has its trail and its bucket.
    for (const [credentials, bucket, account] of [[TEST_CREDENTIALS, 'a-trail-logs', A], [b, 'b-trail-logs', B]] as const) {
      await s3(credentials).send(new CreateBucketCommand({ Bucket: bucket }));
      await s3(credentials).send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: bucketPolicy(bucket, account) }));
      await ct(credentials).send(new CreateTrailCommand({ Name: 'trail', S3BucketName: bucket }));
      await ct(credentials).send(new StartLoggingCommand({ Name: 'trail' }));
    }
  });
  after(async () => {
    for (const c of made) c.destroy();
    clients.destroy();
    await server.destroy();
  });

  it("B using A's key: B's LookupEvents shows B's record, A's shows A's copy, with one sharedEventID", async () => {
    const blob = (await clients.kms(b).send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('cross') }))).CiphertextBlob!;
    await clients.kms(b).send(new DecryptCommand({ CiphertextBlob: blob }));
    for (const eventName of ['Encrypt', 'Decrypt']) {
      const mine = (await lookup(b, eventName)).filter((r) => r.resources?.[0]?.ARN === keyArn);
      const owners = (await lookup(TEST_CREDENTIALS, eventName)).filter((r) => r.resources?.[0]?.ARN === keyArn);
      assert.equal(mine.length, 1, `B sees its ${eventName}`);
      assert.equal(owners.length, 1, `A sees B's ${eventName}`);
      const [rb, ra] = [mine[0]!, owners[0]!];
      assert.equal(rb.recipientAccountId, B);
      assert.equal(ra.recipientAccountId, A);
      assert.match(rb.sharedEventID, /^[0-9a-f-]{36}$/);
      assert.equal(ra.sharedEventID, rb.sharedEventID);
      assert.notEqual(ra.eventID, rb.eventID);
      // B sees who it was; A sees only B's account and principal id.
      assert.equal(rb.userIdentity.arn, `arn:aws:iam::${B}:root`);
      assert.deepEqual(ra.userIdentity, { type: 'AWSAccount', principalId: rb.userIdentity.principalId, accountId: B });
      // Everything else is the same call.
      for (const f of ['eventTime', 'eventSource', 'eventName', 'awsRegion', 'sourceIPAddress', 'requestID', 'readOnly', 'eventType']) assert.deepEqual(ra[f], rb[f], f);
      assert.deepEqual(ra.resources, rb.resources);
    }
    // A's own call is one record, without sharedEventID.
    const own = (await lookup(TEST_CREDENTIALS, 'CreateKey')).filter((r) => r.responseElements?.keyMetadata?.arn === keyArn);
    assert.equal(own.length, 1);
    assert.equal(own[0]!.sharedEventID, undefined);
  });

  it("B assuming A's role is told to both; an attempt on a role A does not have is told to B only", async () => {
    // A root user may not assume roles: an IAM user of B allowed sts:AssumeRole.
    await clients.iam(b).send(new CreateUserCommand({ UserName: 'traveller' }));
    await clients.iam(b).send(new PutUserPolicyCommand({ UserName: 'traveller', PolicyName: 'p', PolicyDocument: policyDocument(allow('sts:AssumeRole')) }));
    const ak = (await clients.iam(b).send(new CreateAccessKeyCommand({ UserName: 'traveller' }))).AccessKey!;
    const traveller = { accessKeyId: ak.AccessKeyId!, secretAccessKey: ak.SecretAccessKey! };
    await clients.sts(traveller).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${A}:role/shared`, RoleSessionName: 'visit' }));
    const missing = await rejection(clients.sts(traveller).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${A}:role/absent`, RoleSessionName: 'probe' })));
    assert.equal(missing.name, 'AccessDenied');
    const mine = await lookup(b, 'AssumeRole');
    const owners = await lookup(TEST_CREDENTIALS, 'AssumeRole');
    assert.deepEqual(mine.map((r) => r.requestParameters.roleArn).sort(), [`arn:aws:iam::${A}:role/absent`, `arn:aws:iam::${A}:role/shared`]);
    assert.deepEqual(owners.map((r) => r.requestParameters.roleArn), [`arn:aws:iam::${A}:role/shared`]);
    const visit = mine.find((r) => r.requestParameters.roleArn.endsWith('/shared'))!;
    assert.equal(owners[0]!.sharedEventID, visit.sharedEventID);
    assert.deepEqual(owners[0]!.userIdentity, { type: 'AWSAccount', principalId: visit.userIdentity.principalId, accountId: B });
    assert.equal(visit.userIdentity.userName, 'traveller');
    assert.equal(mine.find((r) => r.requestParameters.roleArn.endsWith('/absent'))!.sharedEventID, undefined);
  });

  it("each account's trail delivers its own copy, and only its own", async () => {
    let a: Record<string, any>[] = [];
    let bb: Record<string, any>[] = [];
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(150)) {
      a = await delivered(TEST_CREDENTIALS, 'a-trail-logs');
      bb = await delivered(b, 'b-trail-logs');
      const done = (rs: Record<string, any>[]) => ['Encrypt', 'Decrypt', 'AssumeRole'].every((n) => rs.some((r) => r.eventName === n && r.sharedEventID));
      if (done(a) && done(bb)) break;
    }
    for (const [records, account] of [[a, A], [bb, B]] as const) {
      assert.ok(records.length > 0);
      for (const r of records) assert.equal(r.recipientAccountId, account, `${r.eventName} in ${account}'s trail`);
      for (const n of ['Encrypt', 'Decrypt', 'AssumeRole']) assert.equal(records.filter((r) => r.eventName === n && r.sharedEventID).length, 1, `${n} delivered once to ${account}`);
    }
    const shared = (rs: Record<string, any>[]) => new Set(rs.filter((r) => r.sharedEventID).map((r) => r.sharedEventID as string));
    assert.deepEqual(shared(a), shared(bb));
  });

  it('strongroom audit verify passes over the copies', async () => {
    await server.stop();
    const res = spawnSync(process.execPath, ['bin/strongroom.js', 'audit', 'verify', '--data-dir', server.dataDir], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
  });
});

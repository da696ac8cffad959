import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, GetUserCommand, IAMClient, PutRolePolicyCommand, PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateKeyCommand, DescribeKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Clients, Credentials, allow, policyDocument, trustPolicy } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

/**
 * Issue 9 item 8: every service builds the request's condition keys the same way (services/request-conditions.ts),
 * so a Deny conditioned on a global key denies in KMS, S3, IAM, STS and CloudTrail alike — and a condition that
 * does not match the request's value denies in none (each row is checked both ways, so a key that is missing
 * or wrong in one service fails its row).
 */
type Condition = Record<string, Record<string, string | string[]>>;
interface Row {
  readonly key: string;
  /** True of every direct request this test's caller makes (plain HTTP from 127.0.0.1, AWS SDK for JavaScript). */
  readonly matches: Condition;
  readonly differs: Condition;
}

const USER = 'eve';
const USER_ARN = `arn:aws:iam::${TEST_ACCOUNT}:user/${USER}`;
const PAST = '2020-01-01T00:00:00Z';
const PAST_EPOCH = '1577836800';

const USER_ROWS: readonly Row[] = [
  { key: 'aws:UserAgent', matches: { StringLike: { 'aws:UserAgent': '*aws-sdk-js*' } }, differs: { StringLike: { 'aws:UserAgent': 'curl/*' } } },
  { key: 'aws:SourceIp', matches: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }, differs: { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } } },
  { key: 'aws:SecureTransport', matches: { Bool: { 'aws:SecureTransport': 'false' } }, differs: { Bool: { 'aws:SecureTransport': 'true' } } },
  { key: 'aws:CurrentTime', matches: { DateGreaterThan: { 'aws:CurrentTime': PAST } }, differs: { DateLessThan: { 'aws:CurrentTime': PAST } } },
  { key: 'aws:EpochTime', matches: { NumericGreaterThan: { 'aws:EpochTime': PAST_EPOCH } }, differs: { NumericLessThan: { 'aws:EpochTime': PAST_EPOCH } } },
  { key: 'aws:RequestedRegion', matches: { StringEquals: { 'aws:RequestedRegion': TEST_REGION } }, differs: { StringEquals: { 'aws:RequestedRegion': 'eu-west-3' } } },
  { key: 'aws:ViaAWSService', matches: { Bool: { 'aws:ViaAWSService': 'false' } }, differs: { Bool: { 'aws:ViaAWSService': 'true' } } },
  { key: 'aws:PrincipalIsAWSService', matches: { Bool: { 'aws:PrincipalIsAWSService': 'false' } }, differs: { Bool: { 'aws:PrincipalIsAWSService': 'true' } } },
  { key: 'aws:PrincipalArn', matches: { ArnEquals: { 'aws:PrincipalArn': USER_ARN } }, differs: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${TEST_ACCOUNT}:user/other` } } },
  { key: 'aws:PrincipalAccount', matches: { StringEquals: { 'aws:PrincipalAccount': TEST_ACCOUNT } }, differs: { StringEquals: { 'aws:PrincipalAccount': '444455556666' } } },
  { key: 'aws:PrincipalType', matches: { StringEquals: { 'aws:PrincipalType': 'User' } }, differs: { StringEquals: { 'aws:PrincipalType': 'AssumedRole' } } },
  { key: 'aws:userid', matches: { StringLike: { 'aws:userid': 'AIDA*' } }, differs: { StringLike: { 'aws:userid': 'AROA*' } } },
  { key: 'aws:username', matches: { StringEquals: { 'aws:username': USER } }, differs: { StringEquals: { 'aws:username': 'other' } } },
  // Present only for temporary credentials: a long-term access key's request has no aws:TokenIssueTime.
  { key: 'aws:TokenIssueTime (absent)', matches: { Null: { 'aws:TokenIssueTime': 'true' } }, differs: { Null: { 'aws:TokenIssueTime': 'false' } } },
];

/** One call per service, each authorized by the caller's identity-based policy; its denial's error name. */
interface ServiceCall {
  readonly service: string;
  readonly denied: string;
  call(): Promise<unknown>;
}

describe('global condition keys: one builder, the same in every service', () => {
  let server: TestServer;
  let clients: Clients;
  let rootIam: IAMClient;
  let keyId: string;
  let eve: Credentials;
  const bucket = 'condition-keys';
  const made: { destroy(): void }[] = [];

  const callsAs = (credentials: Credentials): ServiceCall[] => {
    const kms = clients.kms(credentials);
    const s3 = new S3Client({ endpoint: server.url, region: TEST_REGION, credentials, forcePathStyle: true, maxAttempts: 1 });
    const trail = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials, maxAttempts: 1 });
    made.push(s3, trail);
    return [
      { service: 'KMS', denied: 'AccessDeniedException', call: () => kms.send(new DescribeKeyCommand({ KeyId: keyId })) },
      { service: 'S3', denied: 'AccessDenied', call: () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' })) },
      { service: 'IAM', denied: 'AccessDenied', call: () => clients.iam(credentials).send(new GetUserCommand({ UserName: USER })) },
      {
        service: 'STS',
        denied: 'AccessDenied',
        call: () => clients.sts(credentials).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/target`, RoleSessionName: 'table-row' })),
      },
      { service: 'CloudTrail', denied: 'AccessDeniedException', call: () => trail.send(new LookupEventsCommand({ MaxResults: 1 })) },
    ];
  };

  const outcome = async (c: ServiceCall): Promise<string> => {
    try {
      await c.call();
      return 'allowed';
    } catch (err) {
      return (err as Error).name;
    }
  };

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    rootIam = clients.iam();
    keyId = (await clients.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const rootS3 = server.s3();
    await rootS3.send(new CreateBucketCommand({ Bucket: bucket }));
    await rootIam.send(new CreateRoleCommand({ RoleName: 'target', AssumeRolePolicyDocument: trustPolicy(TEST_ACCOUNT) }));
    await rootIam.send(new CreateUserCommand({ UserName: USER }));
    const { AccessKey } = await rootIam.send(new CreateAccessKeyCommand({ UserName: USER }));
    eve = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
  });
  after(async () => {
    for (const c of made) c.destroy();
    clients.destroy();
    await server.destroy();
  });

  it('a Deny on each global key denies the IAM user in KMS, S3, IAM, STS and CloudTrail; the same Deny on another value denies in none', async () => {
    const calls = callsAs(eve);
    await rootIam.send(new PutUserPolicyCommand({ UserName: USER, PolicyName: 'all', PolicyDocument: policyDocument(allow('*')) }));
    const setDeny = (condition: Condition) =>
      rootIam.send(new PutUserPolicyCommand({ UserName: USER, PolicyName: 'deny', PolicyDocument: policyDocument({ Effect: 'Deny', Action: '*', Resource: '*', Condition: condition }) }));
    const wrong: string[] = [];
    for (const row of USER_ROWS) {
      await setDeny(row.matches);
      for (const c of calls) {
        const got = await outcome(c);
        if (got !== c.denied) wrong.push(`${row.key} matching: ${c.service} answered ${got}, expected ${c.denied}`);
      }
      await setDeny(row.differs);
      for (const c of calls) {
        const got = await outcome(c);
        if (got !== 'allowed') wrong.push(`${row.key} not matching: ${c.service} answered ${got}, expected allowed`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('a role session carries aws:TokenIssueTime and aws:PrincipalType AssumedRole in every service', async () => {
    await rootIam.send(new CreateRoleCommand({ RoleName: 'worker', AssumeRolePolicyDocument: trustPolicy(TEST_ACCOUNT) }));
    await rootIam.send(new PutRolePolicyCommand({ RoleName: 'worker', PolicyName: 'all', PolicyDocument: policyDocument(allow('*')) }));
    await rootIam.send(new PutUserPolicyCommand({ UserName: USER, PolicyName: 'deny', PolicyDocument: policyDocument(allow('*')) }));
    // The user (allowed everything by now) assumes the role; the session is the caller below.
    const sts = clients.sts(eve);
    const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/worker`, RoleSessionName: 'worker-session' }));
    const calls = callsAs({ accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! });
    const rows: readonly Row[] = [
      { key: 'aws:TokenIssueTime', matches: { DateGreaterThan: { 'aws:TokenIssueTime': PAST } }, differs: { DateLessThan: { 'aws:TokenIssueTime': PAST } } },
      { key: 'aws:PrincipalType', matches: { StringEquals: { 'aws:PrincipalType': 'AssumedRole' } }, differs: { StringEquals: { 'aws:PrincipalType': 'User' } } },
    ];
    const wrong: string[] = [];
    for (const row of rows) {
      for (const [condition, expectDenied] of [[row.matches, true], [row.differs, false]] as const) {
        await rootIam.send(new PutRolePolicyCommand({ RoleName: 'worker', PolicyName: 'deny', PolicyDocument: policyDocument({ Effect: 'Deny', Action: '*', Resource: '*', Condition: condition }) }));
        for (const call of calls) {
          const got = await outcome(call);
          const want = expectDenied ? call.denied : 'allowed';
          if (got !== want) wrong.push(`${row.key} ${expectDenied ? 'matching' : 'not matching'}: ${call.service} answered ${got}, expected ${want}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('KMS called by S3 for the user (SSE-KMS) sees the same keys, with aws:ViaAWSService true and kms:ViaService s3.<region>', async () => {
    const s3 = new S3Client({ endpoint: server.url, region: TEST_REGION, credentials: eve, forcePathStyle: true, maxAttempts: 1 });
    made.push(s3);
    const put = () => outcome({ service: 'S3→KMS', denied: 'AccessDenied', call: () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sse', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId })) });
    const rows: readonly Row[] = [
      { key: 'aws:ViaAWSService', matches: { Bool: { 'aws:ViaAWSService': 'true' } }, differs: { Bool: { 'aws:ViaAWSService': 'false' } } },
      { key: 'kms:ViaService', matches: { StringEquals: { 'kms:ViaService': `s3.${TEST_REGION}.amazonaws.com` } }, differs: { StringEquals: { 'kms:ViaService': `ec2.${TEST_REGION}.amazonaws.com` } } },
      { key: 'kms:CallerAccount', matches: { StringEquals: { 'kms:CallerAccount': TEST_ACCOUNT } }, differs: { StringEquals: { 'kms:CallerAccount': '444455556666' } } },
      { key: 'aws:CurrentTime', matches: { DateGreaterThan: { 'aws:CurrentTime': PAST } }, differs: { DateLessThan: { 'aws:CurrentTime': PAST } } },
      { key: 'aws:RequestedRegion', matches: { StringEquals: { 'aws:RequestedRegion': TEST_REGION } }, differs: { StringEquals: { 'aws:RequestedRegion': 'eu-west-3' } } },
      { key: 'aws:PrincipalArn', matches: { ArnEquals: { 'aws:PrincipalArn': USER_ARN } }, differs: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${TEST_ACCOUNT}:user/other` } } },
      // The calling service's address is not the user's: an IpAddress condition on the user's network does not match.
      { key: 'aws:SourceIp', matches: { NotIpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }, differs: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } },
    ];
    const wrong: string[] = [];
    for (const row of rows) {
      for (const [condition, expectDenied] of [[row.matches, true], [row.differs, false]] as const) {
        // Only KMS's actions are denied: S3 lets the user in, and KMS (called by S3) refuses or not.
        await rootIam.send(
          new PutUserPolicyCommand({ UserName: USER, PolicyName: 'deny', PolicyDocument: policyDocument({ Effect: 'Deny', Action: 'kms:*', Resource: '*', Condition: condition }) }),
        );
        const got = await put();
        const want = expectDenied ? 'AccessDenied' : 'allowed';
        if (got !== want) wrong.push(`${row.key} ${expectDenied ? 'matching' : 'not matching'}: S3 SSE-KMS PutObject answered ${got}, expected ${want}`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});

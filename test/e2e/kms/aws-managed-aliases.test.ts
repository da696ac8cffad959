import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, GetKeyPolicyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PREDEFINED_AWS_ALIASES } from '../../../src/core/kms/aliases.js';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

const arnOf = (name: string) => `arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:${name}`;

/**
 * AWS's predefined `alias/aws/*` aliases as ListAliases shows them (without TargetKeyId until the AWS managed key
 * exists), and the AWS managed keys of the services Strongroom serves: aws/s3 (S3), aws/ebs (EBS volumes), each
 * made on first use through one path (KmsClient.awsManagedKeyArn, claimed under a lease).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ListAliases.html
 */
describe('KMS predefined AWS aliases and AWS managed keys', () => {
  let server: TestServer;
  let kms: KMSClient;

  before(async () => {
    server = await startServer();
    kms = server.kms();
  });
  after(() => server.destroy());

  const listAll = async (Limit?: number, KeyId?: string) => {
    const out: { AliasName?: string; AliasArn?: string; TargetKeyId?: string; CreationDate?: Date; LastUpdatedDate?: Date }[] = [];
    let Marker: string | undefined;
    do {
      const page = await kms.send(new ListAliasesCommand({ Limit, Marker, KeyId }));
      out.push(...(page.Aliases ?? []));
      Marker = page.Truncated ? page.NextMarker : undefined;
    } while (Marker);
    return out;
  };

  it('a fresh account lists every predefined alias with only its AliasName and AliasArn (no key, no dates)', async () => {
    const aliases = await listAll();
    assert.deepEqual(aliases.map((a) => a.AliasName), [...PREDEFINED_AWS_ALIASES]);
    for (const a of aliases) assert.deepEqual(a, { AliasName: a.AliasName, AliasArn: arnOf(a.AliasName!) });
    assert.ok(PREDEFINED_AWS_ALIASES.includes('alias/aws/ebs') && PREDEFINED_AWS_ALIASES.includes('alias/aws/dynamodb'));
  });

  it('the aws CLI\'s kms list-aliases shows them as the SDK does', async () => {
    // Asynchronously: the server answers from this very process.
    const { stdout } = await promisify(execFile)('/usr/bin/aws', ['--endpoint-url', server.url, '--output', 'json', 'kms', 'list-aliases'], { env: awsClientEnv(), timeout: 60_000 });
    const out = JSON.parse(stdout) as { Aliases: Record<string, unknown>[] };
    const rds = out.Aliases.find((a) => a.AliasName === 'alias/aws/rds');
    assert.deepEqual(rds, { AliasName: 'alias/aws/rds', AliasArn: arnOf('alias/aws/rds') });
  });

  it('pages of any Limit list each alias once in name order, customer aliases among the predefined ones; a key\'s listing has none', async () => {
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const customer = ['alias/a1', 'alias/awsome', 'alias/aws-like', 'alias/zz'];
    for (const AliasName of customer) await kms.send(new CreateAliasCommand({ AliasName, TargetKeyId: key }));
    const expected = [...customer, ...PREDEFINED_AWS_ALIASES].sort();
    for (const limit of [1, 2, 3, 5, 8, 13, 50]) {
      assert.deepEqual((await listAll(limit)).map((a) => a.AliasName), expected, `Limit ${limit}`);
    }
    assert.deepEqual((await listAll(undefined, key)).map((a) => a.AliasName), customer.slice().sort());
  });

  it('once S3 makes aws/s3 it is listed once, with its key and dates; the other predefined ones stay keyless', async () => {
    const s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'managed-aliases' }));
    const put = await s3.send(new PutObjectCommand({ Bucket: 'managed-aliases', Key: 'o', Body: 'x', ServerSideEncryption: 'aws:kms' }));
    const keyArn = put.SSEKMSKeyId!;
    const aliases = await listAll(4);
    const s3Aliases = aliases.filter((a) => a.AliasName === 'alias/aws/s3');
    assert.equal(s3Aliases.length, 1);
    assert.equal(arnOf(`key/${s3Aliases[0]!.TargetKeyId}`), keyArn);
    assert.ok(s3Aliases[0]!.CreationDate instanceof Date && s3Aliases[0]!.LastUpdatedDate instanceof Date);
    assert.deepEqual(aliases.filter((a) => a.AliasName!.startsWith('alias/aws/') && a.TargetKeyId !== undefined).map((a) => a.AliasName), ['alias/aws/s3']);
    assert.deepEqual((await listAll(undefined, keyArn)).map((a) => a.AliasName), ['alias/aws/s3']);
  });

  it('aws/ebs is made on first use through the same path as aws/s3: once under concurrent first uses, KeyManager AWS, AWS\'s EBS description and key policy (through EC2, with grants), a CreateKey record', async () => {
    const request = {
      requestId: randomUUID(),
      principal: { type: 'Root' as const, accountId: TEST_ACCOUNT, arn: `arn:aws:iam::${TEST_ACCOUNT}:root`, principalId: TEST_ACCOUNT, accessKeyId: TEST_CREDENTIALS.accessKeyId },
      region: TEST_REGION,
      sourceIp: '127.0.0.1',
      userAgent: 'test',
      secureTransport: false,
    };
    const caller = { request, viaService: `ec2.${TEST_REGION}.amazonaws.com` };
    const arns = await Promise.all([1, 2, 3].map(() => server.app.kmsClient.awsManagedKeyArn(caller, 'ebs')));
    assert.equal(new Set(arns).size, 1);
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ebs' }))).KeyMetadata!;
    assert.equal(meta.Arn, arns[0]);
    assert.equal(meta.KeyManager, 'AWS');
    assert.equal(meta.Description, 'Default key that protects my EBS volumes when no other key is defined');
    const policy = JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: meta.KeyId, PolicyName: 'default' }))).Policy!) as {
      Id: string;
      Statement: { Sid: string; Action: string[]; Condition?: { StringEquals: Record<string, string> } }[];
    };
    assert.equal(policy.Id, 'auto-ebs-2');
    assert.equal(policy.Statement[0]!.Sid, 'Allow access through EBS for all principals in the account that are authorized to use EBS');
    assert.ok(policy.Statement[0]!.Action.includes('kms:CreateGrant'));
    assert.deepEqual(policy.Statement[0]!.Condition!.StringEquals, { 'kms:CallerAccount': TEST_ACCOUNT, 'kms:ViaService': `ec2.${TEST_REGION}.amazonaws.com` });
    assert.ok(policy.Statement[1]!.Action.includes('kms:RevokeGrant'));
    const listed = (await listAll()).filter((a) => a.AliasName === 'alias/aws/ebs');
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.TargetKeyId, meta.KeyId);
    const trail = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    try {
      const events = (await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: meta.Arn! }], MaxResults: 50 }))).Events ?? [];
      const creations = events.map((e) => JSON.parse(e.CloudTrailEvent!) as { eventName: string; userIdentity: { invokedBy?: string } }).filter((r) => r.eventName === 'CreateKey');
      assert.equal(creations.length, 1);
      assert.equal(creations[0]!.userIdentity.invokedBy, 'ec2.amazonaws.com');
    } finally {
      trail.destroy();
    }
  });
});

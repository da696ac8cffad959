// The CloudTrail trails API end to end with @aws-sdk/client-cloudtrail: CreateTrail/GetTrail/DescribeTrails/
// GetTrailStatus/StartLogging/StopLogging/DeleteTrail, event selectors, ListPublicKeys (DER PKCS#1 keys whose MD5
// is the fingerprint), the errors of botocore's model, home regions, and cloudtrail:* authorization of IAM users.
import {
  CloudTrailClient, CreateTrailCommand, DeleteTrailCommand, DescribeTrailsCommand, GetEventSelectorsCommand, GetTrailCommand,
  GetTrailStatusCommand, ListPublicKeysCommand, PutEventSelectorsCommand, StartLoggingCommand, StopLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Clients, Credentials, allow, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TestServer, rejection, startServer } from '../../helpers/server.js';

describe('CloudTrail trails API', () => {
  let server: TestServer;
  const made: CloudTrailClient[] = [];
  const ct = (region = 'us-east-1', credentials: Credentials = TEST_CREDENTIALS) => {
    const c = new CloudTrailClient({ endpoint: server.url, region, credentials, maxAttempts: 1 });
    made.push(c);
    return c;
  };
  const arnOf = (name: string, region = 'us-east-1') => `arn:aws:cloudtrail:${region}:${TEST_ACCOUNT}:trail/${name}`;

  before(async () => {
    server = await startServer({ regions: 'us-east-1,us-west-2' });
    // The trails' bucket, open to CloudTrail (any trail, any prefix) as AWS's documented policy has it.
    await server.s3().send(new CreateBucketCommand({ Bucket: 'audit-bucket' }));
    const cloudTrail = { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' } };
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { ...cloudTrail, Action: 's3:GetBucketAcl', Resource: 'arn:aws:s3:::audit-bucket' },
        { ...cloudTrail, Action: 's3:PutObject', Resource: 'arn:aws:s3:::audit-bucket/*', Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } },
      ],
    });
    await server.s3().send(new PutBucketPolicyCommand({ Bucket: 'audit-bucket', Policy }));
  });
  after(async () => {
    for (const c of made) c.destroy();
    await server.destroy();
  });

  it('CreateTrail answers the trail with AWS defaults; GetTrail and DescribeTrails show it, by name or ARN', async () => {
    const out = await ct().send(new CreateTrailCommand({ Name: 'main', S3BucketName: 'audit-bucket', S3KeyPrefix: 'logs', EnableLogFileValidation: true }));
    assert.equal(out.Name, 'main');
    assert.equal(out.TrailARN, arnOf('main'));
    assert.equal(out.S3BucketName, 'audit-bucket');
    assert.equal(out.S3KeyPrefix, 'logs');
    assert.equal(out.IncludeGlobalServiceEvents, true);
    assert.equal(out.IsMultiRegionTrail, false);
    assert.equal(out.LogFileValidationEnabled, true);
    assert.equal(out.IsOrganizationTrail, false);
    for (const name of ['main', arnOf('main')]) {
      const { Trail } = await ct().send(new GetTrailCommand({ Name: name }));
      assert.equal(Trail!.TrailARN, arnOf('main'));
      assert.equal(Trail!.HomeRegion, 'us-east-1');
      assert.equal(Trail!.HasCustomEventSelectors, false);
    }
    const { trailList } = await ct().send(new DescribeTrailsCommand({}));
    assert.deepEqual(trailList!.map((t) => t.Name), ['main']);
    assert.deepEqual((await ct().send(new DescribeTrailsCommand({ trailNameList: [arnOf('main'), 'nope'] }))).trailList!.map((t) => t.Name), ['main']);
  });

  it("errors are botocore's: TrailAlreadyExists, InvalidTrailName, TrailNotFound, CloudTrailARNInvalid, InvalidS3BucketName, Unsupported", async () => {
    const cases: [Promise<unknown>, string][] = [
      [ct().send(new CreateTrailCommand({ Name: 'main', S3BucketName: 'audit-bucket' })), 'TrailAlreadyExistsException'],
      [ct().send(new CreateTrailCommand({ Name: 'my._trail', S3BucketName: 'audit-bucket' })), 'InvalidTrailNameException'],
      [ct().send(new CreateTrailCommand({ Name: 'ab', S3BucketName: 'audit-bucket' })), 'InvalidTrailNameException'],
      [ct().send(new CreateTrailCommand({ Name: '10.0.0.1', S3BucketName: 'audit-bucket' })), 'InvalidTrailNameException'],
      [ct().send(new CreateTrailCommand({ Name: 'other', S3BucketName: 'Bad_Bucket' })), 'InvalidS3BucketNameException'],
      [ct().send(new CreateTrailCommand({ Name: 'other', S3BucketName: 'no-such-bucket' })), 'S3BucketDoesNotExistException'],
      [ct().send(new CreateTrailCommand({ Name: 'other', S3BucketName: 'audit-bucket', SnsTopicName: 't' })), 'UnsupportedOperationException'],
      [ct().send(new GetTrailCommand({ Name: 'missing' })), 'TrailNotFoundException'],
      [ct().send(new GetTrailCommand({ Name: 'arn:aws:cloudtrail:nowhere' })), 'CloudTrailARNInvalidException'],
      [ct().send(new GetTrailStatusCommand({ Name: arnOf('main', 'us-west-2') })), 'TrailNotFoundException'],
      [ct().send(new DeleteTrailCommand({ Name: 'missing' })), 'TrailNotFoundException'],
    ];
    for (const [p, code] of cases) assert.equal((await rejection(p)).name, code);
    const msg = (await rejection(ct().send(new GetTrailCommand({ Name: 'missing' })))).message;
    assert.equal(msg, `Unknown trail: ${arnOf('missing')} for the user: ${TEST_ACCOUNT}`);
  });

  it('StartLogging / StopLogging show in GetTrailStatus; only from the home region; a single-region trail is not seen elsewhere', async () => {
    assert.equal((await ct().send(new GetTrailStatusCommand({ Name: 'main' }))).IsLogging, false);
    await ct().send(new StartLoggingCommand({ Name: 'main' }));
    const on = await ct().send(new GetTrailStatusCommand({ Name: 'main' }));
    assert.equal(on.IsLogging, true);
    assert.ok(Math.abs(on.StartLoggingTime!.getTime() - Date.now()) < 60_000);
    await ct().send(new StopLoggingCommand({ Name: 'main' }));
    const off = await ct().send(new GetTrailStatusCommand({ Name: 'main' }));
    assert.equal(off.IsLogging, false);
    assert.ok(off.StopLoggingTime!.getTime() >= on.StartLoggingTime!.getTime());
    assert.equal((await rejection(ct('us-west-2').send(new GetTrailCommand({ Name: 'main' })))).name, 'TrailNotFoundException');
    // A multi-region trail is seen (as a shadow trail) from every region, and changed only from its home.
    await ct().send(new CreateTrailCommand({ Name: 'everywhere', S3BucketName: 'audit-bucket', IsMultiRegionTrail: true }));
    const west = (await ct('us-west-2').send(new DescribeTrailsCommand({}))).trailList!;
    assert.deepEqual(west.map((t) => [t.Name, t.HomeRegion]), [['everywhere', 'us-east-1']]);
    assert.deepEqual((await ct('us-west-2').send(new DescribeTrailsCommand({ includeShadowTrails: false }))).trailList, []);
    assert.equal((await rejection(ct('us-west-2').send(new StartLoggingCommand({ Name: 'everywhere' })))).name, 'InvalidHomeRegionException');
    assert.equal((await rejection(ct('us-west-2').send(new CreateTrailCommand({ Name: 'everywhere', S3BucketName: 'audit-bucket' })))).name, 'TrailAlreadyExistsException');
  });

  it('event selectors: all management events by default; PutEventSelectors replaces them; not both kinds', async () => {
    const before = await ct().send(new GetEventSelectorsCommand({ TrailName: 'main' }));
    assert.equal(before.TrailARN, arnOf('main'));
    assert.deepEqual(before.EventSelectors, [{ ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] }]);
    const selectors = [{ ReadWriteType: 'WriteOnly' as const, IncludeManagementEvents: true, DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::data/'] }] }];
    const put = await ct().send(new PutEventSelectorsCommand({ TrailName: 'main', EventSelectors: selectors }));
    assert.equal(put.EventSelectors![0]!.ReadWriteType, 'WriteOnly');
    const after = await ct().send(new GetEventSelectorsCommand({ TrailName: arnOf('main') }));
    assert.deepEqual(after.EventSelectors![0]!.DataResources, selectors[0]!.DataResources);
    assert.equal((await ct().send(new GetTrailCommand({ Name: 'main' }))).Trail!.HasCustomEventSelectors, true);
    assert.equal(
      (await rejection(ct().send(new PutEventSelectorsCommand({ TrailName: 'main', EventSelectors: selectors, AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }] }] })))).name,
      'InvalidParameterCombinationException',
    );
    assert.equal(
      (await rejection(ct().send(new PutEventSelectorsCommand({ TrailName: 'main', EventSelectors: [{ DataResources: [{ Type: 'AWS::Lambda::Function', Values: ['x'] }] }] })))).name,
      'InvalidEventSelectorsException',
    );
  });

  it('ListPublicKeys: a DER PKCS#1 RSA 2048 key per region, fingerprint = MD5 of it, validity around now', async () => {
    const { PublicKeyList } = await ct().send(new ListPublicKeysCommand({}));
    assert.equal(PublicKeyList!.length, 1);
    const k = PublicKeyList![0]!;
    const der = Buffer.from(k.Value!);
    const key = createPublicKey({ key: der, format: 'der', type: 'pkcs1' });
    assert.equal(key.asymmetricKeyType, 'rsa');
    assert.equal(key.asymmetricKeyDetails!.modulusLength, 2048);
    assert.equal(k.Fingerprint, createHash('md5').update(der).digest('hex'));
    assert.ok(k.ValidityStartTime!.getTime() <= Date.now() && k.ValidityEndTime!.getTime() > Date.now());
    // The same key again, and another one in another region.
    assert.equal((await ct().send(new ListPublicKeysCommand({ StartTime: new Date(Date.now() - 3_600_000), EndTime: new Date() }))).PublicKeyList![0]!.Fingerprint, k.Fingerprint);
    assert.notEqual((await ct('us-west-2').send(new ListPublicKeysCommand({}))).PublicKeyList![0]!.Fingerprint, k.Fingerprint);
    assert.equal((await rejection(ct().send(new ListPublicKeysCommand({ StartTime: new Date(), EndTime: new Date(Date.now() - 60_000) })))).name, 'InvalidTimeRangeException');
  });

  it('an IAM user needs cloudtrail:<Action> on the trail; DeleteTrail removes it', async () => {
    const clients = new Clients(server);
    try {
      const iam = clients.iam();
      await iam.send(new CreateUserCommand({ UserName: 'auditor' }));
      await iam.send(new PutUserPolicyCommand({ UserName: 'auditor', PolicyName: 'p', PolicyDocument: policyDocument(allow('cloudtrail:GetTrail', arnOf('main'))) }));
      const ak = (await iam.send(new CreateAccessKeyCommand({ UserName: 'auditor' }))).AccessKey!;
      const auditor = { accessKeyId: ak.AccessKeyId!, secretAccessKey: ak.SecretAccessKey! };
      assert.equal((await ct('us-east-1', auditor).send(new GetTrailCommand({ Name: 'main' }))).Trail!.Name, 'main');
      const denied = await rejection(ct('us-east-1', auditor).send(new DeleteTrailCommand({ Name: 'main' })));
      assert.equal(denied.name, 'AccessDeniedException');
      assert.match(denied.message, /cloudtrail:DeleteTrail/);
    } finally {
      clients.destroy();
    }
    await ct().send(new DeleteTrailCommand({ Name: 'main' }));
    assert.equal((await rejection(ct().send(new GetTrailCommand({ Name: 'main' })))).name, 'TrailNotFoundException');
  });
});

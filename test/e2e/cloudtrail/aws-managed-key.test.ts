// The creation of the aws/s3 AWS managed key is recorded like any key creation when CloudTrail is the one
// that needs it (a trail delivering into a bucket whose default encryption is SSE-KMS without a key): a
// CreateKey record made by the service (userIdentity AWSService cloudtrail.amazonaws.com), with CreateKey's
// request parameters and the new key's metadata (https://docs.aws.amazon.com/kms/latest/developerguide/ct-createkey.html).
// Read back with @aws-sdk/client-cloudtrail LookupEvents.
import { CloudTrailClient, CreateTrailCommand, LookupEventsCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateUserCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutBucketEncryptionCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Clients } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, startServer } from '../../helpers/server.js';

const BUCKET = 'managed-key-logs';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('aws/s3 made for a trail delivery', () => {
  it('is recorded as a CreateKey by cloudtrail.amazonaws.com, once, with the new key’s metadata', async () => {
    const server = await startServer({ trails: { logIntervalMs: 300, digestIntervalMs: 60_000 } });
    const clients = new Clients(server);
    const s3 = new S3Client({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true });
    const ct = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    try {
      const cloudTrail = { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' } };
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      await s3.send(
        new PutBucketPolicyCommand({
          Bucket: BUCKET,
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { ...cloudTrail, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${BUCKET}` },
              { ...cloudTrail, Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/AWSLogs/${TEST_ACCOUNT}/*` },
            ],
          }),
        }),
      );
      // SSE-KMS by default, no key named: S3 means aws/s3, which does not exist yet.
      await s3.send(new PutBucketEncryptionCommand({ Bucket: BUCKET, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } }));
      await ct.send(new CreateTrailCommand({ Name: 'managed', S3BucketName: BUCKET }));
      await ct.send(new StartLoggingCommand({ Name: 'managed' }));
      await clients.iam().send(new CreateUserCommand({ UserName: 'something-to-deliver' }));

      const created = async () =>
        ((await ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateKey' }] }))).Events ?? [])
          .map((e) => JSON.parse(e.CloudTrailEvent!))
          .filter((r) => r.userIdentity.type === 'AWSService');
      const deadline = Date.now() + 20_000;
      while ((await created()).length === 0) {
        if (Date.now() > deadline) assert.fail('no CreateKey record for aws/s3');
        await sleep(100);
      }
      await sleep(1_000); // more delivery attempts: still one creation
      const records = await created();
      assert.equal(records.length, 1);
      const r = records[0]!;
      const managed = (await clients.kms().send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!;
      assert.deepEqual(r.userIdentity, { type: 'AWSService', invokedBy: 'cloudtrail.amazonaws.com' });
      assert.equal(r.eventSource, 'kms.amazonaws.com');
      assert.equal(r.eventType, 'AwsApiCall');
      assert.equal(r.sourceIPAddress, 'cloudtrail.amazonaws.com');
      assert.equal(r.awsRegion, TEST_REGION);
      assert.equal(r.readOnly, false);
      assert.equal(r.recipientAccountId, TEST_ACCOUNT);
      assert.equal(r.requestParameters.description, managed.Description);
      assert.equal(r.requestParameters.keySpec, 'SYMMETRIC_DEFAULT');
      assert.equal(r.responseElements.keyMetadata.arn, managed.Arn);
      assert.equal(r.responseElements.keyMetadata.keyManager, 'AWS');
      assert.deepEqual(r.resources, [{ accountId: TEST_ACCOUNT, type: 'AWS::KMS::Key', ARN: managed.Arn }]);
    } finally {
      s3.destroy();
      ct.destroy();
      clients.destroy();
      await server.destroy();
    }
  });
});

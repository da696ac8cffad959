import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

/** Every record the audit chain holds, oldest first (read beside the running server; WAL lets readers in). */
function chain(dataDir: string): Record<string, any>[] {
  const db = new Database(join(dataDir, 'strongroom.db'), { readonly: true });
  try {
    return (db.prepare('SELECT record FROM audit_events ORDER BY seq').all() as { record: string }[]).map((r) => JSON.parse(r.record));
  } finally {
    db.close();
  }
}

describe('S3 calls in the audit trail', () => {
  let server: TestServer;
  let s3: S3Client;
  let trail: CloudTrailClient;
  before(async () => {
    server = await startServer();
    s3 = server.s3();
    trail = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: 'audited' }));
    await s3.send(new PutObjectCommand({ Bucket: 'audited', Key: 'report.pdf', Body: 'pdf', ServerSideEncryption: 'aws:kms' }));
    await (await s3.send(new GetObjectCommand({ Bucket: 'audited', Key: 'report.pdf' }))).Body!.transformToString();
  });
  after(async () => {
    trail.destroy();
    await server.destroy();
  });

  it('records an object PUT as a data event in CloudTrail S3 shape, and the KMS call S3 made as the user, invoked by S3', () => {
    const records = chain(server.dataDir);
    const put = records.find((r) => r.eventName === 'PutObject')!;
    assert.equal(put.eventSource, 's3.amazonaws.com');
    assert.equal(put.eventCategory, 'Data');
    assert.equal(put.managementEvent, false);
    assert.deepEqual({ bucketName: put.requestParameters.bucketName, key: put.requestParameters.key, sse: put.requestParameters['x-amz-server-side-encryption'] }, { bucketName: 'audited', key: 'report.pdf', sse: 'aws:kms' });
    assert.equal(put.responseElements['x-amz-server-side-encryption'], 'aws:kms');
    assert.match(put.responseElements['x-amz-server-side-encryption-aws-kms-key-id'], /^arn:aws:kms:/);
    assert.deepEqual(put.resources, [
      { type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::audited/report.pdf' },
      { accountId: TEST_ACCOUNT, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::audited' },
    ]);
    assert.equal(put.additionalEventData.SignatureVersion, 'SigV4');
    assert.equal(put.additionalEventData.AuthenticationMethod, 'AuthHeader');
    assert.equal(put.additionalEventData.bytesTransferredIn, 3);

    const gdk = records.find((r) => r.eventName === 'GenerateDataKey')!;
    assert.equal(gdk.userIdentity.arn, `arn:aws:iam::${TEST_ACCOUNT}:root`);
    assert.equal(gdk.userIdentity.invokedBy, 's3.amazonaws.com');
    assert.equal(gdk.sourceIPAddress, 's3.amazonaws.com');
    assert.deepEqual(gdk.requestParameters.encryptionContext, { 'aws:s3:arn': 'arn:aws:s3:::audited/report.pdf' });
    const decrypt = records.find((r) => r.eventName === 'Decrypt')!;
    assert.equal(decrypt.userIdentity.invokedBy, 's3.amazonaws.com');
    // The record of the PUT comes after the KMS call it caused (committed before the answer).
    assert.ok(records.indexOf(put) > records.indexOf(gdk));
  });

  it('LookupEvents shows management events (CreateBucket, the KMS calls) but not data events, as AWS', async () => {
    const names = (await trail.send(new LookupEventsCommand({ MaxResults: 50 }))).Events!.map((e) => e.EventName);
    assert.ok(names.includes('CreateBucket'));
    assert.ok(names.includes('GenerateDataKey'));
    assert.ok(!names.includes('PutObject'));
    assert.ok(!names.includes('GetObject'));
    const byName = await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'PutObject' }] }));
    assert.deepEqual(byName.Events, []);
  });
});

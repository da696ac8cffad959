// KMS's own transitions are recorded as CloudTrail AwsServiceEvent records, field by field as AWS documents them:
// automatic and on-demand rotation (https://docs.aws.amazon.com/kms/latest/developerguide/ct-rotatekey.html) and
// deletion at the end of the waiting period (https://docs.aws.amazon.com/kms/latest/developerguide/ct-delete-key.html).
// The domain clock is moved to make them due; @aws-sdk/client-cloudtrail reads them back with LookupEvents.
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateKeyCommand, DescribeKeyCommand, EnableKeyRotationCommand, RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuditSink } from '../../../src/core/audit/audit-log.js';
import { DAY_MS, ManualClock } from '../../../src/core/clock.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

type Json = Record<string, any>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

async function events(server: TestServer, eventName: string) {
  const t = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  try {
    return (await t.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: eventName }] }))).Events ?? [];
  } finally {
    t.destroy();
  }
}

/** The fields every KMS service event has in AWS's examples, with this key. */
function assertServiceEvent(r: Json, eventName: string, keyArn: string): void {
  assert.equal(r.eventVersion, '1.11');
  assert.deepEqual(r.userIdentity, { accountId: TEST_ACCOUNT, invokedBy: 'AWS Internal' });
  assert.match(r.eventTime, TIME);
  assert.equal(r.eventSource, 'kms.amazonaws.com');
  assert.equal(r.eventName, eventName);
  assert.equal(r.awsRegion, TEST_REGION);
  assert.equal(r.sourceIPAddress, 'AWS Internal');
  assert.equal(r.userAgent, 'AWS Internal');
  assert.equal(r.requestParameters, null);
  assert.equal(r.responseElements, null);
  assert.match(r.eventID, UUID);
  assert.equal(r.readOnly, false);
  assert.deepEqual(r.resources, [{ accountId: TEST_ACCOUNT, type: 'AWS::KMS::Key', ARN: keyArn }]);
  assert.equal(r.eventType, 'AwsServiceEvent');
  assert.equal(r.managementEvent, true);
  assert.equal(r.recipientAccountId, TEST_ACCOUNT);
  assert.equal(r.eventCategory, 'Management');
  assert.equal(r.requestID, undefined, 'no request behind a service event');
  assert.equal(r.tlsDetails, undefined);
}

describe('AwsServiceEvent records of KMS rotation and deletion', () => {
  it('automatic rotation is a RotateKey event with rotationType AUTOMATIC; RotateKeyOnDemand adds one with ON_DEMAND', async () => {
    const clock = new ManualClock();
    const server = await startServer({ clock });
    try {
      const kms = server.kms();
      const { KeyId, Arn } = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      await kms.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 90 }));
      assert.deepEqual(await events(server, 'RotateKey'), []);
      clock.advance(91 * DAY_MS);
      await server.app.kms.lifecycle.sweep();
      const [auto] = await events(server, 'RotateKey');
      assert.ok(auto, 'a RotateKey record');
      const r = JSON.parse(auto.CloudTrailEvent!) as Json;
      assertServiceEvent(r, 'RotateKey', Arn!);
      assert.deepEqual(Object.keys(r).sort(), [
        'awsRegion', 'eventCategory', 'eventID', 'eventName', 'eventSource', 'eventTime', 'eventType', 'eventVersion', 'managementEvent', 'readOnly',
        'recipientAccountId', 'requestParameters', 'resources', 'responseElements', 'serviceEventDetails', 'sourceIPAddress', 'userAgent', 'userIdentity',
      ]);
      assert.deepEqual(r.serviceEventDetails, { rotationType: 'AUTOMATIC', keyId: KeyId });
      // LookupEvents' summary of an event no principal made: no user name, no access key.
      assert.equal(auto.Username, undefined);
      assert.equal(auto.AccessKeyId, undefined);
      assert.deepEqual(auto.Resources, [{ ResourceType: 'AWS::KMS::Key', ResourceName: Arn }]);

      await kms.send(new RotateKeyOnDemandCommand({ KeyId }));
      const rotations = (await events(server, 'RotateKey')).map((e) => JSON.parse(e.CloudTrailEvent!) as Json);
      assert.deepEqual(rotations.map((x) => x.serviceEventDetails.rotationType), ['ON_DEMAND', 'AUTOMATIC']);
      assertServiceEvent(rotations[0]!, 'RotateKey', Arn!);
      // The call that asked for it is recorded as the caller's AwsApiCall.
      const [call] = await events(server, 'RotateKeyOnDemand');
      assert.equal(JSON.parse(call!.CloudTrailEvent!).eventType, 'AwsApiCall');
    } finally {
      await server.destroy();
    }
  });

  it('deletion at the end of the waiting period is a DeleteKey event, also when a read (not the sweep) finds it due', async () => {
    const clock = new ManualClock();
    const server = await startServer({ clock });
    try {
      const kms = server.kms();
      const swept = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      const read = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      for (const k of [swept, read]) await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.KeyId, PendingWindowInDays: 7 }));
      clock.advance(8 * DAY_MS);
      assert.equal((await rejection(kms.send(new DescribeKeyCommand({ KeyId: read.KeyId })))).name, 'NotFoundException');
      await server.app.kms.lifecycle.sweep();
      const deletions = (await events(server, 'DeleteKey')).map((e) => JSON.parse(e.CloudTrailEvent!) as Json);
      assert.deepEqual(deletions.map((d) => d.resources[0].ARN), [swept.Arn, read.Arn]);
      for (const d of deletions) {
        assertServiceEvent(d, 'DeleteKey', d.resources[0].ARN);
        assert.equal(d.serviceEventDetails, undefined, "AWS's example has none");
      }
    } finally {
      await server.destroy();
    }
  });

  it('a deletion whose record cannot be committed does not happen (write-ahead); the next sweep deletes and records it', async () => {
    const clock = new ManualClock();
    let failing = false;
    const server = await startServer({
      clock,
      auditSink: (sink: AuditSink): AuditSink => ({
        async append(build) {
          if (failing) throw new Error('injected audit storage failure');
          return sink.append(build);
        },
      }),
    });
    try {
      const kms = server.kms();
      const { KeyId, Arn } = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
      clock.advance(8 * DAY_MS);
      failing = true;
      await assert.rejects(server.app.kms.lifecycle.sweep(), /injected audit storage failure/);
      failing = false;
      assert.ok(await server.app.kms.deps.store.getKey(KeyId!), 'the key is still there');
      await server.app.kms.lifecycle.sweep();
      assert.equal(await server.app.kms.deps.store.getKey(KeyId!), undefined);
      const deletions = (await events(server, 'DeleteKey')).map((e) => JSON.parse(e.CloudTrailEvent!) as Json);
      assert.deepEqual(deletions.map((d) => d.resources[0].ARN), [Arn]);
    } finally {
      await server.destroy();
    }
  });
});

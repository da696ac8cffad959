// The audit log end to end: real KMS/IAM/STS clients make calls, @aws-sdk/client-cloudtrail reads the records back
// with LookupEvents, and each record is checked field by field against CloudTrail's documented KMS Decrypt example
// (https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html). Secrets planted in the calls must appear
// in no record. A sink that fails on demand shows the server failing closed.
import { CloudTrailClient, LookupEventsCommand, LookupEventsCommandInput } from '@aws-sdk/client-cloudtrail';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, ListAliasesCommand } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditSink } from '../../../src/core/audit/audit-log.js';
import { Clients, Credentials, allow, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

type Json = Record<string, any>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describe('audit records and LookupEvents', () => {
  let server: TestServer;
  let clients: Clients;
  const trails: CloudTrailClient[] = [];
  let keyId: string;
  let keyArn: string;
  let alice: Credentials;
  const plaintextMarker = Buffer.from('PLAINTEXT-MARKER-7f3a9c-do-not-log');
  let dataKeyB64 = '';
  let aliceSecret = '';

  const trail = (credentials: Credentials = TEST_CREDENTIALS) => {
    const c = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials, maxAttempts: 1 });
    trails.push(c);
    return c;
  };
  const lookup = async (input: LookupEventsCommandInput, credentials?: Credentials) => (await trail(credentials).send(new LookupEventsCommand(input))).Events ?? [];
  const byName = async (name: string) => lookup({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }] });
  const recordOf = (e: { CloudTrailEvent?: string }) => JSON.parse(e.CloudTrailEvent!) as Json;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    const kms = clients.kms();
    const key = await kms.send(new CreateKeyCommand({ Description: 'audited' }));
    keyId = key.KeyMetadata!.KeyId!;
    keyArn = key.KeyMetadata!.Arn!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/audited', TargetKeyId: keyId }));
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintextMarker, EncryptionContext: { Department: 'Engineering', Project: 'Alpha' } }));
    await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { Department: 'Engineering', Project: 'Alpha' }, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }));
    const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    dataKeyB64 = Buffer.from(dk.Plaintext!).toString('base64');
    const iam = clients.iam();
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'p', PolicyDocument: policyDocument(allow(['kms:DescribeKey', 'cloudtrail:LookupEvents'])) }));
    const ak = (await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }))).AccessKey!;
    alice = { accessKeyId: ak.AccessKeyId!, secretAccessKey: ak.SecretAccessKey! };
    aliceSecret = ak.SecretAccessKey!;
    // Denied: alice may describe the key but not decrypt with it.
    await rejection(clients.kms(alice).send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { Department: 'Engineering', Project: 'Alpha' } })));
    await clients.kms(alice).send(new DescribeKeyCommand({ KeyId: keyArn }));
    await clients.sts(alice).send(new GetCallerIdentityCommand({}));
  });
  after(async () => {
    for (const t of trails) t.destroy();
    clients.destroy();
    await server.destroy();
  });

  it('an allowed Decrypt has the fields of CloudTrail\'s documented example, with the request id the client saw', async () => {
    const kms = clients.kms();
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x'), EncryptionContext: { Department: 'Engineering', Project: 'Alpha' } }));
    const out = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { Department: 'Engineering', Project: 'Alpha' }, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', KeyId: keyArn }));
    const [latest] = await byName('Decrypt');
    assert.ok(latest);
    const r = recordOf(latest);
    assert.deepEqual(Object.keys(r).sort(), [
      'awsRegion', 'eventCategory', 'eventID', 'eventName', 'eventSource', 'eventTime', 'eventType', 'eventVersion', 'managementEvent', 'readOnly',
      'recipientAccountId', 'requestID', 'requestParameters', 'resources', 'responseElements', 'sourceIPAddress', 'userAgent', 'userIdentity',
    ]);
    assert.equal(r.eventVersion, '1.11');
    assert.deepEqual(r.userIdentity, { type: 'Root', principalId: TEST_ACCOUNT, arn: `arn:aws:iam::${TEST_ACCOUNT}:root`, accountId: TEST_ACCOUNT, accessKeyId: TEST_CREDENTIALS.accessKeyId });
    assert.match(r.eventTime, TIME);
    assert.equal(r.eventSource, 'kms.amazonaws.com');
    assert.equal(r.eventName, 'Decrypt');
    assert.equal(r.awsRegion, TEST_REGION);
    assert.equal(r.sourceIPAddress, '127.0.0.1');
    assert.match(r.userAgent, /aws-sdk-js/);
    assert.deepEqual(r.requestParameters, { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', keyId: keyArn, encryptionContext: { Department: 'Engineering', Project: 'Alpha' } });
    assert.equal(r.responseElements, null);
    assert.equal(r.requestID, out.$metadata.requestId);
    assert.match(r.eventID, UUID);
    assert.equal(r.readOnly, true);
    assert.deepEqual(r.resources, [{ accountId: TEST_ACCOUNT, type: 'AWS::KMS::Key', ARN: keyArn }]);
    assert.equal(r.eventType, 'AwsApiCall');
    assert.equal(r.managementEvent, true);
    assert.equal(r.recipientAccountId, TEST_ACCOUNT);
    assert.equal(r.eventCategory, 'Management');
    // The LookupEvents summary agrees with the record.
    assert.equal(latest.EventId, r.eventID);
    assert.equal(latest.EventName, 'Decrypt');
    assert.equal(latest.ReadOnly, 'true');
    assert.equal(latest.AccessKeyId, TEST_CREDENTIALS.accessKeyId);
    assert.equal(latest.EventSource, 'kms.amazonaws.com');
    assert.equal(latest.Username, 'root');
    assert.equal(latest.EventTime!.toISOString().replace('.000Z', 'Z'), r.eventTime);
    assert.deepEqual(latest.Resources, [{ ResourceType: 'AWS::KMS::Key', ResourceName: keyArn }]);
  });

  it('eventIDs are time-ordered UUIDs (version 7): their first 48 bits are the record\'s time in ms, so newer records\' ids sort after older ones', async () => {
    const records = (await lookup({ MaxResults: 50 })).map(recordOf);
    assert.ok(records.length >= 10);
    const ms = (id: string) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    for (const r of records) {
      assert.match(r.eventID, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, r.eventName);
      // The id's time is the record's, eventTime being that time to the second (the two are read moments apart).
      const drift = ms(r.eventID) - Date.parse(r.eventTime);
      assert.ok(drift >= 0 && drift < 2000, `${r.eventName}: id time ${ms(r.eventID)} vs eventTime ${r.eventTime}`);
    }
    // LookupEvents answers newest first: the ids' times never increase down the list.
    for (let i = 1; i < records.length; i++) assert.ok(ms(records[i]!.eventID) <= ms(records[i - 1]!.eventID), `${records[i]!.eventID} after ${records[i - 1]!.eventID}`);
    assert.equal(new Set(records.map((r) => r.eventID)).size, records.length);
  });

  it('a denied Decrypt is recorded as the IAM user, with AccessDeniedException and its message', async () => {
    const events = await lookup({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'alice' }] });
    const denied = events.map(recordOf).find((r) => r.eventName === 'Decrypt');
    assert.ok(denied, 'a record of the denied Decrypt');
    assert.equal(denied.errorCode, 'AccessDeniedException');
    assert.match(denied.errorMessage, /is not authorized to perform: kms:Decrypt/);
    assert.equal(denied.userIdentity.type, 'IAMUser');
    assert.equal(denied.userIdentity.userName, 'alice');
    assert.equal(denied.userIdentity.arn, `arn:aws:iam::${TEST_ACCOUNT}:user/alice`);
    assert.match(denied.userIdentity.principalId, /^AIDA/);
    assert.equal(denied.userIdentity.accessKeyId, alice.accessKeyId);
    assert.deepEqual(denied.requestParameters, { encryptionContext: { Department: 'Engineering', Project: 'Alpha' } });
    assert.equal(denied.responseElements, null);
    const sts = events.map(recordOf).find((r) => r.eventName === 'GetCallerIdentity');
    assert.ok(sts);
    assert.equal(sts.eventSource, 'sts.amazonaws.com');
    assert.equal(sts.readOnly, true);
  });

  it('IAM calls are recorded with iam.amazonaws.com; CreateKey shows keyMetadata; CreateAccessKey never shows the secret', async () => {
    const [createUser] = (await byName('CreateUser')).map(recordOf);
    assert.equal(createUser?.eventSource, 'iam.amazonaws.com');
    assert.deepEqual(createUser?.requestParameters, { userName: 'alice' });
    assert.equal(createUser?.responseElements.user.userName, 'alice');
    assert.equal(createUser?.readOnly, false);
    const [createKey] = (await byName('CreateKey')).map(recordOf);
    assert.equal(createKey?.responseElements.keyMetadata.keyId, keyId);
    assert.equal(createKey?.responseElements.keyMetadata.aWSAccountId, TEST_ACCOUNT);
    assert.deepEqual(createKey?.resources, [{ accountId: TEST_ACCOUNT, type: 'AWS::KMS::Key', ARN: keyArn }]);
    const [cak] = (await byName('CreateAccessKey')).map(recordOf);
    assert.equal(cak?.responseElements.accessKey.accessKeyId, alice.accessKeyId);
    assert.equal(cak?.responseElements.accessKey.secretAccessKey, undefined);
  });

  it('no record holds a plaintext, a ciphertext blob, a data key or a secret access key', async () => {
    const all: string[] = [];
    let token: string | undefined;
    do {
      const page = await trail().send(new LookupEventsCommand({ MaxResults: 50, ...(token ? { NextToken: token } : {}) }));
      for (const e of page.Events ?? []) all.push(e.CloudTrailEvent!);
      token = page.NextToken;
    } while (token);
    const text = all.join('\n');
    assert.ok(all.length >= 10);
    for (const secret of [plaintextMarker.toString('utf8'), plaintextMarker.toString('base64'), dataKeyB64, aliceSecret, TEST_CREDENTIALS.secretAccessKey]) {
      assert.ok(!text.includes(secret), `a record contains a secret (${secret.slice(0, 6)}…)`);
    }
    for (const name of ['plaintext', 'ciphertextBlob', 'secretAccessKey']) assert.ok(!text.includes(`"${name}"`), `a record has ${name}`);
  });

  it('LookupEvents: each attribute, newest first, pages of MaxResults, time window, one attribute only', async () => {
    const all = await lookup({});
    const seqOrder = all.map((e) => e.EventTime!.getTime());
    assert.deepEqual(seqOrder, [...seqOrder].sort((a, b) => b - a), 'newest first');
    const first = all[0]!;
    assert.deepEqual((await lookup({ LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: first.EventId! }] })).map((e) => e.EventId), [first.EventId]);
    assert.ok((await lookup({ LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'false' }] })).every((e) => e.ReadOnly === 'false'));
    assert.ok((await lookup({ LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 'iam.amazonaws.com' }] })).every((e) => e.EventSource === 'iam.amazonaws.com'));
    assert.ok((await lookup({ LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: alice.accessKeyId }] })).every((e) => e.AccessKeyId === alice.accessKeyId));
    const byKey = await lookup({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: keyArn }] });
    assert.ok(byKey.length >= 4 && byKey.every((e) => e.Resources!.some((r) => r.ResourceName === keyArn)));
    assert.ok((await lookup({ LookupAttributes: [{ AttributeKey: 'ResourceType', AttributeValue: 'AWS::KMS::Key' }] })).length >= byKey.length);
    // (LookupEvents calls are recorded too, so page over an attribute they do not match.)
    const decrypts = await byName('Decrypt');
    assert.ok(decrypts.length >= 3);
    const name = [{ AttributeKey: 'EventName' as const, AttributeValue: 'Decrypt' }];
    const p1 = await trail().send(new LookupEventsCommand({ LookupAttributes: name, MaxResults: 2 }));
    assert.equal(p1.Events!.length, 2);
    const p2 = await trail().send(new LookupEventsCommand({ LookupAttributes: name, MaxResults: 2, NextToken: p1.NextToken! }));
    assert.deepEqual([...p1.Events!, ...p2.Events!].map((e) => e.EventId), decrypts.slice(0, 4).map((e) => e.EventId));
    assert.deepEqual(await lookup({ EndTime: new Date(Date.now() - 3_600_000) }), []);
    assert.ok((await lookup({ StartTime: new Date(Date.now() - 3_600_000), EndTime: new Date(Date.now() + 60_000) })).length > 0);
    assert.equal((await rejection(lookup({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'a' }, { AttributeKey: 'Username', AttributeValue: 'b' }] }))).name, 'InvalidLookupAttributesException');
    assert.equal((await rejection(lookup({ MaxResults: 51 }))).name, 'ValidationException');
    assert.equal((await rejection(lookup({ NextToken: 'bogus!' }))).name, 'InvalidNextTokenException');
  });

  it('an IAM user needs cloudtrail:LookupEvents; another account sees none of these events', async () => {
    assert.ok((await lookup({}, alice)).length > 0);
    const iam = clients.iam();
    await iam.send(new CreateUserCommand({ UserName: 'bob' }));
    const bk = (await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }))).AccessKey!;
    const bob = { accessKeyId: bk.AccessKeyId!, secretAccessKey: bk.SecretAccessKey! };
    const err = await rejection(lookup({}, bob));
    assert.equal(err.name, 'AccessDeniedException');
    // The denied LookupEvents is itself recorded.
    const [denied] = (await lookup({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'bob' }] })).map(recordOf);
    assert.equal(denied?.eventSource, 'cloudtrail.amazonaws.com');
    assert.equal(denied?.errorCode, 'AccessDeniedException');
  });
});

describe('audit: fail closed', () => {
  let server: TestServer;
  let failing = false;
  const trails: CloudTrailClient[] = [];

  before(async () => {
    server = await startServer({
      auditSink: (sink: AuditSink): AuditSink => ({
        async append(build) {
          if (failing) throw new Error('injected audit storage failure');
          return sink.append(build);
        },
      }),
    });
  });
  after(async () => {
    for (const t of trails) t.destroy();
    await server.destroy();
  });

  it('when the record cannot be committed, the caller gets a retryable 500 — never the answer', async () => {
    const kms = server.kms();
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId!, Plaintext: Buffer.from('secret') }));
    failing = true;
    try {
      const err = await rejection(kms.send(new DecryptCommand({ CiphertextBlob })));
      assert.equal(err.name, 'KMSInternalException');
      assert.equal(err.$metadata?.httpStatusCode, 500);
      assert.equal((err as { $retryable?: unknown }).$retryable !== undefined || (err as { $fault?: string }).$fault === 'server', true);
      // A denied or invalid call fails closed too, and IAM answers its own internal error.
      assert.equal((await rejection(kms.send(new DescribeKeyCommand({ KeyId: 'alias/none' })))).name, 'KMSInternalException');
      const iam = new Clients(server);
      try {
        assert.equal((await rejection(iam.iam().send(new CreateUserCommand({ UserName: 'ghost' })))).name, 'ServiceFailureException');
      } finally {
        iam.destroy();
      }
    } finally {
      failing = false;
    }
    // Recovered: the next call is answered and recorded, and the failed ones left no record.
    await kms.send(new ListAliasesCommand({}));
    const t = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    trails.push(t);
    const names = ((await t.send(new LookupEventsCommand({}))).Events ?? []).map((e) => e.EventName);
    assert.deepEqual(names, ['ListAliases', 'Encrypt', 'CreateKey']);
  });
});

import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateAliasCommand, CreateKeyCommand, CreateKeyCommandInput, DecryptCommand, DescribeKeyCommand, DisableKeyCommand, EncapsulateCommand, EncryptCommand,
  GenerateMacCommand, GetKeyLastUsageCommand, KMSClient, ReEncryptCommand, ScheduleKeyDeletionCommand, SignCommand,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Clients, allow, policyDocument } from '../../helpers/query-clients.js';
import { TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

/**
 * GetKeyLastUsage (issue 11): each key's last successful cryptographic operation, its time, CloudTrail event id and
 * request id, TrackingStartDate and KeyCreationDate, as the SDK's GetKeyLastUsageCommand reads them.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyLastUsage.html
 */
describe('KMS GetKeyLastUsage over HTTP with @aws-sdk/client-kms', () => {
  let server: TestServer;
  let clients: Clients;
  let kms: KMSClient;
  let trail: CloudTrailClient;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    kms = clients.kms();
    trail = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  });
  after(async () => {
    trail.destroy();
    clients.destroy();
    await server.destroy();
  });

  const create = async (params: CreateKeyCommandInput = {}) => (await kms.send(new CreateKeyCommand(params))).KeyMetadata!;
  const lastUsage = (keyId: string, client = kms) => client.send(new GetKeyLastUsageCommand({ KeyId: keyId }));
  /** The CloudTrail record of the call with this request id. */
  const recordOf = async (eventName: string, requestId: string) => {
    const events = (await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: eventName }], MaxResults: 50 }))).Events ?? [];
    const records = events.map((e) => JSON.parse(e.CloudTrailEvent!) as { eventID: string; requestID: string; eventTime: string; requestParameters: unknown });
    const found = records.find((r) => r.requestID === requestId);
    assert.ok(found, `no ${eventName} record with request id ${requestId}`);
    return found;
  };

  it('a new key has an empty KeyLastUsage, TrackingStartDate equal to its KeyCreationDate, and its key id', async () => {
    const key = await create();
    const out = await lastUsage(key.Arn!);
    assert.equal(out.KeyId, key.KeyId);
    assert.deepEqual(out.KeyLastUsage, {});
    assert.equal(out.KeyCreationDate!.getTime(), key.CreationDate!.getTime());
    // The deployment began tracking before this key existed: tracking starts at the key's creation.
    assert.equal(out.TrackingStartDate!.getTime(), key.CreationDate!.getTime());
  });

  it('records the last successful cryptographic operation with its CloudTrail eventID, request id and eventTime; reads and failures do not count', async () => {
    const key = await create();
    const enc = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('hello'), EncryptionContext: { a: 'b' } }));
    let out = await lastUsage(key.KeyId!);
    assert.equal(out.KeyLastUsage!.Operation, 'Encrypt');
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: 'b' } }));
    out = await lastUsage(key.KeyId!);
    const record = await recordOf('Decrypt', dec.$metadata.requestId!);
    assert.deepEqual(out.KeyLastUsage, {
      Operation: 'Decrypt',
      Timestamp: new Date(record.eventTime),
      CloudTrailEventId: record.eventID,
      KmsRequestId: dec.$metadata.requestId,
    });
    // A failed Decrypt (wrong encryption context), DescribeKey and GetKeyLastUsage itself change nothing.
    assert.equal((await rejection(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: 'c' } })))).name, 'InvalidCiphertextException');
    await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.deepEqual((await lastUsage(key.KeyId!)).KeyLastUsage, out.KeyLastUsage);
  });

  it('ReEncrypt is the last use of both its keys; Sign, GenerateMac and Encapsulate are tracked on asymmetric, HMAC and ML-KEM keys', async () => {
    const source = await create();
    const destination = await create();
    const enc = await kms.send(new EncryptCommand({ KeyId: source.KeyId, Plaintext: Buffer.from('x') }));
    const re = await kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: destination.KeyId }));
    for (const key of [source, destination]) {
      const usage = (await lastUsage(key.KeyId!)).KeyLastUsage!;
      assert.equal(usage.Operation, 'ReEncrypt');
      assert.equal(usage.KmsRequestId, re.$metadata.requestId);
    }
    const signing = await create({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    await kms.send(new SignCommand({ KeyId: signing.KeyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }));
    assert.equal((await lastUsage(signing.KeyId!)).KeyLastUsage!.Operation, 'Sign');
    const hmac = await create({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    await kms.send(new GenerateMacCommand({ KeyId: hmac.KeyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }));
    assert.equal((await lastUsage(hmac.KeyId!)).KeyLastUsage!.Operation, 'GenerateMac');
    const kem = await create({ KeySpec: 'ML_KEM_768', KeyUsage: 'ENCAPSULATE_DECAPSULATE' });
    await kms.send(new EncapsulateCommand({ KeyId: kem.KeyId, EncapsulationAlgorithm: 'ML_KEM' }));
    assert.equal((await lastUsage(kem.KeyId!)).KeyLastUsage!.Operation, 'Encapsulate');
  });

  it('answers for disabled keys and keys pending deletion; an alias is NotFoundException; the call is audited with its keyId', async () => {
    const key = await create();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/last-usage', TargetKeyId: key.KeyId }));
    const err = await rejection(lastUsage('alias/last-usage'));
    assert.equal(err.name, 'NotFoundException');
    assert.equal(err.$metadata?.httpStatusCode, 400);
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    assert.deepEqual((await lastUsage(key.KeyId!)).KeyLastUsage, {});
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    const out = await lastUsage(key.KeyId!);
    assert.equal(out.KeyId, key.KeyId);
    const record = await recordOf('GetKeyLastUsage', out.$metadata.requestId!);
    assert.deepEqual(record.requestParameters, { keyId: key.KeyId });
  });

  it('IAM authorizes kms:GetKeyLastUsage: a user allowed only kms:DescribeKey is denied, one allowed kms:GetKeyLastUsage is not', async () => {
    const key = await create();
    const iam = clients.iam();
    await iam.send(new CreateUserCommand({ UserName: 'usage-reader' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'usage-reader', PolicyName: 'p', PolicyDocument: policyDocument(allow('kms:DescribeKey')) }));
    const ak = (await iam.send(new CreateAccessKeyCommand({ UserName: 'usage-reader' }))).AccessKey!;
    const user = clients.kms({ accessKeyId: ak.AccessKeyId!, secretAccessKey: ak.SecretAccessKey! });
    const err = await rejection(lastUsage(key.KeyId!, user));
    assert.equal(err.name, 'AccessDeniedException');
    assert.match(err.message, /not authorized to perform: kms:GetKeyLastUsage on resource: arn:aws:kms:/);
    await iam.send(new PutUserPolicyCommand({ UserName: 'usage-reader', PolicyName: 'p', PolicyDocument: policyDocument(allow('kms:GetKeyLastUsage')) }));
    // The IAM policy cache may take a moment to see the new policy on this one server: retry briefly.
    const deadline = Date.now() + 5_000;
    for (;;) {
      try {
        assert.equal((await lastUsage(key.KeyId!, user)).KeyId, key.KeyId);
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
});

/**
 * Two servers on one data dir stand for two nodes (or workers) on one database: uses are kept in memory and
 * written at each server's flush (and at shutdown), then every server sees them; a flush never moves a key's
 * last use back to an earlier one.
 */
describe('KMS GetKeyLastUsage across servers sharing one database', () => {
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    a = await startServer();
    b = await startServer({ dataDir: a.dataDir });
  });
  after(async () => {
    await b.stop();
    await a.destroy();
  });

  it('a use on A shows on B once A flushes; B\'s older use flushed later does not replace A\'s later one; A\'s shutdown writes its last uses', async () => {
    const kmsA = a.kms();
    const kmsB = b.kms();
    const key = (await kmsA.send(new CreateKeyCommand({}))).KeyMetadata!;
    // B's use first, then (a second later, CloudTrail times are whole seconds) A's.
    await kmsB.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('b') }));
    await new Promise((r) => setTimeout(r, 1_100));
    const gen = await kmsA.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('a') }));
    // Unwritten: A sees its own use at once, B its own.
    assert.equal((await kmsA.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }))).KeyLastUsage!.KmsRequestId, gen.$metadata.requestId);
    assert.notEqual((await kmsB.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }))).KeyLastUsage!.KmsRequestId, gen.$metadata.requestId);
    await a.app.kms.lastUsage.flush();
    await b.app.kms.lastUsage.flush();
    assert.equal((await kmsB.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }))).KeyLastUsage!.KmsRequestId, gen.$metadata.requestId);
    // A's last use before it stops is written at shutdown, without a flush of its own.
    const macKey = (await kmsA.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.KeyId!;
    const last = await kmsA.send(new GenerateMacCommand({ KeyId: macKey, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }));
    await a.stop();
    const seen = await kmsB.send(new GetKeyLastUsageCommand({ KeyId: macKey }));
    assert.equal(seen.KeyLastUsage!.Operation, 'GenerateMac');
    assert.equal(seen.KeyLastUsage!.KmsRequestId, last.$metadata.requestId);
  });
});

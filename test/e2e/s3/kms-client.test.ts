// S3 calls KMS through the typed in-process client (src/services/kms/kms-client.ts): the one dispatch path
// (authorization, audit) without a JSON/base64 round trip, data keys handed over as SecretBytes and wiped,
// the aws/s3 key's creation recorded, and one sync per S3 request for its own record and the KMS records it
// caused. Driven over HTTP with @aws-sdk/client-s3; records read back with LookupEvents.
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateKeyCommand, DescribeKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditSink } from '../../../src/core/audit/audit-log.js';
import { SecretBytes } from '../../../src/core/crypto/secret-bytes.js';
import { DataKey } from '../../../src/services/kms/kms-client.js';
import { RequestContext } from '../../../src/services/operation.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

type Json = Record<string, any>;
const ROOT = `arn:aws:iam::${TEST_ACCOUNT}:root`;
const VIA_S3 = `s3.${TEST_REGION}.amazonaws.com`;

describe('S3 calls KMS through the typed client', () => {
  let server: TestServer;
  let s3: S3Client;
  let trail: CloudTrailClient;
  let keyId: string;
  /** How many times the audit log waited for its sink to make commits durable (one WAL fsync each). */
  let durabilityWaits = 0;
  /** When set, a commit holding a KMS record fails (the sink refuses it). */
  let failKmsCommits = false;

  const events = async (eventName: string): Promise<Json[]> =>
    ((await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: eventName }] }))).Events ?? []).map((e) => JSON.parse(e.CloudTrailEvent!));
  const waitsOf = async (request: () => Promise<unknown>): Promise<number> => {
    const before = durabilityWaits;
    await request();
    return durabilityWaits - before;
  };

  before(async () => {
    server = await startServer({
      auditSink: (sink: AuditSink): AuditSink => ({
        append(build) {
          return sink.append((head) => {
            const commit = build(head);
            if (failKmsCommits && commit.rows.some((r) => r.record.eventSource === 'kms.amazonaws.com')) throw new Error('injected KMS record failure');
            return commit;
          });
        },
        durable() {
          durabilityWaits += 1;
          return sink.durable!();
        },
      }),
    });
    s3 = server.s3();
    trail = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    keyId = (await server.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await s3.send(new CreateBucketCommand({ Bucket: 'sealed' }));
  });
  after(async () => {
    trail.destroy();
    await server.destroy();
  });

  it('an SSE-KMS PutObject and its GetObject each wait for durability once: the KMS record and the S3 record share one sync', async () => {
    const put = () => s3.send(new PutObjectCommand({ Bucket: 'sealed', Key: 'one-sync', Body: 'x'.repeat(1024), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }));
    assert.equal(await waitsOf(put), 1);
    assert.equal(await waitsOf(async () => (await s3.send(new GetObjectCommand({ Bucket: 'sealed', Key: 'one-sync' }))).Body!.transformToString()), 1);
    // Both records are there, the KMS call's before the S3 call's own.
    const gdk = (await events('GenerateDataKey')).find((r) => r.requestParameters.encryptionContext['aws:s3:arn'] === 'arn:aws:s3:::sealed/one-sync')!;
    assert.equal(gdk.userIdentity.invokedBy, 's3.amazonaws.com');
    assert.equal(gdk.requestParameters.keyId, keyId);
    assert.equal(gdk.errorCode, undefined);
  });

  it('when the KMS record cannot be committed, the PutObject fails with a retryable 500 and nothing is stored', async () => {
    failKmsCommits = true;
    try {
      const err = await rejection(s3.send(new PutObjectCommand({ Bucket: 'sealed', Key: 'unrecorded', Body: 'secret', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId })));
      assert.equal(err.name, 'InternalError');
      assert.equal(err.$metadata?.httpStatusCode, 500);
    } finally {
      failKmsCommits = false;
    }
    assert.equal((await rejection(s3.send(new HeadObjectCommand({ Bucket: 'sealed', Key: 'unrecorded' })))).$metadata?.httpStatusCode, 404);
  });

  it('the data key S3 gets is the SecretBytes KMS made, wiped once the object is sealed (PUT), once the body is sent (GET), and when a GET fails after opening it', async () => {
    const client = server.app.kmsClient;
    const handed: { op: string; plaintext: SecretBytes }[] = [];
    const { generateDataKey, decrypt } = client;
    client.generateDataKey = async (...args: Parameters<typeof generateDataKey>): Promise<DataKey> => {
      const dk = await generateDataKey.apply(client, args);
      handed.push({ op: 'GenerateDataKey', plaintext: dk.plaintext });
      return dk;
    };
    client.decrypt = async (...args: Parameters<typeof decrypt>) => {
      const out = await decrypt.apply(client, args);
      handed.push({ op: 'Decrypt', plaintext: out.plaintext });
      return out;
    };
    try {
      await s3.send(new PutObjectCommand({ Bucket: 'sealed', Key: 'wiped', Body: 'body', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }));
      assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'sealed', Key: 'wiped' }))).Body!.transformToString(), 'body');
      // A GET refused after the key was opened (a range past the end: 416) wipes it too.
      const unsatisfiable = await rejection(s3.send(new GetObjectCommand({ Bucket: 'sealed', Key: 'wiped', Range: 'bytes=1000-2000' })));
      assert.equal(unsatisfiable.$metadata?.httpStatusCode, 416);
    } finally {
      client.generateDataKey = generateDataKey;
      client.decrypt = decrypt;
    }
    assert.deepEqual(handed.map((h) => h.op), ['GenerateDataKey', 'Decrypt', 'Decrypt']);
    for (const h of handed) {
      assert.ok(h.plaintext instanceof SecretBytes, `${h.op}: a SecretBytes`);
      assert.equal(h.plaintext.length, 32);
      assert.ok(h.plaintext.reveal().equals(Buffer.alloc(32)), `${h.op}: wiped after use`);
    }
  });

  it('the first use of aws/s3 records the key’s creation like any CreateKey — by the caller, invoked by S3 — once, and that request still syncs once', async () => {
    const put = (key: string) => s3.send(new PutObjectCommand({ Bucket: 'sealed', Key: key, Body: 'default key', ServerSideEncryption: 'aws:kms' }));
    assert.equal(await waitsOf(() => put('managed-1')), 1);
    await put('managed-2');
    const created = (await events('CreateKey')).filter((r) => r.responseElements?.keyMetadata?.keyManager === 'AWS');
    assert.equal(created.length, 1, 'one creation record, not one per use');
    const r = created[0]!;
    const managedArn = r.responseElements.keyMetadata.arn;
    assert.equal((await server.kms().send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!.Arn, managedArn);
    assert.equal(r.eventSource, 'kms.amazonaws.com');
    assert.equal(r.eventType, 'AwsApiCall');
    assert.equal(r.userIdentity.arn, ROOT);
    assert.equal(r.userIdentity.invokedBy, 's3.amazonaws.com');
    assert.equal(r.sourceIPAddress, 's3.amazonaws.com');
    assert.equal(r.userAgent, 's3.amazonaws.com');
    assert.equal(r.awsRegion, TEST_REGION);
    assert.equal(r.readOnly, false);
    assert.equal(r.errorCode, undefined);
    assert.deepEqual(
      { description: r.requestParameters.description, keyUsage: r.requestParameters.keyUsage, keySpec: r.requestParameters.keySpec, origin: r.requestParameters.origin },
      { description: 'Default key that protects my S3 objects when no other key is defined', keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', origin: 'AWS_KMS' },
    );
    assert.deepEqual(r.resources, [{ accountId: TEST_ACCOUNT, type: 'AWS::KMS::Key', ARN: managedArn }]);
    // The key it names is the one alias/aws/s3 points to, and the one the objects were sealed with.
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'sealed', Key: 'managed-1' }));
    assert.equal(head.SSEKMSKeyId, managedArn);
  });

  it('a typed call is validated once against the model, refused with AWS’s ValidationException, and recorded', async () => {
    const caller: RequestContext = {
      requestId: 'typed-validation',
      principal: { type: 'Root', accountId: TEST_ACCOUNT, arn: ROOT, principalId: TEST_ACCOUNT, accessKeyId: TEST_CREDENTIALS.accessKeyId },
      region: TEST_REGION,
      sourceIp: '127.0.0.1',
      userAgent: 'test',
      secureTransport: false,
    };
    const client = server.app.kmsClient;
    const tooBig = { big: 'v'.repeat(8192) };
    const err = await rejection(client.generateDataKey({ request: caller, viaService: VIA_S3 }, { keyId, encryptionContext: tooBig }));
    assert.equal(err.name, 'ValidationException');
    assert.match(err.message, /^1 validation error detected: Value at 'encryptionContext' failed to satisfy constraint: Member must have a total size of keys and values less than or equal to 8192 bytes$/);
    const emptyKey = await rejection(client.decrypt({ request: caller, viaService: VIA_S3 }, { ciphertextBlob: Buffer.alloc(0) }));
    assert.equal(emptyKey.name, 'ValidationException');
    assert.match(emptyKey.message, /Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length greater than or equal to 1/);
    const refused = (await events('GenerateDataKey')).find((e) => e.requestID === 'typed-validation' && e.errorCode === 'ValidationException');
    assert.ok(refused, 'the refused call is recorded');
    assert.equal(refused.userIdentity.invokedBy, 's3.amazonaws.com');
  });
});

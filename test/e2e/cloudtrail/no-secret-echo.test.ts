/**
 * Issue 9, item 9: validation messages echoed ciphertext blobs and MFA token codes, and the audit record
 * stored them. Over HTTP with the real SDKs: a Decrypt whose CiphertextBlob is too long and AssumeRole /
 * GetSessionToken calls with a malformed or a well-formed TokenCode; neither the error the client gets nor
 * the CloudTrail record LookupEvents answers with holds the value. (The rule over every model member is
 * test/unit/secret-echo.test.ts.)
 */
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Clients } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

describe('no ciphertext or MFA code in validation messages or audit records', () => {
  let server: TestServer;
  let clients: Clients;
  let trail: CloudTrailClient;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    trail = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  });
  after(async () => {
    trail.destroy();
    clients.destroy();
    await server.destroy();
  });

  /** Every record of `eventName`, as the JSON text LookupEvents returns. */
  const records = async (eventName: string): Promise<string[]> => {
    const out = await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: eventName }] }));
    return (out.Events ?? []).map((e) => e.CloudTrailEvent!);
  };

  it('KMS Decrypt with a CiphertextBlob over 6,144 bytes: ValidationException without the blob, and a record without it', async () => {
    const kms = clients.kms();
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const real = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }))).CiphertextBlob!;
    // A real ciphertext padded past the model's maximum: the error must not repeat any of it.
    const blob = Buffer.concat([Buffer.from(real), Buffer.alloc(6_145 - real.length, 0x5a)]);
    const err = await rejection(kms.send(new DecryptCommand({ CiphertextBlob: blob })));
    assert.equal(err.name, 'ValidationException');
    assert.equal(err.$metadata?.httpStatusCode, 400);
    assert.match(err.message, /Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length less than or equal to 6144/);
    const b64 = blob.toString('base64');
    for (const piece of [b64.slice(0, 32), b64.slice(4, 36), Buffer.from(real).toString('base64').slice(8, 40)]) {
      assert.ok(!err.message.includes(piece), `the message echoes the blob: ${err.message.slice(0, 200)}`);
    }
    const recorded = (await records('Decrypt')).filter((r) => r.includes('ValidationException'));
    assert.equal(recorded.length, 1, 'the refused call is recorded');
    const record = JSON.parse(recorded[0]!) as { errorMessage: string };
    assert.match(record.errorMessage, /Member must have length less than or equal to 6144/);
    for (const piece of [b64.slice(0, 32), b64.slice(4, 36), Buffer.from(real).toString('base64').slice(8, 40)]) assert.ok(!recorded[0]!.includes(piece));
  });

  it('STS AssumeRole and GetSessionToken with a malformed TokenCode: ValidationError without the code; a well-formed code is not recorded either', async () => {
    const sts = clients.sts();
    const roleArn = `arn:aws:iam::${TEST_ACCOUNT}:role/Nobody`;
    const serial = `arn:aws:iam::${TEST_ACCOUNT}:mfa/root-device`;
    for (const [name, call] of [
      ['AssumeRole', (code: string) => sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'session', SerialNumber: serial, TokenCode: code }))],
      ['GetSessionToken', (code: string) => sts.send(new GetSessionTokenCommand({ SerialNumber: serial, TokenCode: code }))],
    ] as const) {
      const malformed = name === 'AssumeRole' ? '73x1q9' : '9q1x37';
      const err = await rejection(call(malformed));
      assert.equal(err.name, 'ValidationError', `${name}: ${err.message}`);
      assert.equal(err.$metadata?.httpStatusCode, 400);
      assert.match(err.message, /Value at 'tokenCode' failed to satisfy constraint/);
      assert.ok(!err.message.includes(malformed), `${name} echoes the code: ${err.message}`);

      // A well-formed code gets past validation (and is refused: this server has no MFA devices).
      const wellFormed = name === 'AssumeRole' ? '604817' : '718406';
      assert.equal((await rejection(call(wellFormed))).name, 'AccessDenied');

      const recorded = await records(name);
      assert.ok(recorded.length >= 2, `${name}: both calls are recorded`);
      for (const r of recorded) {
        assert.ok(!r.includes(malformed) && !r.includes(wellFormed), `${name}: the record holds the code: ${r}`);
      }
      // The device's serial number is an identifier, not a secret: CloudTrail shows it.
      assert.ok(recorded.some((r) => (JSON.parse(r) as { requestParameters?: { serialNumber?: string } }).requestParameters?.serialNumber === serial));
    }
  });
});

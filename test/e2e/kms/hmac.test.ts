import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateKeyCommand, CreateKeyCommandInput, DisableKeyCommand, GenerateMacCommand, KMSClient, MacAlgorithmSpec, VerifyMacCommand,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Clients, policyDocument } from '../../helpers/query-clients.js';
import { TestServer, rejection, startServer } from '../../helpers/server.js';

/**
 * GenerateMac and VerifyMac with HMAC keys (issue 11). https://docs.aws.amazon.com/kms/latest/developerguide/hmac.html
 */
describe('KMS GenerateMac and VerifyMac over HTTP with @aws-sdk/client-kms', () => {
  let server: TestServer;
  let clients: Clients;
  let kms: KMSClient;

  before(async () => {
    server = await startServer();
    clients = new Clients(server);
    kms = clients.kms();
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  const create = async (params: CreateKeyCommandInput) => (await kms.send(new CreateKeyCommand(params))).KeyMetadata!.Arn!;
  const message = Buffer.from('order #1234: 3 widgets');

  it('each HMAC key spec: GenerateMac gives a MAC of the hash\'s length that VerifyMac accepts; a tampered message or MAC is KMSInvalidMacException', async () => {
    for (const [bits, length] of [[224, 28], [256, 32], [384, 48], [512, 64]] as const) {
      const key = await create({ KeySpec: `HMAC_${bits}`, KeyUsage: 'GENERATE_VERIFY_MAC' });
      const MacAlgorithm = `HMAC_SHA_${bits}` as MacAlgorithmSpec;
      const out = await kms.send(new GenerateMacCommand({ KeyId: key, Message: message, MacAlgorithm }));
      assert.equal(out.Mac!.length, length);
      assert.equal(out.MacAlgorithm, MacAlgorithm);
      assert.equal(out.KeyId, key);
      // HMAC is deterministic: the same message gives the same MAC.
      assert.deepEqual((await kms.send(new GenerateMacCommand({ KeyId: key, Message: message, MacAlgorithm }))).Mac, out.Mac);
      const ok = await kms.send(new VerifyMacCommand({ KeyId: key, Message: message, Mac: out.Mac, MacAlgorithm }));
      assert.equal(ok.MacValid, true);
      let err = await rejection(kms.send(new VerifyMacCommand({ KeyId: key, Message: Buffer.from('order #1235: 3 widgets'), Mac: out.Mac, MacAlgorithm })));
      assert.equal(err.name, 'KMSInvalidMacException');
      assert.equal(err.$metadata?.httpStatusCode, 400);
      const tampered = Buffer.from(out.Mac!);
      tampered[0]! ^= 1;
      err = await rejection(kms.send(new VerifyMacCommand({ KeyId: key, Message: message, Mac: tampered, MacAlgorithm })));
      assert.equal(err.name, 'KMSInvalidMacException');
      err = await rejection(kms.send(new VerifyMacCommand({ KeyId: key, Message: message, Mac: out.Mac!.subarray(1), MacAlgorithm })));
      assert.equal(err.name, 'KMSInvalidMacException');
    }
  });

  it('two HMAC keys give different MACs of one message', async () => {
    const a = await create({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const b = await create({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const macA = (await kms.send(new GenerateMacCommand({ KeyId: a, Message: message, MacAlgorithm: 'HMAC_SHA_256' }))).Mac!;
    const macB = (await kms.send(new GenerateMacCommand({ KeyId: b, Message: message, MacAlgorithm: 'HMAC_SHA_256' }))).Mac!;
    assert.notDeepEqual(macA, macB);
    const err = await rejection(kms.send(new VerifyMacCommand({ KeyId: b, Message: message, Mac: macA, MacAlgorithm: 'HMAC_SHA_256' })));
    assert.equal(err.name, 'KMSInvalidMacException');
  });

  it('a MAC algorithm of another spec, a key of another usage and a disabled key get AWS\'s errors', async () => {
    const key = await create({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    let err = await rejection(kms.send(new GenerateMacCommand({ KeyId: key, Message: message, MacAlgorithm: 'HMAC_SHA_512' })));
    assert.equal(err.name, 'InvalidKeyUsageException');
    assert.equal(err.message, 'Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256.');
    const symmetric = await create({});
    err = await rejection(kms.send(new GenerateMacCommand({ KeyId: symmetric, Message: message, MacAlgorithm: 'HMAC_SHA_256' })));
    assert.equal(err.name, 'InvalidKeyUsageException');
    assert.equal(err.message, `${symmetric} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.`);
    err = await rejection(kms.send(new GenerateMacCommand({ KeyId: key, Message: Buffer.alloc(4097), MacAlgorithm: 'HMAC_SHA_256' })));
    assert.equal(err.name, 'ValidationException');
    await kms.send(new DisableKeyCommand({ KeyId: key }));
    err = await rejection(kms.send(new GenerateMacCommand({ KeyId: key, Message: message, MacAlgorithm: 'HMAC_SHA_256' })));
    assert.equal(err.name, 'DisabledException');
  });

  it('kms:GenerateMac and kms:VerifyMac are authorized separately, and kms:MacAlgorithm conditions them', async () => {
    const key = await create({ KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const mac = (await kms.send(new GenerateMacCommand({ KeyId: key, Message: message, MacAlgorithm: 'HMAC_SHA_384' }))).Mac!;
    const iam = clients.iam();
    await iam.send(new CreateUserCommand({ UserName: 'verifier' }));
    await iam.send(new PutUserPolicyCommand({
      UserName: 'verifier',
      PolicyName: 'p',
      PolicyDocument: policyDocument({ Effect: 'Allow', Action: 'kms:VerifyMac', Resource: key, Condition: { StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_384' } } }),
    }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'verifier' }));
    const user = clients.kms({ accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! });
    assert.equal((await user.send(new VerifyMacCommand({ KeyId: key, Message: message, Mac: mac, MacAlgorithm: 'HMAC_SHA_384' }))).MacValid, true);
    const err = await rejection(user.send(new GenerateMacCommand({ KeyId: key, Message: message, MacAlgorithm: 'HMAC_SHA_384' })));
    assert.equal(err.name, 'AccessDeniedException');
    assert.match(err.message, /kms:GenerateMac/);
  });
});

import { CreateKeyCommand, DecryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestContext } from '../../../src/services/operation.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, rejection, startServer } from '../../helpers/server.js';

const ROOT = `arn:aws:iam::${TEST_ACCOUNT}:root`;
const VIA_S3 = 's3.us-east-1.amazonaws.com';

describe('kms:ViaService: KMS called by another service on the caller’s behalf', () => {
  it('a key usable only via S3 refuses direct calls and serves the internal path, with the condition evaluated', async () => {
    const server = await startServer();
    try {
      const kms = server.kms();
      const policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'Admin', Effect: 'Allow', Principal: { AWS: ROOT }, Action: ['kms:Describe*', 'kms:Put*', 'kms:Get*', 'kms:Create*', 'kms:List*'], Resource: '*' },
          { Sid: 'UseViaS3', Effect: 'Allow', Principal: { AWS: ROOT }, Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: '*', Condition: { StringEquals: { 'kms:ViaService': VIA_S3 } } },
        ],
      });
      const keyId = (await kms.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!.KeyId!;

      const direct = await rejection(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' })));
      assert.equal(direct.name, 'AccessDeniedException');

      const caller: RequestContext = {
        requestId: 'internal-test',
        principal: { type: 'Root', accountId: TEST_ACCOUNT, arn: ROOT, principalId: TEST_ACCOUNT, accessKeyId: TEST_CREDENTIALS.accessKeyId },
        region: 'us-east-1',
        sourceIp: '127.0.0.1',
        userAgent: 'test',
        secureTransport: false,
      };
      const context = { 'aws:s3:arn': 'arn:aws:s3:::bucket/object' };
      const client = server.app.kmsClient;
      const dk = await client.generateDataKey({ request: caller, viaService: VIA_S3 }, { keyId, encryptionContext: context });
      assert.equal(dk.plaintext.length, 32);
      const back = await client.decrypt({ request: caller, viaService: VIA_S3 }, { ciphertextBlob: dk.ciphertextBlob, encryptionContext: context });
      assert.ok(back.plaintext.equals(dk.plaintext));

      const otherService = await rejection(client.decrypt({ request: caller, viaService: 'ec2.us-east-1.amazonaws.com' }, { ciphertextBlob: dk.ciphertextBlob, encryptionContext: context }));
      assert.equal(otherService.name, 'AccessDeniedException');
      const viaSdk = await rejection(kms.send(new DecryptCommand({ CiphertextBlob: dk.ciphertextBlob, EncryptionContext: context })));
      assert.equal(viaSdk.name, 'AccessDeniedException');
    } finally {
      await server.destroy();
    }
  });
});

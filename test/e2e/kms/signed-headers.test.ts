import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signedQueryRequest } from '../../helpers/query-request.js';
import { awsJsonError, sendRaw, signedJsonRequest } from '../../helpers/raw-request.js';
import { TestServer, startServer } from '../../helpers/server.js';

/**
 * The header that selects the operation must be signed: X-Amz-Target for the JSON protocol (KMS,
 * CloudTrail). A request whose target is outside its signature can be replayed as any other operation.
 */
describe('JSON protocol: X-Amz-Target must be signed', () => {
  let server: TestServer;
  let kms: KMSClient;
  let keyId: string;

  before(async () => {
    server = await startServer();
    kms = server.kms();
    keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  });
  after(() => server.destroy());

  it('a captured DescribeKey whose X-Amz-Target was not signed, replayed as DisableKey, is refused and the key stays enabled', async () => {
    const body = JSON.stringify({ KeyId: keyId });
    const captured = await signedJsonRequest(server.url, 'TrentService.DescribeKey', body, { unsigned: ['x-amz-target'] });
    assert.doesNotMatch(String(captured.headers.authorization), /x-amz-target/);
    const replayed = await sendRaw(server.url, { ...captured, headers: { ...captured.headers, 'x-amz-target': 'TrentService.DisableKey' } });
    assert.equal(replayed.status, 400, replayed.text);
    const err = awsJsonError(replayed);
    assert.equal(err.__type, 'IncompleteSignatureException');
    assert.match(err.message, /'x-amz-target' must be a 'SignedHeader'/);
    const key = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(key.KeyMetadata!.KeyState, 'Enabled');
    assert.equal(key.KeyMetadata!.Enabled, true);
    // The captured request as it was is refused too: the rule is about the signature, not the operation.
    const original = await sendRaw(server.url, captured);
    assert.equal(original.status, 400);
    assert.equal(awsJsonError(original).__type, 'IncompleteSignatureException');
  });

  it('the same holds for CloudTrail targets (every JSON service)', async () => {
    const captured = await signedJsonRequest(server.url, 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails', '{}', {
      service: 'cloudtrail',
      unsigned: ['x-amz-target'],
    });
    const res = await sendRaw(server.url, { ...captured, headers: { ...captured.headers, 'x-amz-target': 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DeleteTrail' } });
    assert.equal(res.status, 400, res.text);
    assert.equal(awsJsonError(res).__type, 'IncompleteSignatureException');
  });

  it('a signed X-Amz-Target changed after signing is a signature mismatch; an SDK request (target signed) works', async () => {
    const captured = await signedJsonRequest(server.url, 'TrentService.DescribeKey', JSON.stringify({ KeyId: keyId }));
    assert.match(String(captured.headers.authorization), /x-amz-target/);
    const replayed = await sendRaw(server.url, { ...captured, headers: { ...captured.headers, 'x-amz-target': 'TrentService.DisableKey' } });
    assert.equal(replayed.status, 400);
    assert.equal(awsJsonError(replayed).__type, 'InvalidSignatureException');
    const ok = await sendRaw(server.url, captured);
    assert.equal(ok.status, 200, ok.text);
  });

  it('a signed Query request (STS) replayed with an added X-Amz-Target is not served as a KMS call', async () => {
    const captured = await signedQueryRequest(server.url, { Action: 'GetCallerIdentity', Version: '2011-06-15' }, { service: 'sts' });
    const res = await sendRaw(server.url, { ...captured, headers: { ...captured.headers, 'x-amz-target': 'TrentService.DisableKey' } });
    assert.equal(res.status, 400, res.text);
    assert.match(awsJsonError(res).__type, /^(IncompleteSignatureException|InvalidSignatureException)$/);
    const key = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(key.KeyMetadata!.Enabled, true);
  });
});

import {
  CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, KMSClient, ListKeysCommand,
} from '@aws-sdk/client-kms';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { JSON_CONTENT_TYPE, Sha256, awsJsonError, sendRaw, signedJsonRequest } from '../../helpers/raw-request.js';
import { TEST_CREDENTIALS, TestServer, rejection, startServer } from '../../helpers/server.js';

const MIN = 60_000;

describe('KMS authentication over HTTP (SigV4)', () => {
  let server: TestServer;
  let kms: KMSClient;

  before(async () => {
    server = await startServer();
    kms = server.kms();
  });
  after(() => server.destroy());

  it('a correctly signed request succeeds (baseline)', async () => {
    const out = await kms.send(new ListKeysCommand({}));
    assert.ok(Array.isArray(out.Keys));
  });

  it('the right access key with a wrong secret is InvalidSignatureException', async () => {
    const client = server.kms({ credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret-access-key-000000000000000' } });
    const err = await rejection(client.send(new ListKeysCommand({})));
    assert.equal(err.name, 'InvalidSignatureException');
    assert.equal(err.$metadata?.httpStatusCode, 400);
    assert.match(err.message, /signature we calculated does not match/);
  });

  it('an unknown access key is UnrecognizedClientException', async () => {
    const client = server.kms({ credentials: { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: TEST_CREDENTIALS.secretAccessKey } });
    const err = await rejection(client.send(new ListKeysCommand({})));
    assert.equal(err.name, 'UnrecognizedClientException');
    assert.equal(err.$metadata?.httpStatusCode, 400);
    assert.match(err.message, /security token included in the request is invalid/);
  });

  it('a request signed for a region the server does not serve is InvalidSignatureException naming the region', async () => {
    const err = await rejection(server.kms({ region: 'eu-west-1' }).send(new ListKeysCommand({})));
    assert.equal(err.name, 'InvalidSignatureException');
    assert.equal(err.$metadata?.httpStatusCode, 400);
    assert.match(err.message, /eu-west-1/);
  });

  it('a request signed for another service is InvalidSignatureException', async () => {
    const req = await signedJsonRequest(server.url, 'TrentService.ListKeys', '{}', { service: 'sts' });
    const res = await sendRaw(server.url, req);
    assert.equal(res.status, 400);
    assert.equal(awsJsonError(res).__type, 'InvalidSignatureException');
  });

  it('a request without Authorization is MissingAuthenticationTokenException as AWS JSON', async () => {
    const res = await fetch(server.url + '/', {
      method: 'POST',
      headers: { 'content-type': JSON_CONTENT_TYPE, 'x-amz-target': 'TrentService.ListKeys' },
      body: '{}',
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-amz-json-1\.1/);
    assert.ok(res.headers.get('x-amzn-requestid'));
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.__type, 'MissingAuthenticationTokenException');
    assert.equal(typeof body.message, 'string');
    assert.deepEqual(Object.keys(body).sort(), ['__type', 'message']);
  });

  it('a malformed Authorization header is IncompleteSignatureException', async () => {
    const req = await signedJsonRequest(server.url, 'TrentService.ListKeys', '{}');
    for (const auth of ['AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA256 Credential=AKIA/2024/us-east-1/kms', 'Bearer token']) {
      const res = await sendRaw(server.url, { ...req, headers: { ...req.headers, authorization: auth } });
      assert.equal(res.status, 400, auth);
      assert.equal(awsJsonError(res).__type, 'IncompleteSignatureException', auth);
    }
  });

  it('X-Amz-Date 20 minutes old is InvalidSignatureException "Signature expired" (SDK with a skewed clock and raw)', async () => {
    const skewed = new KMSClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
      systemClockOffset: -20 * MIN,
    });
    try {
      const err = await rejection(skewed.send(new ListKeysCommand({})));
      assert.equal(err.name, 'InvalidSignatureException');
      assert.equal(err.$metadata?.httpStatusCode, 400);
      assert.match(err.message, /Signature expired/);
    } finally {
      skewed.destroy();
    }
    const req = await signedJsonRequest(server.url, 'TrentService.ListKeys', '{}', { signingDate: new Date(Date.now() - 20 * MIN) });
    const res = await sendRaw(server.url, req);
    assert.equal(res.status, 400);
    const err = awsJsonError(res);
    assert.equal(err.__type, 'InvalidSignatureException');
    assert.match(err.message, /Signature expired/);
  });

  it('an X-Amz-Date with hour 82 (which Date.UTC rolls over to now, three days after its scope date) is IncompleteSignatureException', async () => {
    const now = new Date();
    const shortDate = new Date(now.getTime() - 3 * 24 * 3600_000).toISOString().slice(0, 10).replace(/-/g, '');
    const longDate = `${shortDate}T${72 + now.getUTCHours()}${now.toISOString().slice(14, 16)}${now.toISOString().slice(17, 19)}Z`;
    class RolledOver extends SignatureV4 {
      override formatDate(): { longDate: string; shortDate: string } {
        return { longDate, shortDate };
      }
    }
    const url = new URL(server.url);
    const signed = await new RolledOver({ credentials: TEST_CREDENTIALS, region: 'us-east-1', service: 'kms', sha256: Sha256 }).sign(
      new HttpRequest({
        method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/',
        headers: { host: url.host, 'content-type': JSON_CONTENT_TYPE, 'x-amz-target': 'TrentService.ListKeys' }, body: '{}',
      }),
    );
    assert.equal(signed.headers['x-amz-date'], longDate);
    const res = await sendRaw(server.url, { method: 'POST', path: '/', headers: { ...signed.headers }, body: '{}' });
    assert.equal(res.status, 400, res.text);
    const err = awsJsonError(res);
    assert.equal(err.__type, 'IncompleteSignatureException');
    assert.match(err.message, /X-Amz-Date must be a valid date/);
  });

  it('X-Amz-Date 20 minutes ahead is InvalidSignatureException "Signature not yet current"', async () => {
    const req = await signedJsonRequest(server.url, 'TrentService.ListKeys', '{}', { signingDate: new Date(Date.now() + 20 * MIN) });
    const res = await sendRaw(server.url, req);
    assert.equal(res.status, 400);
    const err = awsJsonError(res);
    assert.equal(err.__type, 'InvalidSignatureException');
    assert.match(err.message, /Signature not yet current/);
  });

  it('a body changed after signing is InvalidSignatureException', async () => {
    const req = await signedJsonRequest(server.url, 'TrentService.ListKeys', '{"Limit":10}');
    const res = await sendRaw(server.url, { ...req, body: '{"Limit":11}' });
    assert.equal(res.status, 400);
    assert.equal(awsJsonError(res).__type, 'InvalidSignatureException');
  });

  it('a correctly signed body that is not JSON is SerializationException', async () => {
    for (const body of ['{', '{"Limit":', 'not json', '{"KeyId":"x",}', '\u0000\u0001', '[1,2', '"unterminated']) {
      const res = await sendRaw(server.url, await signedJsonRequest(server.url, 'TrentService.ListKeys', body));
      assert.equal(res.status, 400, body);
      const err = awsJsonError(res);
      assert.equal(err.__type, 'SerializationException', `${JSON.stringify(body)}: ${err.message}`);
    }
  });

  it('a correctly signed JSON body of the wrong type (array, string, number) is SerializationException', async () => {
    for (const body of ['[]', '"x"', '42', 'true']) {
      const res = await sendRaw(server.url, await signedJsonRequest(server.url, 'TrentService.ListKeys', body));
      assert.equal(res.status, 400, body);
      assert.equal(awsJsonError(res).__type, 'SerializationException', body);
    }
  });

  it('a correctly signed request for an unknown operation is UnknownOperationException', async () => {
    for (const target of ['TrentService.NoSuchOperation', 'TrentService.encrypt', 'TrentService.', 'NotKms.ListKeys', 'TrentService', '']) {
      const res = await sendRaw(server.url, await signedJsonRequest(server.url, target, '{}'));
      assert.equal(res.status, 400, target);
      assert.equal(awsJsonError(res).__type, 'UnknownOperationException', target);
    }
  });

  it('a body over 1 MiB is 413 with an AWS JSON error, and the server goes on serving', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 0x20);
    // Signed, with Content-Length.
    const signed = await signedJsonRequest(server.url, 'TrentService.ListKeys', big);
    const res = await sendRaw(server.url, signed);
    assert.equal(res.status, 413);
    assert.equal(awsJsonError(res).__type, 'RequestEntityTooLargeException');
    // Streamed (chunked, so the size is only known while reading), signed: the key, date and scope pass, the
    // size stops the read.
    const streamed = await signedJsonRequest(server.url, 'TrentService.ListKeys', Buffer.alloc(40 * 64 * 1024, 0x20));
    const chunked = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const url = new URL(server.url);
      const headers = { ...streamed.headers };
      delete headers['content-length'];
      const r = request({ host: url.hostname, port: url.port, method: 'POST', path: '/', headers, agent: false }, (resp) => {
        let text = '';
        resp.setEncoding('utf8');
        resp.on('data', (c: string) => (text += c));
        resp.on('end', () => resolve({ status: resp.statusCode ?? 0, text }));
      });
      r.on('error', reject);
      for (let i = 0; i < 40; i++) r.write(Buffer.alloc(64 * 1024, 0x20));
      r.end();
    });
    assert.equal(chunked.status, 413);
    assert.equal(awsJsonError({ status: chunked.status, headers: {}, body: Buffer.from(chunked.text), text: chunked.text }).__type, 'RequestEntityTooLargeException');
    // Exactly 1 MiB is not refused for its size.
    const limit = await sendRaw(server.url, await signedJsonRequest(server.url, 'TrentService.ListKeys', Buffer.concat([Buffer.from('{}'), Buffer.alloc(1024 * 1024 - 2, 0x20)])));
    assert.equal(limit.status, 200, limit.text);
    // The next ordinary request works.
    const out = await kms.send(new ListKeysCommand({}));
    assert.ok(Array.isArray(out.Keys));
    const health = await fetch(server.url + '/_strongroom/health');
    assert.equal(health.status, 200);
  });
});

describe('refusing an oversized body', () => {
  it('after a 413 on a keep-alive connection (body left unread) the server still stops promptly', async () => {
    const server = await startServer();
    const agent = new Agent({ keepAlive: true });
    try {
      const big = JSON.stringify({ Pad: ' '.repeat(4 * 1024 * 1024) });
      const res = await sendRaw(server.url, await signedJsonRequest(server.url, 'TrentService.Encrypt', big), { agent });
      assert.equal(res.status, 413);
      assert.equal(awsJsonError(res).__type, 'RequestEntityTooLargeException');
      const started = Date.now();
      await server.stop();
      const ms = Date.now() - started;
      assert.ok(ms < 2000, `server.stop() took ${ms} ms after a 413 on a keep-alive connection (413 sent with connection: ${res.headers.connection})`);
    } finally {
      agent.destroy();
      await server.destroy();
    }
  });
});

describe('KMS regions', () => {
  it('with regions us-east-1,eu-west-1 keys are per region: invisible from the other, ARNs carry the region', async () => {
    const server = await startServer({ regions: 'us-east-1,eu-west-1' });
    try {
      const us = server.kms({ region: 'us-east-1' });
      const eu = server.kms({ region: 'eu-west-1' });
      const usKey = (await us.send(new CreateKeyCommand({ Description: 'us' }))).KeyMetadata!;
      const euKey = (await eu.send(new CreateKeyCommand({ Description: 'eu' }))).KeyMetadata!;
      assert.equal(usKey.Arn, `arn:aws:kms:us-east-1:111122223333:key/${usKey.KeyId}`);
      assert.equal(euKey.Arn, `arn:aws:kms:eu-west-1:111122223333:key/${euKey.KeyId}`);

      const usIds = (await us.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId);
      const euList = (await eu.send(new ListKeysCommand({}))).Keys!;
      const euIds = euList.map((k) => k.KeyId);
      assert.ok(usIds.includes(usKey.KeyId) && !usIds.includes(euKey.KeyId), 'us-east-1 lists only its key');
      assert.ok(euIds.includes(euKey.KeyId) && !euIds.includes(usKey.KeyId), 'eu-west-1 lists only its key');
      assert.ok(euList.every((k) => k.KeyArn!.startsWith('arn:aws:kms:eu-west-1:')));

      for (const ref of [euKey.KeyId!, euKey.Arn!]) {
        const err = await rejection(us.send(new DescribeKeyCommand({ KeyId: ref })));
        assert.equal(err.name, 'NotFoundException', ref);
      }
      const euDescribed = await eu.send(new DescribeKeyCommand({ KeyId: euKey.KeyId }));
      assert.equal(euDescribed.KeyMetadata!.Arn, euKey.Arn);

      // A ciphertext of an eu-west-1 key cannot be decrypted through us-east-1.
      const enc = await eu.send(new EncryptCommand({ KeyId: euKey.KeyId, Plaintext: Buffer.from('eu data') }));
      assert.equal(enc.KeyId, euKey.Arn);
      const err = await rejection(us.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })));
      assert.equal(err.name, 'InvalidCiphertextException');
      const dec = await eu.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
      assert.equal(Buffer.from(dec.Plaintext!).toString(), 'eu data');

      // A region outside the list is still refused.
      const refused = await rejection(server.kms({ region: 'ap-south-1' }).send(new ListKeysCommand({})));
      assert.equal(refused.name, 'InvalidSignatureException');
      assert.match(refused.message, /ap-south-1/);
    } finally {
      await server.destroy();
    }
  });

  it('a request signed for a region not served names the region, the regions served and STRONGROOM_REGIONS (KMS and S3)', async () => {
    const server = await startServer({ regions: 'us-east-1,eu-west-1' });
    try {
      const refused = await rejection(server.kms({ region: 'us-west-2' }).send(new ListKeysCommand({})));
      assert.equal(refused.name, 'InvalidSignatureException');
      assert.match(refused.message, /'us-west-2' is not served by this deployment \(STRONGROOM_REGIONS: us-east-1,eu-west-1\); sign for a served region, or add 'us-west-2' to STRONGROOM_REGIONS/);
      const s3 = await rejection(server.s3({ region: 'us-west-2' }).send(new ListBucketsCommand({})));
      assert.equal(s3.$metadata?.httpStatusCode, 400);
      assert.match(s3.message, /'us-west-2' is not served by this deployment \(STRONGROOM_REGIONS: us-east-1,eu-west-1\)/);
    } finally {
      await server.destroy();
    }
    // Without STRONGROOM_REGIONS the home region alone is served, and the message says so.
    const home = await startServer();
    try {
      const refused = await rejection(home.kms({ region: 'eu-west-1' }).send(new ListKeysCommand({})));
      assert.match(refused.message, /'eu-west-1' is not served by this deployment \(STRONGROOM_REGIONS: us-east-1\)/);
    } finally {
      await home.destroy();
    }
  });

  it("with regions '*' any region is served, each with its own keys", async () => {
    const server = await startServer({ regions: '*' });
    try {
      for (const region of ['ap-southeast-2', 'sa-east-1', 'us-west-2']) {
        const client = server.kms({ region });
        const key = (await client.send(new CreateKeyCommand({}))).KeyMetadata!;
        assert.equal(key.Arn, `arn:aws:kms:${region}:111122223333:key/${key.KeyId}`);
        const listed = (await client.send(new ListKeysCommand({}))).Keys!;
        assert.deepEqual(listed.map((k) => k.KeyId), [key.KeyId]);
      }
    } finally {
      await server.destroy();
    }
  });
});

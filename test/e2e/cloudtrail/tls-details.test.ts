// Records of requests that came over HTTPS carry CloudTrail's tlsDetails — the negotiated TLS version, the cipher
// suite by its OpenSSL name and the Host header the client sent — as in AWS's KMS examples
// (https://docs.aws.amazon.com/kms/latest/developerguide/ct-getkeyrotationstatus.html). Real SDK clients over TLS 1.2
// and 1.3 against a server started with a certificate; over plain HTTP there is no tlsDetails (records.test.ts).
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecureVersion } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

type Json = Record<string, any>;

describe('tlsDetails on records of requests over HTTPS', () => {
  let server: TestServer;
  let dir: string;
  let ca: Buffer;
  const clients: { destroy(): void }[] = [];
  const handler = (maxVersion: SecureVersion) => new NodeHttpHandler({ httpsAgent: new Agent({ ca, maxVersion, minVersion: maxVersion }) });
  const config = (maxVersion: SecureVersion) => ({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1, requestHandler: handler(maxVersion) });
  const track = <T extends { destroy(): void }>(c: T) => (clients.push(c), c);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    ca = readFileSync(cert);
    server = await startServer({ tls: { certFile: cert, keyFile: key } });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const recordsOf = async (name: string) => {
    const t = track(new CloudTrailClient(config('TLSv1.3')));
    const events = (await t.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }] }))).Events ?? [];
    return events.map((e) => JSON.parse(e.CloudTrailEvent!) as Json);
  };

  it('TLS 1.2 and TLS 1.3 KMS calls show their version, cipher suite and Host header', async () => {
    const host = new URL(server.url).host;
    const v12 = await track(new KMSClient(config('TLSv1.2'))).send(new CreateKeyCommand({}));
    const v13 = await track(new KMSClient(config('TLSv1.3'))).send(new ListKeysCommand({}));
    const [create] = await recordsOf('CreateKey');
    assert.equal(create!.requestID, v12.$metadata.requestId);
    assert.equal(create!.tlsDetails.tlsVersion, 'TLSv1.2');
    assert.match(create!.tlsDetails.cipherSuite, /^ECDHE-RSA-AES(128|256)-GCM-SHA(256|384)$|^ECDHE-RSA-CHACHA20-POLY1305$/);
    assert.equal(create!.tlsDetails.clientProvidedHostHeader, host);
    assert.deepEqual(Object.keys(create!.tlsDetails).sort(), ['cipherSuite', 'clientProvidedHostHeader', 'tlsVersion']);
    const [list] = await recordsOf('ListKeys');
    assert.equal(list!.requestID, v13.$metadata.requestId);
    assert.equal(list!.tlsDetails.tlsVersion, 'TLSv1.3');
    assert.match(list!.tlsDetails.cipherSuite, /^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$/);
    assert.equal(list!.tlsDetails.clientProvidedHostHeader, host);
    assert.equal(create!.additionalEventData, undefined, "AWS's KMS call records carry no additionalEventData");
  });

  it('IAM (AWS Query) calls over TLS carry tlsDetails too', async () => {
    const out = await track(new IAMClient(config('TLSv1.2'))).send(new ListUsersCommand({}));
    const [r] = await recordsOf('ListUsers');
    assert.equal(r!.requestID, out.$metadata.requestId);
    assert.equal(r!.tlsDetails.tlsVersion, 'TLSv1.2');
  });
});

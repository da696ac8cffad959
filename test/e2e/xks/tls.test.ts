import { ConnectCustomKeyStoreCommand, CreateCustomKeyStoreCommand, CreateCustomKeyStoreCommandInput, CreateKeyCommand, DecryptCommand, DescribeCustomKeyStoresCommand, EncryptCommand } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureSelfSignedCertificate, selfSignedFiles } from '../../../src/http/self-signed.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';
import { XKS_CREDENTIAL, XKS_URI_PATH } from '../../helpers/xks.js';

/**
 * The XKS proxy API over Strongroom's TLS listener, as the spec requires (HTTPS, the proxy's certificate checked
 * against the client's CAs and the endpoint's host name): a KMS that trusts the proxy's CA (STRONGROOM_XKS_CA_FILE)
 * connects and uses its keys; one that does not is refused as AWS refuses an untrusted proxy certificate.
 */
describe('external key stores over TLS', () => {
  let proxy: TestServer;
  let trusting: TestServer;
  let distrusting: TestServer;
  let proxyKeyId: string;

  const input: CreateCustomKeyStoreCommandInput = {
    CustomKeyStoreName: 'tls',
    CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
    // The self-signed certificate names localhost; the endpoint names the host the certificate is checked against.
    XksProxyUriEndpoint: 'https://localhost',
    XksProxyUriPath: XKS_URI_PATH,
    XksProxyConnectivity: 'PUBLIC_ENDPOINT',
    XksProxyAuthenticationCredential: { AccessKeyId: XKS_CREDENTIAL.accessKeyId, RawSecretAccessKey: XKS_CREDENTIAL.secretAccessKey },
  };

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strongroom-xks-tls-'));
    ensureSelfSignedCertificate(dir, '127.0.0.1');
    const tls = selfSignedFiles(dir);
    proxy = await startServer({ tls, xksProxy: { credentials: [{ accountId: TEST_ACCOUNT, ...XKS_CREDENTIAL }] } });
    assert.match(proxy.url, /^https:/);
    proxyKeyId = (await proxy.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const connectTo = new Map([['localhost', { host: '127.0.0.1', port: Number(new URL(proxy.url).port) }]]);
    trusting = await startServer({ xksClient: { allowHttp: false, connectTo, timeoutMs: 2000, ca: readFileSync(tls.certFile, 'utf8') } });
    distrusting = await startServer({ xksClient: { allowHttp: false, connectTo, timeoutMs: 2000 } });
  });
  after(async () => {
    await trusting?.destroy();
    await distrusting?.destroy();
    await proxy?.destroy();
  });

  it('a KMS that trusts the proxy\'s CA creates, connects and round-trips through the proxy over HTTPS', async () => {
    const kms = trusting.kms();
    const CustomKeyStoreId = (await kms.send(new CreateCustomKeyStoreCommand(input))).CustomKeyStoreId!;
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId }));
    assert.equal((await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId }))).CustomKeyStores![0]!.ConnectionState, 'CONNECTED');
    const key = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId, XksKeyId: proxyKeyId }))).KeyMetadata!.KeyId!;
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('over TLS') }));
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString(), 'over TLS');
  });

  it('a KMS that does not trust the proxy\'s certificate is refused: XksProxyUriUnreachableException saying it cannot establish a TLS connection', async () => {
    const err = await rejection(distrusting.kms().send(new CreateCustomKeyStoreCommand(input)));
    assert.equal(err.name, 'XksProxyUriUnreachableException');
    assert.match(err.message, /cannot establish a TLS connection/);
  });
});

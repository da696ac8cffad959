import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  ConnectCustomKeyStoreCommand, CreateCustomKeyStoreCommand, CreateCustomKeyStoreCommandInput, CreateKeyCommand, DecryptCommand, DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand, DescribeKeyCommand, DisableKeyCommand, DisconnectCustomKeyStoreCommand, EnableKeyCommand, EncryptCommand,
  GenerateDataKeyCommand, GenerateDataKeyPairCommand, GenerateDataKeyPairWithoutPlaintextCommand, GenerateDataKeyWithoutPlaintextCommand, KMSClient, ReEncryptCommand, ScheduleKeyDeletionCommand, UpdateCustomKeyStoreCommand,
  GetKeyRotationStatusCommand, GenerateRandomCommand,
} from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';
import { XKS_CREDENTIAL, XKS_OTHER_CREDENTIAL, XKS_URI_PATH } from '../../helpers/xks.js';

/**
 * Custom key stores of type EXTERNAL_KEY_STORE (issue 13), end to end with two Strongroom servers: one serves the
 * XKS proxy API over its keys, the other's KMS uses it through @aws-sdk/client-kms.
 * https://docs.aws.amazon.com/kms/latest/developerguide/keystore-external.html
 */
describe('External key stores: one Strongroom as the XKS proxy, another\'s KMS using it', () => {
  let proxy: TestServer;
  let server: TestServer;
  let kms: KMSClient;
  let proxyKms: KMSClient;
  let proxyKeyId: string;
  let storeId: string;
  let deadPort: number;
  /** The KMS server's STRONGROOM_XKS_CONNECT_TO (a test moves one name to another proxy). */
  let connectTo: Map<string, { host: string; port: number }>;
  // A proxy that accepts connections and never answers.
  const silent = createServer((socket) => socket.on('data', () => undefined));
  const ENDPOINT = 'https://xks.example.com';
  const DOWN_ENDPOINT = 'https://xks-down.example.com';

  const storeInput = (over: Partial<CreateCustomKeyStoreCommandInput> = {}): CreateCustomKeyStoreCommandInput => ({
    CustomKeyStoreName: 'strongroom-xks',
    CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
    XksProxyUriEndpoint: ENDPOINT,
    XksProxyUriPath: XKS_URI_PATH,
    XksProxyConnectivity: 'PUBLIC_ENDPOINT',
    XksProxyAuthenticationCredential: { AccessKeyId: XKS_CREDENTIAL.accessKeyId, RawSecretAccessKey: XKS_CREDENTIAL.secretAccessKey },
    ...over,
  });
  const describeStore = async (id: string) => (await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores![0]!;
  const newProxyKey = async () => (await proxyKms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  const xksKey = async (xksKeyId: string) =>
    (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: storeId, XksKeyId: xksKeyId, Description: 'in an external key store' }))).KeyMetadata!;

  before(async () => {
    proxy = await startServer({ xksProxy: { credentials: [{ accountId: TEST_ACCOUNT, ...XKS_CREDENTIAL }] } });
    proxyKms = proxy.kms();
    proxyKeyId = await newProxyKey();
    // A port nothing listens on: a proxy that is down.
    deadPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const proxyPort = Number(new URL(proxy.url).port);
    const silentPort = await new Promise<number>((resolve) => silent.listen(0, '127.0.0.1', () => resolve((silent.address() as { port: number }).port)));
    server = await startServer({
      xksClient: {
        allowHttp: true,
        connectTo: (connectTo = new Map([
          ['xks.example.com', { host: '127.0.0.1', port: proxyPort }],
          // The same proxy under another name (another endpoint URI for the refusals below).
          ['xks2.example.com', { host: '127.0.0.1', port: proxyPort }],
          ['xks-down.example.com', { host: '127.0.0.1', port: deadPort }],
          ['xks-silent.example.com', { host: '127.0.0.1', port: silentPort }],
          ['xks-rotated.example.com', { host: '127.0.0.1', port: proxyPort }],
        ])),
        // Generous on a loaded test machine; AWS KMS's (and the default) is 250 ms.
        timeoutMs: 2000,
      },
    });
    kms = server.kms();
  });
  after(async () => {
    await server?.destroy();
    await proxy?.destroy();
    silent.close();
  });

  it('CreateCustomKeyStore checks the proxy and makes a DISCONNECTED store; DescribeCustomKeyStores shows its proxy configuration without the secret; ConnectCustomKeyStore makes it CONNECTED', async () => {
    storeId = (await kms.send(new CreateCustomKeyStoreCommand(storeInput()))).CustomKeyStoreId!;
    assert.match(storeId, /^cks-[0-9a-f]{17}$/);
    let entry = await describeStore(storeId);
    assert.equal(entry.ConnectionState, 'DISCONNECTED');
    assert.equal(entry.CustomKeyStoreType, 'EXTERNAL_KEY_STORE');
    assert.equal(entry.CustomKeyStoreName, 'strongroom-xks');
    assert.ok(entry.CreationDate instanceof Date);
    assert.deepEqual(entry.XksProxyConfiguration, { Connectivity: 'PUBLIC_ENDPOINT', AccessKeyId: XKS_CREDENTIAL.accessKeyId, UriEndpoint: ENDPOINT, UriPath: XKS_URI_PATH });
    assert.ok(!JSON.stringify(entry).includes(XKS_CREDENTIAL.secretAccessKey));
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    entry = await describeStore(storeId);
    assert.equal(entry.ConnectionState, 'CONNECTED');
    assert.equal(entry.ConnectionErrorCode, undefined);
    // By name too; and connecting a connected store changes nothing.
    assert.equal((await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreName: 'strongroom-xks' }))).CustomKeyStores![0]!.CustomKeyStoreId, storeId);
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
  });

  it('CreateKey with Origin EXTERNAL_KEY_STORE: DescribeKey shows CustomKeyStoreId and XksKeyConfiguration; Encrypt/Decrypt, GenerateDataKey(WithoutPlaintext) and ReEncrypt round trips go through the proxy (double encryption)', async () => {
    const key = await xksKey(proxyKeyId);
    assert.equal(key.Origin, 'EXTERNAL_KEY_STORE');
    assert.equal(key.CustomKeyStoreId, storeId);
    assert.deepEqual(key.XksKeyConfiguration, { Id: proxyKeyId });
    assert.equal(key.KeySpec, 'SYMMETRIC_DEFAULT');
    const described = (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    assert.equal(described.CustomKeyStoreId, storeId);
    assert.deepEqual(described.XksKeyConfiguration, { Id: proxyKeyId });
    assert.equal(described.KeyState, 'Enabled');

    const context = { purpose: 'xks-test' };
    const plaintext = Buffer.from('held by two keys');
    const enc = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext, EncryptionContext: context }));
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context }));
    assert.deepEqual(Buffer.from(dec.Plaintext!), plaintext);
    assert.equal(dec.KeyId, key.Arn);
    // The encryption context is bound to both layers.
    assert.equal((await rejection(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { purpose: 'other' } })))).name, 'KMSInvalidStateException');

    const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' }));
    assert.deepEqual((await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }))).Plaintext, dk.Plaintext);
    const dkw = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.KeyId, NumberOfBytes: 64 }));
    assert.equal((await kms.send(new DecryptCommand({ CiphertextBlob: dkw.CiphertextBlob }))).Plaintext!.length, 64);

    // ReEncrypt out of the external key store and back in.
    const local = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const out = await kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: context, DestinationKeyId: local }));
    const back = await kms.send(new ReEncryptCommand({ CiphertextBlob: out.CiphertextBlob, DestinationKeyId: key.KeyId, DestinationEncryptionContext: context }));
    assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob, EncryptionContext: context }))).Plaintext!), plaintext);

    // The proxy saw the KMS operations with the caller, the key and the KMS request ids (its log), never the plaintext.
    const proxyLogs = proxy.logs.join('');
    for (const op of ['CreateKey', 'Encrypt', 'Decrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncrypt']) assert.match(proxyLogs, new RegExp(`"kmsOperation":"${op}"`));
    assert.match(proxyLogs, new RegExp(`"kmsKeyArn":"${key.Arn}"`));
    assert.match(proxyLogs, new RegExp(`"awsPrincipalArn":"arn:aws:iam::${TEST_ACCOUNT}:root"`));
    assert.ok(!proxyLogs.includes(plaintext.toString('base64')));
    // Keys in custom key stores are not rotated by KMS.
    assert.equal((await rejection(kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId })))).name, 'UnsupportedOperationException');
  });

  it('KMS Encrypt with a key in the external key store works call after call (10 Encrypts, SDK -> KMS -> XKS proxy -> back): each ciphertext decrypts to its plaintext, and the proxy saw 10 Encrypts of the key', async () => {
    // Timing is not asserted here: `npm run bench:xks` measures these calls against an ordinary key's (README, Benchmarks).
    const key = await xksKey(await newProxyKey());
    for (let i = 0; i < 10; i++) {
      const plaintext = Buffer.from(`call ${i}`);
      const enc = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext }));
      assert.equal(enc.KeyId, key.Arn);
      const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
      assert.deepEqual(Buffer.from(dec.Plaintext!), plaintext);
    }
    const encrypts = proxy.logs.map((l) => JSON.parse(l) as { msg: string; xks?: { kmsOperation?: string; kmsKeyArn?: string } })
      .filter((l) => l.msg === 'xks proxy request' && l.xks?.kmsOperation === 'Encrypt' && l.xks.kmsKeyArn === key.Arn);
    assert.equal(encrypts.length, 10);
  });

  it('every caller-facing operation that uses a key in the external key store tells the proxy the caller and its KMS request id (GenerateDataKeyPair* too), never "AWS Internal"', async () => {
    const key = await xksKey(await newProxyKey());
    const calls: Array<[string, () => Promise<{ $metadata: { requestId?: string } }>]> = [
      ['Encrypt', () => kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }))],
      ['GenerateDataKey', () => kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' }))],
      ['GenerateDataKeyWithoutPlaintext', () => kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' }))],
      ['GenerateDataKeyPair', () => kms.send(new GenerateDataKeyPairCommand({ KeyId: key.KeyId, KeyPairSpec: 'ECC_NIST_P256' }))],
      ['GenerateDataKeyPairWithoutPlaintext', () => kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: key.KeyId, KeyPairSpec: 'ECC_NIST_P256' }))],
    ];
    for (const [operation, send] of calls) {
      const requestId = (await send()).$metadata.requestId;
      assert.ok(requestId, operation);
      const seen = proxy.logs.map((l) => JSON.parse(l) as { msg: string; xks?: { kmsOperation?: string; kmsKeyArn?: string; kmsRequestId?: string; awsPrincipalArn?: string } })
        .filter((l) => l.msg === 'xks proxy request' && l.xks?.kmsKeyArn === key.Arn && l.xks?.kmsOperation === operation);
      assert.equal(seen.length, 1, operation);
      assert.equal(seen[0]!.xks!.awsPrincipalArn, `arn:aws:iam::${TEST_ACCOUNT}:root`, operation);
      assert.equal(seen[0]!.xks!.kmsRequestId, requestId, operation);
    }
  });

  it('S3 SSE-KMS with a key in the external key store: the object round-trips, the proxy is told kmsViaService s3', async () => {
    const key = await xksKey(await newProxyKey());
    const s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'xks-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'xks-bucket', Key: 'o', Body: 'object under an external key', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.Arn }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'xks-bucket', Key: 'o' }));
    assert.equal(got.SSEKMSKeyId, key.Arn);
    assert.equal(await got.Body!.transformToString(), 'object under an external key');
    assert.match(proxy.logs.join(''), new RegExp(`"kmsKeyArn":"${key.Arn}","kmsViaService":"s3"`));
  });

  it('the ciphertext does not decrypt while the proxy\'s key is disabled (KMSInvalidStateException), and does again once it is enabled', async () => {
    const xksKeyId = await newProxyKey();
    const key = await xksKey(xksKeyId);
    const enc = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('secret') }));
    await proxyKms.send(new DisableKeyCommand({ KeyId: xksKeyId }));
    const err = await rejection(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })));
    assert.equal(err.name, 'KMSInvalidStateException');
    assert.match(err.message, /not enabled in the external key manager/);
    assert.equal((await rejection(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })))).name, 'KMSInvalidStateException');
    // CreateKey with a disabled external key: XksKeyInvalidConfigurationException.
    assert.equal((await rejection(xksKey(await (async () => { const id = await newProxyKey(); await proxyKms.send(new DisableKeyCommand({ KeyId: id })); return id; })()))).name, 'XksKeyInvalidConfigurationException');
    await proxyKms.send(new EnableKeyCommand({ KeyId: xksKeyId }));
    assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!).toString(), 'secret');
  });

  it('CreateKey: an external key already used is XksKeyAlreadyInUseException, one the proxy does not have (or an HMAC key) XksKeyNotFoundException, an asymmetric spec UnsupportedOperationException', async () => {
    assert.equal((await rejection(xksKey(proxyKeyId))).name, 'XksKeyAlreadyInUseException');
    assert.equal((await rejection(xksKey('no-such-external-key'))).name, 'XksKeyNotFoundException');
    const hmac = (await proxyKms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.KeyId!;
    assert.equal((await rejection(xksKey(hmac))).name, 'XksKeyNotFoundException');
    const err = await rejection(kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: storeId, XksKeyId: await newProxyKey(), KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' })));
    assert.equal(err.name, 'UnsupportedOperationException');
    assert.equal((await rejection(kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: 'cks-00000000000000000', XksKeyId: 'x' })))).name, 'CustomKeyStoreNotFoundException');
  });

  it('CreateCustomKeyStore refuses: wrong proxy credentials (XksProxyIncorrectAuthenticationCredentialException), a proxy that is down (XksProxyUriUnreachableException), a wrong path (XksProxyInvalidConfigurationException), AWS_CLOUDHSM, VPC_ENDPOINT_SERVICE, a name or URI in use', async () => {
    const cases: [string, CreateCustomKeyStoreCommandInput, string][] = [
      ['wrong secret', storeInput({ CustomKeyStoreName: 'a', XksProxyUriEndpoint: 'https://xks2.example.com', XksProxyAuthenticationCredential: { AccessKeyId: XKS_CREDENTIAL.accessKeyId, RawSecretAccessKey: XKS_OTHER_CREDENTIAL.secretAccessKey } }), 'XksProxyIncorrectAuthenticationCredentialException'],
      ['unknown access key', storeInput({ CustomKeyStoreName: 'b', XksProxyUriEndpoint: 'https://xks2.example.com', XksProxyAuthenticationCredential: { AccessKeyId: XKS_OTHER_CREDENTIAL.accessKeyId, RawSecretAccessKey: XKS_OTHER_CREDENTIAL.secretAccessKey } }), 'XksProxyIncorrectAuthenticationCredentialException'],
      ['proxy down', storeInput({ CustomKeyStoreName: 'c', XksProxyUriEndpoint: DOWN_ENDPOINT }), 'XksProxyUriUnreachableException'],
      ['proxy silent past the timeout', storeInput({ CustomKeyStoreName: 'c2', XksProxyUriEndpoint: 'https://xks-silent.example.com' }), 'XksProxyUriUnreachableException'],
      ['wrong path', storeInput({ CustomKeyStoreName: 'd', XksProxyUriPath: '/_strongroom/xks/nothing/kms/xks/v1' }), 'XksProxyInvalidConfigurationException'],
      ['AWS_CLOUDHSM', { CustomKeyStoreName: 'e', CloudHsmClusterId: 'cluster-abcdefghijk', KeyStorePassword: 'kmsuser-password', TrustAnchorCertificate: 'x' }, 'CloudHsmClusterNotFoundException'],
      ['VPC endpoint service', storeInput({ CustomKeyStoreName: 'f', XksProxyConnectivity: 'VPC_ENDPOINT_SERVICE', XksProxyVpcEndpointServiceName: 'com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0' }), 'XksProxyVpcEndpointServiceNotFoundException'],
      ['name in use', storeInput({ XksProxyUriPath: `/_strongroom/xks/${TEST_ACCOUNT}/kms/xks/v1`.replace('/kms', '/x/kms') }), 'CustomKeyStoreNameInUseException'],
      ['endpoint and path in use', storeInput({ CustomKeyStoreName: 'g' }), 'XksProxyUriInUseException'],
      ['an http:// endpoint', storeInput({ CustomKeyStoreName: 'h', XksProxyUriEndpoint: 'http://xks.example.com' }), 'ValidationException'],
    ];
    for (const [what, input, name] of cases) {
      const err = await rejection(kms.send(new CreateCustomKeyStoreCommand(input)));
      assert.equal(err.name, name, `${what}: ${err.message}`);
      if (what === 'proxy silent past the timeout') assert.match(err.message, /did not respond in time/);
    }
    assert.equal((await kms.send(new DescribeCustomKeyStoresCommand({}))).CustomKeyStores!.length, 1);
  });

  it('UpdateCustomKeyStore: a new name at any time; new credentials are checked against the proxy (wrong ones refused); the endpoint only while disconnected', async () => {
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, NewCustomKeyStoreName: 'renamed' }));
    assert.equal((await describeStore(storeId)).CustomKeyStoreName, 'renamed');
    const wrong = await rejection(kms.send(new UpdateCustomKeyStoreCommand({
      CustomKeyStoreId: storeId,
      XksProxyAuthenticationCredential: { AccessKeyId: XKS_CREDENTIAL.accessKeyId, RawSecretAccessKey: XKS_OTHER_CREDENTIAL.secretAccessKey },
    })));
    assert.equal(wrong.name, 'XksProxyIncorrectAuthenticationCredentialException');
    await kms.send(new UpdateCustomKeyStoreCommand({
      CustomKeyStoreId: storeId,
      XksProxyAuthenticationCredential: { AccessKeyId: XKS_CREDENTIAL.accessKeyId, RawSecretAccessKey: XKS_CREDENTIAL.secretAccessKey },
    }));
    assert.equal((await rejection(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, XksProxyUriEndpoint: DOWN_ENDPOINT })))).name, 'CustomKeyStoreInvalidStateException');
    assert.equal((await describeStore(storeId)).ConnectionState, 'CONNECTED');
  });

  it('DisconnectCustomKeyStore: its keys are Unavailable and refuse cryptography (KMSInvalidStateException), CreateKey is CustomKeyStoreInvalidStateException, DeleteCustomKeyStore refuses while it has keys; connecting again restores them', async () => {
    const key = await xksKey(await newProxyKey());
    const enc = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('before') }));
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    assert.equal((await describeStore(storeId)).ConnectionState, 'DISCONNECTED');
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.KeyState, 'Unavailable');
    for (const call of [
      () => kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })),
      () => kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })),
      () => kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' })),
    ]) {
      const err = await rejection(call());
      assert.equal(err.name, 'KMSInvalidStateException');
      assert.match(err.message, /not connected to its external key store proxy/);
    }
    assert.equal((await rejection(xksKey(await newProxyKey()))).name, 'CustomKeyStoreInvalidStateException');
    assert.equal((await rejection(kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).name, 'CustomKeyStoreInvalidStateException');
    assert.equal((await rejection(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).name, 'CustomKeyStoreHasCMKsException');
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!).toString(), 'before');
    // A connected store is not deleted; keys scheduled for deletion still count.
    assert.equal((await rejection(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).name, 'CustomKeyStoreInvalidStateException');
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
  });

  it('CreateCustomKeyStore and the others are audited with AWS\'s requestParameters, never the proxy secret', async () => {
    const trail = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    try {
      const events = (await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateCustomKeyStore' }] }))).Events!;
      assert.ok(events.length >= 1);
      const record = JSON.parse(events.at(-1)!.CloudTrailEvent!) as { requestParameters: Record<string, unknown>; responseElements: Record<string, unknown> | null };
      assert.equal(record.requestParameters.customKeyStoreName, 'strongroom-xks');
      assert.equal(record.requestParameters.customKeyStoreType, 'EXTERNAL_KEY_STORE');
      assert.equal(record.requestParameters.xksProxyUriEndpoint, ENDPOINT);
      for (const name of ['ConnectCustomKeyStore', 'DisconnectCustomKeyStore', 'UpdateCustomKeyStore', 'DescribeCustomKeyStores']) {
        assert.ok((await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }] }))).Events!.length >= 1, name);
      }
      const all = JSON.stringify((await trail.send(new LookupEventsCommand({ MaxResults: 50 }))).Events);
      assert.ok(!all.includes(XKS_CREDENTIAL.secretAccessKey));
      assert.ok(!server.logs.join('').includes(XKS_CREDENTIAL.secretAccessKey));
    } finally {
      trail.destroy();
    }
  });

  it('ConnectCustomKeyStore after the proxy\'s credential changed (a proxy with another secret for the access key id) is FAILED with INVALID_CREDENTIALS; GenerateRandom refuses an external key store', async () => {
    const id = (await kms.send(new CreateCustomKeyStoreCommand(storeInput({ CustomKeyStoreName: 'rotated', XksProxyUriEndpoint: 'https://xks-rotated.example.com' })))).CustomKeyStoreId!;
    const other = await startServer({ xksProxy: { credentials: [{ accountId: TEST_ACCOUNT, accessKeyId: XKS_CREDENTIAL.accessKeyId, secretAccessKey: XKS_OTHER_CREDENTIAL.secretAccessKey }] } });
    try {
      connectTo.set('xks-rotated.example.com', { host: '127.0.0.1', port: Number(new URL(other.url).port) });
      await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
      const entry = await describeStore(id);
      assert.equal(entry.ConnectionState, 'FAILED');
      assert.equal(entry.ConnectionErrorCode, 'INVALID_CREDENTIALS');
    } finally {
      await other.destroy();
    }
    // AWS: "If you specify the ID of an external key store, GenerateRandom throws an UnsupportedOperationException."
    assert.equal((await rejection(kms.send(new GenerateRandomCommand({ NumberOfBytes: 8, CustomKeyStoreId: id })))).name, 'UnsupportedOperationException');
    assert.equal((await rejection(kms.send(new GenerateRandomCommand({ NumberOfBytes: 8, CustomKeyStoreId: 'cks-00000000000000000' })))).name, 'CustomKeyStoreNotFoundException');
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    await kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    assert.equal((await rejection(kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id })))).name, 'CustomKeyStoreNotFoundException');
  });

  it('the proxy down: cryptography is KMSInvalidStateException saying KMS cannot communicate with the proxy; Connect after Disconnect is FAILED with XKS_PROXY_NOT_REACHABLE; a disconnected store without keys is deleted', async () => {
    const key = await xksKey(await newProxyKey());
    await proxy.stop();
    const err = await rejection(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })));
    assert.equal(err.name, 'KMSInvalidStateException');
    assert.match(err.message, /cannot communicate with the external key store proxy/);
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    const entry = await describeStore(storeId);
    assert.equal(entry.ConnectionState, 'FAILED');
    assert.equal(entry.ConnectionErrorCode, 'XKS_PROXY_NOT_REACHABLE');
    // A FAILED store is disconnected before it is connected again (AWS).
    assert.equal((await rejection(kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).name, 'CustomKeyStoreInvalidStateException');
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    assert.equal((await rejection(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).name, 'CustomKeyStoreHasCMKsException');
  });
});

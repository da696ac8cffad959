import {
  ConnectCustomKeyStoreCommand, CreateCustomKeyStoreCommand, CreateKeyCommand, DecryptCommand, DescribeCustomKeyStoresCommand, DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand, EncryptCommand,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InProcessInvalidation } from '../../../src/core/cache/invalidation.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';
import { XKS_CREDENTIAL, XKS_URI_PATH } from '../../helpers/xks.js';

/**
 * Two KMS nodes sharing one database (DESIGN.md §6) with an external key store: its connection state and its
 * keys' external key ids are in the database, so a Connect or Disconnect made through one node holds on the
 * other at once, and either node decrypts what the other encrypted. SQLite and PostgreSQL.
 */
describe('external key stores across two nodes sharing one database', () => {
  let proxy: TestServer;
  let proxyKeyId: string;

  before(async () => {
    proxy = await startServer({ xksProxy: { credentials: [{ accountId: TEST_ACCOUNT, ...XKS_CREDENTIAL }] } });
    proxyKeyId = (await proxy.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  });
  after(async () => proxy?.destroy());

  const twoNodes = async (databaseUrl?: string) => {
    const port = new InProcessInvalidation();
    const xksClient = { allowHttp: true, connectTo: new Map([['xks.example.com', { host: '127.0.0.1', port: Number(new URL(proxy.url).port) }]]), timeoutMs: 2000 };
    const a = await startServer({ cache: { port }, xksClient, ...(databaseUrl ? { databaseUrl } : {}) });
    const b = await startServer({ cache: { port }, xksClient, dataDir: a.dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
    return { a, b };
  };

  const scenario = async ({ a, b }: { a: TestServer; b: TestServer }, xksKeyId: string) => {
    const [ka, kb] = [a.kms(), b.kms()];
    try {
      const CustomKeyStoreId = (await ka.send(new CreateCustomKeyStoreCommand({
        CustomKeyStoreName: 'shared',
        CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
        XksProxyUriEndpoint: 'https://xks.example.com',
        XksProxyUriPath: XKS_URI_PATH,
        XksProxyConnectivity: 'PUBLIC_ENDPOINT',
        XksProxyAuthenticationCredential: { AccessKeyId: XKS_CREDENTIAL.accessKeyId, RawSecretAccessKey: XKS_CREDENTIAL.secretAccessKey },
      }))).CustomKeyStoreId!;
      // Connected through node b: node a creates a key in it (its secret unwrapped from the shared database).
      await kb.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId }));
      assert.equal((await ka.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId }))).CustomKeyStores![0]!.ConnectionState, 'CONNECTED');
      const key = (await ka.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId, XksKeyId: xksKeyId }))).KeyMetadata!.KeyId!;
      const { CiphertextBlob } = await ka.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('two nodes') }));
      assert.equal(Buffer.from((await kb.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString(), 'two nodes');
      assert.equal((await kb.send(new DescribeKeyCommand({ KeyId: key }))).KeyMetadata!.XksKeyConfiguration?.Id, xksKeyId);
      // Disconnected through node a: node b refuses at once.
      await ka.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId }));
      assert.equal((await rejection(kb.send(new DecryptCommand({ CiphertextBlob })))).name, 'KMSInvalidStateException');
      assert.equal((await kb.send(new DescribeKeyCommand({ KeyId: key }))).KeyMetadata!.KeyState, 'Unavailable');
    } finally {
      await b.stop();
      await a.destroy();
    }
  };

  it('SQLite: Connect on one node, CreateKey/Encrypt on the other, Decrypt on the first; Disconnect on one stops the other', async () => {
    await scenario(await twoNodes(), proxyKeyId);
  });

  it('PostgreSQL: the same across two nodes of one database', { skip: postgresSkip() }, async () => {
    await scenario(await twoNodes(await (await postgresCluster()).createDatabase()), proxyKeyId);
  });
});

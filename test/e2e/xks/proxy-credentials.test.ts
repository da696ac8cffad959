import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/config.js';
import { readXksProxyCredentials } from '../../../src/services/xks-proxy/credentials.js';
import { TEST_ACCOUNT, TestServer, startServer } from '../../helpers/server.js';
import { XKS_CREDENTIAL, XKS_OTHER_CREDENTIAL, XKS_URI_PATH, xksCall } from '../../helpers/xks.js';

const entry = (c: { accessKeyId: string; secretAccessKey: string }) => ({ accountId: TEST_ACCOUNT, ...c });

/**
 * The XKS proxy's credentials file (STRONGROOM_XKS_PROXY_CREDENTIALS_FILE): checked at start without echoing a
 * secret, and re-read when it changes so a credential rotates without a restart, as the spec's "SigV4 credentials
 * rotation" asks (add the new credential, UpdateCustomKeyStore in KMS, remove the old one).
 */
describe('XKS proxy credentials: configuration and rotation without a restart', () => {
  let dir: string;
  let file: string;
  let server: TestServer;
  const health = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
    xksCall(server.url, `${XKS_URI_PATH}/health`, { requestMetadata: { kmsRequestId: 'r', kmsOperation: 'KmsHealthCheck' } }, { credentials });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-xks-creds-'));
    file = join(dir, 'xks-credentials.json');
    writeFileSync(file, JSON.stringify([entry(XKS_CREDENTIAL)]), { mode: 0o600 });
    server = await startServer({ xksProxy: readXksProxyCredentials(file, (m) => new ConfigError(m)) });
  });
  after(async () => {
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a rotation: the new credential works once added, the old one stops once removed; a broken file keeps the credentials in use', async () => {
    assert.equal((await health(XKS_CREDENTIAL)).status, 200);
    assert.equal((await health(XKS_OTHER_CREDENTIAL)).status, 401);
    writeFileSync(file, JSON.stringify([entry(XKS_CREDENTIAL), entry(XKS_OTHER_CREDENTIAL)]));
    await sleep(1100);
    assert.equal((await health(XKS_OTHER_CREDENTIAL)).status, 200);
    assert.equal((await health(XKS_CREDENTIAL)).status, 200);
    writeFileSync(file, JSON.stringify([entry(XKS_OTHER_CREDENTIAL)]));
    await sleep(1100);
    assert.equal((await health(XKS_CREDENTIAL)).status, 401);
    assert.equal((await health(XKS_OTHER_CREDENTIAL)).status, 200);
    writeFileSync(file, '[{"accountId": "not json');
    await sleep(1100);
    assert.equal((await health(XKS_OTHER_CREDENTIAL)).status, 200);
    const logs = server.logs.join('');
    assert.match(logs, /XKS proxy credentials file changed but could not be read/);
    assert.ok(!logs.includes(XKS_CREDENTIAL.secretAccessKey) && !logs.includes(XKS_OTHER_CREDENTIAL.secretAccessKey));
  });

  it('loadConfig: the credentials file and the XKS client settings are checked, and errors never show a secret', () => {
    writeFileSync(file, JSON.stringify([entry(XKS_OTHER_CREDENTIAL)]));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, `[{"secretAccessKey": "short-secret", oops}]`);
    assert.throws(() => loadConfig({}, { STRONGROOM_XKS_PROXY_CREDENTIALS_FILE: bad }), (err: Error) => /not valid JSON$/.test(err.message) && !err.message.includes('short-secret'));
    const check = (content: unknown, pattern: RegExp) => {
      writeFileSync(bad, JSON.stringify(content));
      assert.throws(() => loadConfig({}, { STRONGROOM_XKS_PROXY_CREDENTIALS_FILE: bad }), (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, pattern);
        assert.ok(!err.message.includes('short-secret'));
        return true;
      });
    };
    check([], /non-empty JSON array/);
    check([{ accountId: TEST_ACCOUNT, accessKeyId: 'lowercase-not-allowed-x', secretAccessKey: XKS_CREDENTIAL.secretAccessKey }], /accessKeyId must be 20 to 30 characters/);
    check([{ accountId: TEST_ACCOUNT, accessKeyId: XKS_CREDENTIAL.accessKeyId, secretAccessKey: 'short-secret' }], /secretAccessKey must be 43 to 64 characters/);
    check([entry(XKS_CREDENTIAL), entry(XKS_CREDENTIAL)], /appears twice/);
    assert.throws(() => loadConfig({}, { STRONGROOM_XKS_PROXY_CREDENTIALS_FILE: join(dir, 'missing.json') }), /STRONGROOM_XKS_PROXY_CREDENTIALS_FILE/);

    const config = loadConfig({}, { STRONGROOM_XKS_PROXY_CREDENTIALS_FILE: file, STRONGROOM_XKS_CONNECT_TO: 'xks.example.com=127.0.0.1:8443, other.example=[::1]:443', STRONGROOM_XKS_TIMEOUT_MS: '400' });
    assert.deepEqual(config.xksProxy?.credentials.map((c) => c.accessKeyId), [XKS_OTHER_CREDENTIAL.accessKeyId]);
    assert.deepEqual([...config.xksClient!.connectTo], [['xks.example.com', { host: '127.0.0.1', port: 8443 }], ['other.example', { host: '::1', port: 443 }]]);
    assert.equal(config.xksClient!.timeoutMs, 400);
    assert.equal(config.xksClient!.allowHttp, false);
    assert.equal(loadConfig({}, {}).xksClient!.timeoutMs, 250);
    assert.throws(() => loadConfig({}, { STRONGROOM_XKS_CONNECT_TO: 'xks.example.com:8443' }), /is not host=address:port/);
    assert.throws(() => loadConfig({}, { STRONGROOM_XKS_CA_FILE: file }), /holds no PEM certificate/);
  });
});

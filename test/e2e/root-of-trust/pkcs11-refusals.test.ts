import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.js';
import { killAll, spawnServe } from '../../helpers/process.js';
import { TEST_CREDENTIALS, TEST_REGION } from '../../helpers/server.js';
import { SoftHsm, softHsm, softhsmSkip } from '../../helpers/softhsm.js';

const PIN = '24681357';
const ROOT_ENV = { STRONGROOM_ACCOUNT_ID: '111122223333', STRONGROOM_ROOT_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, STRONGROOM_ROOT_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey };

const kmsAt = (url: string) => new KMSClient({ endpoint: url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });

describe('the PKCS#11 root of trust refuses to start without its HSM, PIN or key', { skip: softhsmSkip() }, () => {
  let hsm: SoftHsm;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    hsm = softHsm();
    hsm.initToken('sr-root', PIN);
    dataDir = join(mkdtempSync(join(tmpdir(), 'sr-pkcs11-')), 'data');
    env = { ...ROOT_ENV, ...hsm.env('sr-root', PIN) };
    const proc = await spawnServe(['--data-dir', dataDir], env);
    const kms = kmsAt(proc.url);
    await kms.send(new CreateKeyCommand({}));
    kms.destroy();
    await proc.terminate();
  });
  after(() => {
    killAll();
    hsm.destroy();
  });

  it('a wrong PIN, a missing token, a missing key or the file root: start refused with one line naming it (exit 1)', async () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ STRONGROOM_PKCS11_PIN: '0000' }, /^strongroom: the PIN of PKCS#11 token "sr-root" is wrong/],
      [{ STRONGROOM_PKCS11_TOKEN_LABEL: 'elsewhere' }, /^strongroom: the PKCS#11 module .* has no token labelled "elsewhere".*its tokens: "sr-root"/],
      [{ STRONGROOM_PKCS11_KEY_LABEL: 'other-key' }, /^strongroom: PKCS#11 token "sr-root" has no AES key labelled "other-key" .*the root key is missing/],
      [{ STRONGROOM_PKCS11_MODULE: '/nonexistent/libpkcs11.so' }, /^strongroom: cannot load the PKCS#11 module \/nonexistent\/libpkcs11.so/],
      [{ STRONGROOM_ROOT_OF_TRUST: 'file' }, /^strongroom: data dir .* has a database .* but no root-of-trust key .*start with --root-of-trust pkcs11/],
    ];
    for (const [change, message] of cases) {
      const run = await runCli(['serve', '--port', '0', '--data-dir', dataDir], { ...env, ...change });
      assert.equal(run.code, 1, `${JSON.stringify(change)}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.doesNotMatch(run.stderr, new RegExp(PIN));
    }
    // No key was generated under the other label (an existing deployment never makes a new root key).
    assert.ok(!existsSync(join(dataDir, 'root-of-trust.key')));
  });

});

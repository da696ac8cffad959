// Two nodes on one PostgreSQL database share one keyring: a keyring key added offline (operator rotate-keyring)
// is used by the next writer, and a node that still holds only the older keys finds the new one when it first
// meets a blob naming it (it re-reads the keyring row once).
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT_KEY_FILE } from '../../../src/core/crypto/root-of-trust/file.js';
import { runCli } from '../../helpers/cli.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

describe('the keyring across nodes sharing PostgreSQL', { skip: postgresSkip() }, () => {
  let url: string;
  let a: TestServer;
  let b: TestServer;
  let location: string[];
  before(async () => {
    url = await (await postgresCluster()).createDatabase();
    a = await startServer({ databaseUrl: url });
    const keyFile = join(a.dataDir, ROOT_KEY_FILE);
    b = await startServer({ databaseUrl: url, rootOfTrustFile: keyFile });
    location = ['--database-url', url, '--root-of-trust-file', keyFile];
  });
  after(async () => {
    await b?.destroy();
    await a?.destroy();
  });

  it('after rotate-keyring on the database, a secret wrapped by the new keyring key is read by both running nodes; material from before still decrypts on both', async () => {
    const key = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const before = await a.kms().send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('before the rotation') }));
    const rotated = await runCli(['operator', 'rotate-keyring', ...location]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /Keyring key 2 added/);
    // The offline command's keyring is the new one: the account's root secret is wrapped by keyring key 2.
    const created = await runCli(['account', 'create', ...location, '--account-id', '777788889999']);
    assert.equal(created.code, 0, created.stderr);
    const credentials = {
      accessKeyId: /AWS_ACCESS_KEY_ID=(\S+)/.exec(created.stdout)![1]!,
      secretAccessKey: /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(created.stdout)![1]!,
    };
    for (const node of [a, b]) {
      const sts = new STSClient({ endpoint: node.url, region: TEST_REGION, credentials, maxAttempts: 1 });
      try {
        const who = await sts.send(new GetCallerIdentityCommand({}));
        assert.equal(who.Account, '777788889999');
      } finally {
        sts.destroy();
      }
      const d = await node.kms().send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }));
      assert.equal(Buffer.from(d.Plaintext!).toString(), 'before the rotation');
    }
    // Node b, having met key 2, wraps new material with it; node a reads it.
    const made = (await b.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const after = await b.kms().send(new EncryptCommand({ KeyId: made, Plaintext: Buffer.from('after the rotation') }));
    assert.equal(Buffer.from((await a.kms().send(new DecryptCommand({ CiphertextBlob: after.CiphertextBlob }))).Plaintext!).toString(), 'after the rotation');
  });
});

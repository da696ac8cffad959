// The offline commands on PostgreSQL, beside a running server on the same database: `strongroom account
// create --database-url` adds an account whose root the running server accepts at once (its credential cache
// is told through LISTEN/NOTIFY), and `strongroom explain --database-url` reads the keys, policies and IAM of
// the database as the server decides on them.
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, EncryptCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT_KEY_FILE } from '../../../src/core/crypto/root-of-trust/file.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { Clients, Credentials, allow, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, startServer } from '../../helpers/server.js';

const OTHER = '444455556666';

function strongroom(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/strongroom.js', ...args], { timeout: 30_000, encoding: 'utf8', env: { ...process.env, STRONGROOM_LOG_LEVEL: 'warn' } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('offline commands on PostgreSQL beside a running server', { skip: postgresSkip() }, () => {
  let url: string;
  let server: TestServer;
  let clients: Clients;
  let location: string[];
  before(async () => {
    url = await (await postgresCluster()).createDatabase();
    server = await startServer({ databaseUrl: url });
    clients = new Clients(server);
    location = ['--database-url', url, '--root-of-trust-file', join(server.dataDir, ROOT_KEY_FILE)];
  });
  after(async () => {
    clients?.destroy();
    await server?.destroy();
  });

  it('account create --database-url: the running server accepts the new root at once, and its keys are its own', async () => {
    const res = await strongroom(['account', 'create', ...location, '--account-id', OTHER]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`Account ${OTHER} created`));
    const other: Credentials = { accessKeyId: /AWS_ACCESS_KEY_ID=(\S+)/.exec(res.stdout)![1]!, secretAccessKey: /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(res.stdout)![1]! };
    assert.equal((await clients.sts(other).send(new GetCallerIdentityCommand({}))).Arn, `arn:aws:iam::${OTHER}:root`);
    const theirs = (await clients.kms(other).send(new CreateKeyCommand({}))).KeyMetadata!;
    assert.equal(theirs.AWSAccountId, OTHER);
    const mine = (await clients.kms().send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId);
    assert.ok(!mine.includes(theirs.KeyId));
    const again = await strongroom(['account', 'create', ...location, '--account-id', OTHER]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`account ${OTHER} already exists`));
  });

  it('explain --database-url answers what the server enforces for a user, before and after an IAM policy', async () => {
    const key = (await clients.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    await clients.iam().send(new CreateUserCommand({ UserName: 'pg-explained' }));
    const { AccessKey } = await clients.iam().send(new CreateAccessKeyCommand({ UserName: 'pg-explained' }));
    const user: Credentials = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    const principal = `arn:aws:iam::${TEST_ACCOUNT}:user/pg-explained`;
    const explain = () => strongroom(['explain', ...location, '--principal', principal, '--action', 'kms:Encrypt', '--key', key.KeyId!]);
    const served = () => clients.kms(user).send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('x') })).then(() => 'allowed', (e: Error) => e.name);
    const before = await explain();
    assert.match(before.stdout, new RegExp(`^IMPLICITDENY: ${principal} → kms:Encrypt on `), before.stdout + before.stderr);
    assert.equal(await served(), 'AccessDeniedException');
    await clients.iam().send(new PutUserPolicyCommand({ UserName: 'pg-explained', PolicyName: 'enc', PolicyDocument: policyDocument(allow('kms:Encrypt', key.Arn!)) }));
    const afterPolicy = await explain();
    assert.match(afterPolicy.stdout, new RegExp(`^ALLOW: ${principal} → kms:Encrypt on `), afterPolicy.stdout + afterPolicy.stderr);
    assert.equal(await served(), 'allowed');
  });
});

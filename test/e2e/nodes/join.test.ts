// Nodes sharing one PostgreSQL database share one root of trust (issue 10): the first `strongroom serve` on an
// empty database initialises it; a second one given a copy of the first one's root-of-trust file joins the same
// deployment; a second one without that file, or with another key, refuses to start with one clear line, exit 1.
// Two nodes starting at once on an empty database (migrations, initialisation) end up in one deployment.
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NODE_REGION, NODE_ROOT, NODE_ROOT_ENV, NodeClients } from '../../helpers/nodes.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { ServeProcess, killAll, spawnServe } from '../../helpers/process.js';

/** Runs `strongroom serve` expecting it to refuse to start: its exit code and what it printed. */
function refusedServe(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, ['bin/strongroom.js', 'serve', '--port', '0', ...args], {
    env: { ...process.env, STRONGROOM_LOG_LEVEL: 'warn', STRONGROOM_WORKERS: '1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('two strongroom serve processes on one PostgreSQL database', { skip: postgresSkip() }, () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'sr-nodes-'));
    dirs.push(d);
    return d;
  };
  let databaseUrl: string;
  let a: ServeProcess;
  let aKeyFile: string;
  let aClients: NodeClients;
  const clients: NodeClients[] = [];

  before(async () => {
    databaseUrl = await (await postgresCluster()).createDatabase();
    const dir = tempDir();
    aKeyFile = join(dir, 'root-of-trust.key');
    // No STRONGROOM_ROOT_*: the first node generates the root credentials and prints them once.
    a = await spawnServe(['--database-url', databaseUrl, '--root-of-trust-file', aKeyFile, '--data-dir', join(dir, 'data')], {
      STRONGROOM_ACCOUNT_ID: '555566667777',
    });
    const out = a.stdout();
    const generated = {
      accessKeyId: /AWS_ACCESS_KEY_ID=(\S+)/.exec(out)?.[1] ?? '',
      secretAccessKey: /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(out)?.[1] ?? '',
    };
    assert.match(generated.accessKeyId, /^AKIA[A-Z2-7]{16}$/, `the first node prints generated root credentials: ${out}`);
    aClients = new NodeClients(a.url, generated);
    clients.push(aClients);
  });

  after(() => {
    for (const c of clients) c.destroy();
    killAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a second node given a copy of the first one\'s root-of-trust file joins the same account: keys, credentials and ciphertexts work on both', async () => {
    const dir = tempDir();
    const keyCopy = join(dir, 'root-of-trust.key');
    copyFileSync(aKeyFile, keyCopy);
    const b = await spawnServe(['--database-url', databaseUrl, '--root-of-trust-file', keyCopy, '--data-dir', join(dir, 'data')]);
    assert.ok(!b.stdout().includes(aClients.credentials.secretAccessKey), 'a joining node prints no credentials');
    assert.match(b.stdout(), /account 555566667777/);
    // The generated root credentials work on B, and name the same account.
    const bClients = new NodeClients(b.url, aClients.credentials);
    clients.push(bClients);
    const sts = (url: string) => new STSClient({ endpoint: url, region: NODE_REGION, credentials: aClients.credentials, maxAttempts: 1 });
    for (const url of [a.url, b.url]) {
      const client = sts(url);
      assert.equal((await client.send(new GetCallerIdentityCommand({}))).Account, '555566667777');
      client.destroy();
    }
    const key = (await aClients.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    assert.equal((await bClients.kms().send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.Arn, key.Arn);
    const sealed = await bClients.kms().send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('made on B') }));
    const opened = await aClients.kms().send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
    assert.equal(Buffer.from(opened.Plaintext!).toString(), 'made on B');
    assert.equal(await b.terminate(), 0);
  });

  it('a node configured with STRONGROOM_ROOT_* joins with those credentials usable on every node', async () => {
    const dir = tempDir();
    const keyCopy = join(dir, 'root-of-trust.key');
    copyFileSync(aKeyFile, keyCopy);
    const b = await spawnServe(['--database-url', databaseUrl, '--root-of-trust-file', keyCopy, '--data-dir', join(dir, 'data')], NODE_ROOT_ENV);
    // Its credentials are the account's root's: A, which never saw the setting, accepts them too.
    const onA = new NodeClients(a.url, NODE_ROOT);
    clients.push(onA);
    const key = (await onA.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    assert.equal(key.AWSAccountId, '555566667777');
    assert.equal(await b.terminate(), 0);
  });

  it('a node without the root-of-trust file refuses to start: one line naming the missing file, exit 1, no key file made', () => {
    const dir = tempDir();
    const missing = join(dir, 'root-of-trust.key');
    const res = refusedServe(['--database-url', databaseUrl, '--root-of-trust-file', missing, '--data-dir', join(dir, 'data')]);
    assert.equal(res.code, 1, res.stderr);
    const lines = res.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${res.stderr}`);
    assert.ok(lines[0]!.includes(missing), lines[0]);
    assert.match(lines[0]!, /initialised with a root of trust that is not at .*refusing to create a new one/);
    assert.doesNotMatch(res.stderr, /\bat .*\.js:\d+/, 'no stack trace');
    assert.ok(!res.stderr.includes(decodeURIComponent(new URL(databaseUrl).password)), 'no database password');
    assert.doesNotMatch(res.stdout, /listening/);
    assert.throws(() => readFileSync(missing), { code: 'ENOENT' });
  });

  it('a node with another root-of-trust key refuses to start: one line saying the key does not open the database\'s keys, exit 1', () => {
    const dir = tempDir();
    const other = join(dir, 'other.key');
    writeFileSync(other, randomBytes(32), { mode: 0o600 });
    const res = refusedServe(['--database-url', databaseUrl, '--root-of-trust-file', other, '--data-dir', join(dir, 'data')]);
    assert.equal(res.code, 1, res.stderr);
    const lines = res.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${res.stderr}`);
    assert.match(lines[0]!, /root-of-trust key .*other\.key does not open the keys wrapped in the database/);
    assert.doesNotMatch(res.stderr, /\bat .*\.js:\d+/, 'no stack trace');
    assert.ok(!res.stderr.includes(decodeURIComponent(new URL(databaseUrl).password)), 'no database password');
  });

  it('two nodes starting at once on an empty database with copies of one root-of-trust key both start, in one account', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const dir = tempDir();
    writeFileSync(join(dir, 'a.key'), randomBytes(32), { mode: 0o600 });
    copyFileSync(join(dir, 'a.key'), join(dir, 'b.key'));
    const node = (name: string) => spawnServe(['--database-url', url, '--root-of-trust-file', join(dir, `${name}.key`), '--data-dir', join(dir, name)], NODE_ROOT_ENV);
    const started = await Promise.allSettled([node('a'), node('b')]);
    const procs = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    assert.deepEqual(started.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started')), ['started', 'started']);
    const accounts = procs.map((p) => /account (\d{12})/.exec(p.stdout())?.[1]);
    assert.equal(accounts[0], accounts[1], 'one account');
    const [x, y] = procs.map((p) => new NodeClients(p.url));
    clients.push(x!, y!);
    const key = (await x!.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    const sealed = await x!.kms().send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('either') }));
    assert.equal(Buffer.from((await y!.kms().send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }))).Plaintext!).toString(), 'either');
    for (const p of procs) assert.equal(await p.terminate(), 0);
  });

  it('two nodes starting at once on an empty database, each making a key of its own: one starts, the other refuses (exit 1, one line)', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const dir = tempDir();
    const node = (name: string) => spawnServe(['--database-url', url, '--root-of-trust-file', join(dir, `${name}.key`), '--data-dir', join(dir, name)], NODE_ROOT_ENV);
    const started = await Promise.allSettled([node('a'), node('b')]);
    const procs = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refusals = started.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    assert.equal(procs.length, 1, `one node starts: ${refusals.join(' | ')}`);
    assert.equal(refusals.length, 1);
    assert.match(refusals[0]!, /serve exited with 1: strongroom: .*(does not open the keys wrapped in the database|initialised with a root of trust that is not at)[^\n]*\n?$/);
    const survivor = new NodeClients(procs[0]!.url);
    clients.push(survivor);
    const key = (await survivor.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    await survivor.kms().send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    assert.equal(await procs[0]!.terminate(), 0);
  });

  it('the refused nodes changed nothing: the first node still serves with its credentials', async () => {
    const key = (await aClients.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    assert.equal(key.AWSAccountId, '555566667777');
  });
});

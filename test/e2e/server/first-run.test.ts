// A new user's first run: a busy port, --version, output piped into a reader that goes away, `s3 encrypt`'s
// output, and the one-command TLS recipe for SSE-C (`serve --tls-self-signed`), each through the real
// `strongroom` process.
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:https';
import { Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { runCli } from '../../helpers/cli.js';
import { killAll, spawnServe } from '../../helpers/process.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, startServer } from '../../helpers/server.js';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

function credentialsFrom(file: string): { accessKeyId: string; secretAccessKey: string } {
  const text = readFileSync(file, 'utf8');
  return { accessKeyId: /aws_access_key_id = (\S+)/.exec(text)![1]!, secretAccessKey: /aws_secret_access_key = (\S+)/.exec(text)![1]! };
}

/** Runs `strongroom <args>` with its stdout a pipe whose reading end is closed before the command writes. */
async function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['bin/strongroom.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STRONGROOM_LOG_LEVEL: 'warn' } });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stderr };
}

describe('first run', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'sr-first-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    killAll();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('a busy port: one line naming the port and --port, exit 1, before anything is created (no data dir, no credentials printed)', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const dataDir = join(tempDir(), 'data');
      const run = await runCli(['serve', '--port', String(port), '--data-dir', dataDir]);
      assert.equal(run.code, 1);
      assert.equal(run.stdout, '', 'no credentials, no listening line');
      assert.equal(run.stderr, `strongroom: port ${port} is in use on 127.0.0.1 (another process listens there): choose another with --port (or STRONGROOM_PORT)\n`);
      assert.equal(existsSync(dataDir), false, 'the data dir was not made');
    } finally {
      blocker.close();
    }
  });

  it("--version and -V print package.json's version; `npx strongroom` runs the checkout's command", async () => {
    for (const flag of ['--version', '-V']) {
      const run = await runCli([flag]);
      assert.equal(run.code, 0);
      assert.equal(run.stdout, `${VERSION}\n`);
    }
    // npx installs the checkout into its cache as a file: dependency, which runs its `prepare` script (tsc) in the
    // checkout — rewriting dist/ while other test files (two run at a time) start servers from it. Scripts off:
    // what is checked is that the checkout's command runs, not that npx builds it.
    const npx = spawnSync('npx', ['--offline', 'strongroom', '--version'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, npm_config_ignore_scripts: 'true' } });
    assert.equal(npx.status, 0, npx.stderr);
    assert.equal(npx.stdout, `${VERSION}\n`);
  });

  it('a command whose reader went away (`strongroom explain … | head`, `audit export-public-key | head`) exits quietly with 141, no EPIPE stack', async () => {
    const server = await startServer();
    const kms = server.kms();
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await server.stop();
    try {
      const explain = await withClosedStdout(['explain', '--data-dir', server.dataDir, '--principal', `arn:aws:iam::${TEST_ACCOUNT}:root`, '--action', 'kms:Decrypt', '--key', key.KeyId!]);
      assert.equal(explain.stderr, '', 'nothing on stderr');
      assert.equal(explain.code, 141);
      const pem = await withClosedStdout(['audit', 'export-public-key', '--data-dir', server.dataDir]);
      assert.equal(pem.stderr, '');
      assert.equal(pem.code, 141);
    } finally {
      await server.destroy();
    }
  });

  it('`s3 encrypt --no-progress` prints its summary line and nothing else: no bar, no SDK notice', async () => {
    const server = await startServer();
    try {
      const s3 = server.s3();
      await s3.send(new CreateBucketCommand({ Bucket: 'quiet' }));
      for (const k of ['a', 'b', 'c']) await s3.send(new PutObjectCommand({ Bucket: 'quiet', Key: k, Body: k }));
      const state = join(tempDir(), 'state.json');
      const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          ['bin/strongroom.js', 's3', 'encrypt', '--bucket', 'quiet', '--sse', 'aws:kms', '--endpoint-url', server.url, '--state-file', state, '--no-progress'],
          { env: awsClientEnv(), encoding: 'utf8' },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
        ),
      );
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '');
      assert.equal(run.stdout, 's3://quiet/: 3 re-encrypted with aws:kms, 0 already were, 0 skipped (SSE-C)\n');
    } finally {
      await server.destroy();
    }
  });

  it('STRONGROOM_ROOT_* set: the start says which credentials to use (the access key id, never the secret)', async () => {
    const proc = await spawnServe(['--data-dir', join(tempDir(), 'data')], { STRONGROOM_ROOT_ACCESS_KEY_ID: 'AKIAFIXEDROOT0000001', STRONGROOM_ROOT_SECRET_ACCESS_KEY: 'fixed-secret-value' });
    try {
      assert.match(proc.stdout(), /^Root credentials: STRONGROOM_ROOT_ACCESS_KEY_ID \(AKIAFIXEDROOT0000001\) and STRONGROOM_ROOT_SECRET_ACCESS_KEY\n/);
      assert.ok(!proc.stdout().includes('fixed-secret-value'));
    } finally {
      assert.equal(await proc.terminate(), 0);
    }
  });

  it('serve --tls-self-signed: a certificate for localhost/127.0.0.1 made once in <data-dir>/tls, trusted as CA by an SDK (SSE-C works) and by the aws CLI through AWS_CA_BUNDLE; a restart reuses it', async () => {
    const dataDir = join(tempDir(), 'data');
    const first = await spawnServe(['--data-dir', dataDir, '--tls-self-signed']);
    const certFile = join(dataDir, 'tls', 'cert.pem');
    let certHash: string;
    try {
      assert.match(first.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(first.stdout().includes(`TLS: self-signed certificate ${certFile}; trust it with AWS_CA_BUNDLE=${certFile}`));
      assert.equal(statSync(join(dataDir, 'tls', 'key.pem')).mode & 0o777, 0o600);
      certHash = createHash('sha256').update(readFileSync(certFile)).digest('hex');
      const credentials = credentialsFrom(join(dataDir, 'credentials'));
      // The certificate itself is the CA: full verification (host name included), not rejectUnauthorized: false.
      const requestHandler = new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(certFile) }) });
      const s3 = new S3Client({ endpoint: first.url, region: 'us-east-1', credentials, forcePathStyle: true, requestHandler, maxAttempts: 1 });
      const customerKey = randomBytes(32);
      const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(customerKey).digest('base64') };
      await s3.send(new CreateBucketCommand({ Bucket: 'sse-c-over-tls' }));
      await s3.send(new PutObjectCommand({ Bucket: 'sse-c-over-tls', Key: 'k', Body: 'customer-keyed', ...sse }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'sse-c-over-tls', Key: 'k', ...sse }));
      assert.equal(await got.Body!.transformToString(), 'customer-keyed');
      s3.destroy();
      const cli = ['/usr/bin/aws', 'aws'].find((bin) => spawnSync(bin, ['--version'], { env: awsClientEnv() }).status === 0);
      if (cli === undefined) {
        assert.ok(!process.env.CI, 'CI is set: the aws CLI must be installed');
      } else {
        const env = { ...awsClientEnv(), AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_CA_BUNDLE: certFile };
        const out = spawnSync(cli, ['kms', 'create-key', '--endpoint-url', first.url, '--output', 'json'], { env, encoding: 'utf8', timeout: 60_000 });
        assert.equal(out.status, 0, out.stderr);
        assert.match(JSON.parse(out.stdout).KeyMetadata.KeyId, /^[0-9a-f-]{36}$/);
      }
    } finally {
      assert.equal(await first.terminate(), 0);
    }
    const second = await spawnServe(['--data-dir', dataDir, '--tls-self-signed']);
    try {
      assert.equal(createHash('sha256').update(readFileSync(certFile)).digest('hex'), certHash, 'the same certificate');
      assert.ok(second.stdout().includes(`Root credentials: in ${join(dataDir, 'credentials')}`));
      const kms = new KMSClient({
        endpoint: second.url,
        region: TEST_REGION,
        credentials: credentialsFrom(join(dataDir, 'credentials')),
        requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(certFile), servername: 'localhost' }) }),
        maxAttempts: 1,
      });
      assert.ok((await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId);
      kms.destroy();
    } finally {
      assert.equal(await second.terminate(), 0);
    }
    assert.ok(TEST_CREDENTIALS);
  });

  it('--tls-self-signed with --tls-cert is refused', async () => {
    const run = await runCli(['serve', '--port', '0', '--data-dir', join(tempDir(), 'data'), '--tls-self-signed', '--tls-cert', 'c', '--tls-key', 'k']);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, 'strongroom: --tls-self-signed makes its own certificate: leave out --tls-cert and --tls-key\n');
  });
});

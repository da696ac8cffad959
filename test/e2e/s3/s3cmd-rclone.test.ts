// s3cmd and rclone (Debian's packages, real binaries) against a real in-process Strongroom server: buckets made,
// files put with and without server-side encryption, listed, read back and deleted; path-style addressing, and
// virtual-hosted style (`<bucket>.localhost:<port>`) through a small forward proxy in the test, since
// `*.localhost` need not resolve on the test machine. What each object was sealed with is checked with the SDK.
//
// A missing binary skips its suite on a developer machine; with CI set it is a failure.
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Server, createServer, request } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The client's environment: no AWS_*, no proxy of the host (only `extra`'s). */
function clientEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = awsClientEnv();
  for (const k of Object.keys(env)) {
    if (k.startsWith('AWS_') || /^(https?|all|no)_proxy$/i.test(k) || k.startsWith('RCLONE_')) delete env[k];
  }
  return { ...env, ...extra };
}

function run(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { cwd, env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(`${bin} ${args.join(' ')} did not run: ${err.message}\n${stderr}`));
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

function unavailable(bin: string, args: string[], pattern: RegExp): string | undefined {
  const res = spawnSync(bin, args, { env: clientEnv(), encoding: 'utf8', timeout: 30_000 });
  if (res.error) return `${bin} cannot be run (${(res.error as NodeJS.ErrnoException).code ?? res.error.message})`;
  const out = `${res.stdout}${res.stderr}`;
  if (res.status !== 0 || !pattern.test(out)) return `${bin} ${args.join(' ')} exited ${res.status} with ${JSON.stringify(out.slice(0, 200))}`;
  return undefined;
}

/**
 * An HTTP forward proxy to the test server: every request, whatever its absolute URI's host, goes to `target`
 * with its Host header unchanged (so `<bucket>.localhost:<port>` reaches the server as virtual-hosted style).
 * Records the Host header of each request.
 */
async function forwardProxy(target: URL): Promise<{ server: Server; url: string; hosts: string[] }> {
  const hosts: string[] = [];
  const server = createServer((req, res) => {
    hosts.push(String(req.headers.host ?? ''));
    const u = new URL(req.url ?? '/', 'http://placeholder');
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: u.pathname + u.search, headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hosts };
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

interface Fixture {
  server: TestServer;
  s3: S3Client;
  dir: string;
  port: string;
  keyId: string;
  keyArn: string;
  proxy: Awaited<ReturnType<typeof forwardProxy>>;
}

function fixture(): { get(): Fixture } {
  let f: Fixture | undefined;
  before(async () => {
    const server = await startServer();
    const created = await server.kms().send(new CreateKeyCommand({ Description: 's3cmd/rclone' }));
    const dir = mkdtempSync(join(tmpdir(), 'strongroom-s3-tools-'));
    f = {
      server,
      s3: server.s3(),
      dir,
      port: new URL(server.url).port,
      keyId: created.KeyMetadata!.KeyId!,
      keyArn: created.KeyMetadata!.Arn!,
      proxy: await forwardProxy(new URL(server.url)),
    };
  });
  after(async () => {
    if (!f) return;
    f.proxy.server.closeAllConnections();
    await new Promise<void>((resolve) => f!.proxy.server.close(() => resolve()));
    await f.server.destroy();
    rmSync(f.dir, { recursive: true, force: true });
  });
  return { get: () => f! };
}

async function headEncryption(s3: S3Client, bucket: string, key: string): Promise<{ sse?: string; keyId?: string; etag?: string }> {
  const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return { sse: h.ServerSideEncryption, keyId: h.SSEKMSKeyId, etag: h.ETag };
}

function s3cmdSuite(): void {
  const fx = fixture();
  const body = Buffer.concat([Buffer.from('s3cmd body\n'), randomBytes(200_000)]);

  /** Writes an s3cmd config for path style (host_bucket = host_base) or virtual-hosted style through the proxy. */
  const config = (name: string, style: 'path' | 'virtual'): string => {
    const { dir, port, proxy } = fx.get();
    const lines = [
      '[default]',
      `access_key = ${TEST_CREDENTIALS.accessKeyId}`,
      `secret_key = ${TEST_CREDENTIALS.secretAccessKey}`,
      `bucket_location = ${TEST_REGION}`,
      'use_https = False',
      'signature_v2 = False',
      'check_ssl_certificate = False',
      ...(style === 'path'
        ? [`host_base = 127.0.0.1:${port}`, `host_bucket = 127.0.0.1:${port}`]
        : [`host_base = localhost:${port}`, `host_bucket = %(bucket)s.localhost:${port}`, 'proxy_host = 127.0.0.1', `proxy_port = ${new URL(proxy.url).port}`]),
    ];
    const file = join(dir, name);
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  };
  const s3cmd = async (cfg: string, ...args: string[]): Promise<string> => {
    const res = await run('s3cmd', ['-c', cfg, '--no-progress', ...args], fx.get().dir, clientEnv({ HOME: fx.get().dir }));
    assert.equal(res.code, 0, `s3cmd ${args.join(' ')} exited ${res.code}: ${res.stdout}${res.stderr}`);
    return res.stdout;
  };

  for (const style of ['path', 'virtual'] as const) {
    it(`${style === 'path' ? 'path style' : 'virtual-hosted style'}: mb, put (plain, --server-side-encryption, --server-side-encryption-kms-id), ls, get, del, rb`, async () => {
      const { dir, s3, keyArn, keyId, proxy } = fx.get();
      const cfg = config(`s3cfg-${style}`, style);
      const bucket = `s3cmd-${style}`;
      writeFileSync(join(dir, 'in.bin'), body);
      const seen = proxy.hosts.length;
      assert.match(await s3cmd(cfg, 'mb', `s3://${bucket}`), new RegExp(`Bucket 's3://${bucket}/' created`));
      await s3cmd(cfg, 'put', 'in.bin', `s3://${bucket}/plain.bin`);
      await s3cmd(cfg, 'put', 'in.bin', `s3://${bucket}/sse/aes.bin`, '--server-side-encryption');
      await s3cmd(cfg, 'put', 'in.bin', `s3://${bucket}/sse/kms.bin`, `--server-side-encryption-kms-id=${keyId}`);
      assert.deepEqual(await headEncryption(s3, bucket, 'plain.bin'), { sse: 'AES256', keyId: undefined, etag: `"${md5(body)}"` });
      assert.deepEqual(await headEncryption(s3, bucket, 'sse/aes.bin'), { sse: 'AES256', keyId: undefined, etag: `"${md5(body)}"` });
      const kms = await headEncryption(s3, bucket, 'sse/kms.bin');
      assert.equal(kms.sse, 'aws:kms');
      assert.equal(kms.keyId, keyArn);

      const ls = await s3cmd(cfg, 'ls', `s3://${bucket}`);
      assert.match(ls, /^\s+DIR\s+s3:\/\/s3cmd-\w+\/sse\/$/m);
      assert.match(ls, new RegExp(`\\s${body.length}\\s+s3://${bucket}/plain\\.bin$`, 'm'));
      const rec = await s3cmd(cfg, 'ls', '--recursive', `s3://${bucket}`);
      assert.deepEqual(rec.trim().split('\n').map((l) => l.split(/\s+/).pop()), [`s3://${bucket}/plain.bin`, `s3://${bucket}/sse/aes.bin`, `s3://${bucket}/sse/kms.bin`]);
      const buckets = await s3cmd(cfg, 'ls');
      assert.match(buckets, new RegExp(`s3://${bucket}$`, 'm'));

      for (const k of ['plain.bin', 'sse/aes.bin', 'sse/kms.bin']) {
        const out = `out-${style}-${k.replace('/', '_')}`;
        await s3cmd(cfg, 'get', '--force', `s3://${bucket}/${k}`, out);
        assert.ok(readFileSync(join(dir, out)).equals(body), `${k} round trip`);
      }
      const info = await s3cmd(cfg, 'info', `s3://${bucket}/sse/kms.bin`);
      assert.match(info, /SSE:\s+aws:kms/);

      const missing = await run('s3cmd', ['-c', cfg, 'get', '--force', `s3://${bucket}/nope`, join(dir, 'nope')], dir, clientEnv({ HOME: dir }));
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /404|NoSuchKey|does not exist/);

      assert.match(await s3cmd(cfg, 'del', `s3://${bucket}/plain.bin`), /delete: 's3:\/\/s3cmd-\w+\/plain\.bin'/);
      await s3cmd(cfg, 'del', '--recursive', '--force', `s3://${bucket}/sse/`);
      assert.equal((await s3cmd(cfg, 'ls', '--recursive', `s3://${bucket}`)).trim(), '');
      assert.match(await s3cmd(cfg, 'rb', `s3://${bucket}`), /removed/);
      if (style === 'virtual') {
        const hosts = proxy.hosts.slice(seen);
        assert.ok(hosts.includes(`${bucket}.localhost:${fx.get().port}`), `virtual-hosted requests went through the proxy: ${JSON.stringify(hosts)}`);
      }
    });
  }

  it('multipart put (--multipart-chunk-size-mb=5) with --server-side-encryption-kms-id, server-side cp and mv, get', async () => {
    const { dir, s3, keyArn, keyId } = fx.get();
    const cfg = config('s3cfg-mp', 'path');
    const big = randomBytes(17 * 1024 * 1024);
    writeFileSync(join(dir, 'big.bin'), big);
    await s3cmd(cfg, 'mb', 's3://s3cmd-mp');
    await s3cmd(cfg, 'put', 'big.bin', 's3://s3cmd-mp/big.bin', '--multipart-chunk-size-mb=5', `--server-side-encryption-kms-id=${keyId}`);
    const up = await headEncryption(s3, 's3cmd-mp', 'big.bin');
    assert.equal(up.sse, 'aws:kms');
    assert.equal(up.keyId, keyArn);
    assert.match(up.etag ?? '', /^"[0-9a-f]{32}-4"$/);
    assert.match(await s3cmd(cfg, 'cp', 's3://s3cmd-mp/big.bin', 's3://s3cmd-mp/copy.bin', '--server-side-encryption'), /remote copy/);
    assert.equal((await headEncryption(s3, 's3cmd-mp', 'copy.bin')).sse, 'AES256');
    assert.match(await s3cmd(cfg, 'mv', 's3://s3cmd-mp/copy.bin', 's3://s3cmd-mp/moved.bin'), /move: /);
    await s3cmd(cfg, 'get', '--force', 's3://s3cmd-mp/moved.bin', 'big-back.bin');
    assert.ok(readFileSync(join(dir, 'big-back.bin')).equals(big));
    const rec = await s3cmd(cfg, 'ls', '--recursive', 's3://s3cmd-mp');
    assert.deepEqual(rec.trim().split('\n').map((l) => l.split(/\s+/).slice(2)), [[String(big.length), 's3://s3cmd-mp/big.bin'], [String(big.length), 's3://s3cmd-mp/moved.bin']]);
    await s3cmd(cfg, 'del', '--recursive', '--force', 's3://s3cmd-mp');
    await s3cmd(cfg, 'rb', 's3://s3cmd-mp');
  });
}

function rcloneSuite(): void {
  const fx = fixture();
  const files: Record<string, Buffer> = { 'a.txt': Buffer.from('alpha\n'), 'sub/b.bin': randomBytes(150_000), 'sub/deeper/c.txt': Buffer.from('charlie\n') };

  /** rclone with remote `sr` configured by environment only (RCLONE_CONFIG_SR_*). */
  const env = (style: 'path' | 'virtual', extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const { server, port, proxy } = fx.get();
    return clientEnv({
      HOME: fx.get().dir,
      RCLONE_CONFIG: join(fx.get().dir, 'rclone.conf'),
      RCLONE_CONFIG_SR_TYPE: 's3',
      RCLONE_CONFIG_SR_PROVIDER: 'Other',
      RCLONE_CONFIG_SR_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      RCLONE_CONFIG_SR_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      RCLONE_CONFIG_SR_REGION: TEST_REGION,
      RCLONE_CONFIG_SR_SERVER_SIDE_ENCRYPTION: 'aws:kms',
      ...(style === 'path'
        ? { RCLONE_CONFIG_SR_ENDPOINT: server.url, RCLONE_CONFIG_SR_FORCE_PATH_STYLE: 'true' }
        : { RCLONE_CONFIG_SR_ENDPOINT: `http://localhost:${port}`, RCLONE_CONFIG_SR_FORCE_PATH_STYLE: 'false', HTTP_PROXY: proxy.url, http_proxy: proxy.url }),
      ...extra,
    });
  };
  const rclone = async (e: NodeJS.ProcessEnv, ...args: string[]): Promise<string> => {
    const res = await run('rclone', args, fx.get().dir, e);
    assert.equal(res.code, 0, `rclone ${args.join(' ')} exited ${res.code}: ${res.stdout}${res.stderr}`);
    return res.stdout;
  };

  before(() => {
    const { dir } = fx.get();
    writeFileSync(join(dir, 'rclone.conf'), '');
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, 'tree', name, '..'), { recursive: true });
      writeFileSync(join(dir, 'tree', name), content);
    }
  });

  for (const style of ['path', 'virtual'] as const) {
    it(`${style === 'path' ? 'force_path_style' : 'virtual-hosted style'}: mkdir, copy with server_side_encryption aws:kms (aws/s3, then sse_kms_key_id), ls, cat, delete, purge`, async () => {
      const { s3, keyArn, keyId, proxy, dir } = fx.get();
      const bucket = `rclone-${style}`;
      const e = env(style);
      const seen = proxy.hosts.length;
      await rclone(e, 'mkdir', `sr:${bucket}`);
      await rclone(e, 'copy', 'tree', `sr:${bucket}/tree`);
      await rclone(env(style, { RCLONE_CONFIG_SR_SSE_KMS_KEY_ID: keyId }), 'copyto', 'tree/a.txt', `sr:${bucket}/cmk/a.txt`);
      const awsS3 = await headEncryption(s3, bucket, 'tree/a.txt');
      assert.equal(awsS3.sse, 'aws:kms');
      assert.match(awsS3.keyId ?? '', new RegExp(`^arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/`));
      assert.notEqual(awsS3.keyId, keyArn);
      for (const name of Object.keys(files)) assert.deepEqual(await headEncryption(s3, bucket, `tree/${name}`).then((h) => [h.sse, h.keyId]), ['aws:kms', awsS3.keyId], name);
      assert.deepEqual(await headEncryption(s3, bucket, 'cmk/a.txt').then((h) => [h.sse, h.keyId]), ['aws:kms', keyArn]);

      const ls = await rclone(e, 'ls', `sr:${bucket}`);
      const listed = ls.trim().split('\n').map((l) => l.trim().split(/\s+/)).map(([size, name]) => [name, Number(size)]).sort();
      assert.deepEqual(listed, [['cmk/a.txt', 6], ...Object.entries(files).map(([n, c]) => [`tree/${n}`, c.length])].sort());
      const lsd = await rclone(e, 'lsd', 'sr:');
      assert.match(lsd, new RegExp(` ${bucket}$`, 'm'));
      assert.equal(await rclone(e, 'cat', `sr:${bucket}/tree/sub/deeper/c.txt`), 'charlie\n');
      assert.equal(await rclone(e, 'cat', `sr:${bucket}/cmk/a.txt`), 'alpha\n');
      await rclone(e, 'copy', `sr:${bucket}/tree`, `back-${style}`);
      for (const [name, content] of Object.entries(files)) assert.ok(readFileSync(join(dir, `back-${style}`, name)).equals(content), name);
      // A second copy finds everything up to date (sizes and modification times via metadata).
      const again = await run('rclone', ['copy', '-v', 'tree', `sr:${bucket}/tree`], dir, e);
      assert.equal(again.code, 0, again.stderr);
      assert.doesNotMatch(again.stderr, /: Copied/);

      await rclone(e, 'delete', `sr:${bucket}/tree`);
      assert.equal((await rclone(e, 'ls', `sr:${bucket}`)).trim().split('\n').length, 1);
      await rclone(e, 'purge', `sr:${bucket}`);
      assert.doesNotMatch(await rclone(e, 'lsd', 'sr:'), new RegExp(` ${bucket}$`, 'm'));
      if (style === 'virtual') {
        const hosts = proxy.hosts.slice(seen);
        assert.ok(hosts.includes(`${bucket}.localhost:${fx.get().port}`), `virtual-hosted requests went through the proxy: ${JSON.stringify(hosts.slice(0, 10))}`);
      }
    });
  }

  it('multipart upload (--s3-upload-cutoff 5M; Go sends its ETags as &#34;…&#34;), server-side copy (CopyObject and multipart UploadPartCopy), moveto, cat', async () => {
    const { dir, s3, keyArn, keyId } = fx.get();
    const big = randomBytes(17 * 1024 * 1024);
    writeFileSync(join(dir, 'big.bin'), big);
    const e = env('path', { RCLONE_CONFIG_SR_SSE_KMS_KEY_ID: keyId });
    await rclone(e, 'mkdir', 'sr:rclone-mp');
    await rclone(e, 'copyto', 'big.bin', 'sr:rclone-mp/big.bin', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M');
    const up = await headEncryption(s3, 'rclone-mp', 'big.bin');
    assert.deepEqual([up.sse, up.keyId], ['aws:kms', keyArn]);
    assert.match(up.etag ?? '', /^"[0-9a-f]{32}-4"$/);
    await rclone(e, 'copyto', 'sr:rclone-mp/big.bin', 'sr:rclone-mp/copy-small-cutoff.bin', '--s3-copy-cutoff', '5M');
    await rclone(e, 'copyto', 'sr:rclone-mp/big.bin', 'sr:rclone-mp/copy.bin');
    await rclone(e, 'moveto', 'sr:rclone-mp/copy.bin', 'sr:rclone-mp/moved.bin');
    for (const k of ['copy-small-cutoff.bin', 'moved.bin']) {
      assert.deepEqual(await headEncryption(s3, 'rclone-mp', k).then((h) => [h.sse, h.keyId]), ['aws:kms', keyArn], k);
      await rclone(e, 'copyto', `sr:rclone-mp/${k}`, `back-${k}`);
      assert.ok(readFileSync(join(dir, `back-${k}`)).equals(big), k);
    }
    const ls = await rclone(e, 'ls', 'sr:rclone-mp');
    assert.deepEqual(ls.trim().split('\n').map((l) => l.trim().split(/\s+/)[1]).sort(), ['big.bin', 'copy-small-cutoff.bin', 'moved.bin']);
    await rclone(e, 'purge', 'sr:rclone-mp');
  });
}

const TOOLS = [
  { label: 's3cmd', problem: unavailable('s3cmd', ['--version'], /^s3cmd version 2\./), body: s3cmdSuite },
  { label: 'rclone', problem: unavailable('rclone', ['version'], /^rclone v1\./), body: rcloneSuite },
];

describe('S3 with s3cmd and rclone', { concurrency: true }, () => {
  for (const { label, problem, body } of TOOLS) {
    if (problem === undefined) {
      describe(label, { concurrency: 1 }, body);
    } else if (!process.env.CI) {
      describe(label, () => {
        it('runs', { skip: `${problem}; skipped because CI is not set` }, () => {});
      });
    } else {
      describe(label, () => {
        it('is installed (CI is set, so a missing binary is a failure)', () => {
          assert.fail(problem);
        });
      });
    }
  }
});

// What S3 leaves on disk. Objects carrying planted unique markers are written with SSE-S3, SSE-KMS and SSE-C, and
// every file under the data dir (blobs, the SQLite database and its WAL, everything) is scanned for the markers
// and for the SSE-C key's bytes: nothing may be found, while the server runs and after it stops. Then uploads
// cut off in the middle — the client's socket destroyed, and the server process killed — leave no visible
// object, and after a restart no half-written body under blobs/.incoming.
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { killAll, spawnServe } from '../../helpers/process.js';
import { sendRaw, signedS3Request } from '../../helpers/raw-request.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Bodies kept as rows of the metadata database (small ones), read beside the running server. */
function smallBlobCount(dataDir: string): number {
  const db = new Database(join(dataDir, 'strongroom.db'), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM small_blobs').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const incomingFiles = (dataDir: string): string[] => readdirSync(join(dataDir, 'blobs', '.incoming'));

/** Every (file, needle label) where a needle occurs in a file under `dir`. */
function findNeedles(dir: string, needles: Record<string, Buffer>): string[] {
  const hits: string[] = [];
  for (const f of filesUnder(dir)) {
    const content = readFileSync(f);
    for (const [label, needle] of Object.entries(needles)) if (content.includes(needle)) hits.push(`${relative(dir, f)}: ${label}`);
  }
  return hits;
}

/** The forms a secret could be stored in: raw, hex, base64, base64url. */
function forms(label: string, secret: Buffer): Record<string, Buffer> {
  return {
    [`${label} (raw)`]: secret,
    [`${label} (hex)`]: Buffer.from(secret.toString('hex')),
    [`${label} (base64)`]: Buffer.from(secret.toString('base64').replace(/=+$/, '')),
    [`${label} (base64url)`]: Buffer.from(secret.toString('base64url')),
  };
}

describe('S3 data at rest: no plaintext, no customer key, no half-written bodies', { concurrency: 1 }, () => {
  let certDir: string;
  let tls: { certFile: string; keyFile: string };
  before(() => {
    certDir = mkdtempSync(join(tmpdir(), 'strongroom-at-rest-tls-'));
    tls = { certFile: join(certDir, 'cert.pem'), keyFile: join(certDir, 'key.pem') };
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', tls.keyFile, '-out', tls.certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  });
  after(() => {
    killAll();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('bodies sealed with SSE-S3, SSE-KMS (aws/s3, customer key, bucket key) and SSE-C: no marker and no SSE-C key in any file, before and after shutdown', async () => {
    const server = await startServer({ tls });
    try {
      const s3 = server.s3();
      await s3.send(new CreateBucketCommand({ Bucket: 'at-rest' }));
      const cmk = (await server.kms().send(new CreateKeyCommand({ Description: 'at rest' }))).KeyMetadata!;
      const customerKey = randomBytes(32);
      const markers: Record<string, Buffer> = {};
      const bodyWith = (name: string, size: number): Buffer => {
        const marker = Buffer.from(`MARKER-${name}-${randomBytes(12).toString('hex')}`);
        markers[name] = marker;
        // The marker at the start, at a 64 KiB package boundary, and throughout; compressible filler around it.
        const parts: Buffer[] = [];
        let n = 0;
        while (n < size) {
          const piece = n % 65_536 === 0 || parts.length % 7 === 0 ? marker : Buffer.alloc(1000, 0x41 + (parts.length % 26));
          parts.push(piece);
          n += piece.length;
        }
        return Buffer.concat(parts).subarray(0, size);
      };
      const objects = [
        { key: 'sse-s3', body: bodyWith('sse-s3', 300_000), extra: {} },
        { key: 'sse-kms-aws', body: bodyWith('sse-kms-aws', 200_000), extra: { ServerSideEncryption: 'aws:kms' as const } },
        { key: 'sse-kms-cmk', body: bodyWith('sse-kms-cmk', 150_000), extra: { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: cmk.Arn } },
        { key: 'sse-kms-bucket-key', body: bodyWith('sse-kms-bucket-key', 100_000), extra: { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: cmk.KeyId, BucketKeyEnabled: true } },
        { key: 'sse-c', body: bodyWith('sse-c', 250_000), extra: { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(customerKey).digest('base64') } },
        { key: 'small', body: bodyWith('small', 40), extra: {} },
      ];
      for (const o of objects) await s3.send(new PutObjectCommand({ Bucket: 'at-rest', Key: o.key, Body: o.body, ...o.extra }));
      // They read back, so the markers really went in.
      for (const o of objects) {
        const sseC = o.key === 'sse-c' ? { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(customerKey).digest('base64') } : {};
        const got = await s3.send(new GetObjectCommand({ Bucket: 'at-rest', Key: o.key, ...sseC }));
        assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(o.body), o.key);
      }
      const needles: Record<string, Buffer> = { ...forms('SSE-C key', customerKey) };
      for (const [name, marker] of Object.entries(markers)) Object.assign(needles, { [`marker ${name}`]: marker, [`marker ${name} (base64)`]: Buffer.from(marker.toString('base64').slice(0, 40)) });
      // The scan finds what is there: a control directory holding one body and the key in base64.
      const control = mkdtempSync(join(tmpdir(), 'strongroom-at-rest-control-'));
      writeFileSync(join(control, 'plain'), Buffer.concat([objects[1]!.body, Buffer.from(customerKey.toString('base64'))]));
      const controlHits = findNeedles(control, needles);
      for (const hit of ['plain: SSE-C key (base64)', 'plain: marker sse-kms-aws']) assert.ok(controlHits.includes(hit), `${hit} in ${controlHits.join(', ')}`);
      rmSync(control, { recursive: true, force: true });
      const files = filesUnder(server.dataDir).map((f) => relative(server.dataDir, f));
      // Bodies over 128 KiB sealed are files under blobs/; smaller ones are rows of the database (scanned too).
      const large = objects.filter((o) => o.body.length > 128 * 1024).length;
      assert.ok(files.filter((f) => /^blobs\/[0-9a-f]{2}\//.test(f)).length >= large, `blobs: ${files.join(', ')}`);
      assert.equal(smallBlobCount(server.dataDir), objects.length - large);
      assert.ok(files.includes('strongroom.db'));
      assert.deepEqual(findNeedles(server.dataDir, needles), [], 'while running (WAL included)');
      assert.deepEqual(server.logs.filter((l) => Object.values(needles).some((n) => l.includes(n.toString('latin1')))), [], 'logs');
      await server.stop();
      assert.deepEqual(findNeedles(server.dataDir, needles), [], 'after shutdown (WAL checkpointed)');
    } finally {
      await server.destroy();
    }
  });

  /** Starts an upload of `total` bytes, sends `sent` of them, and returns the request (still open). */
  const partialPut = async (url: string, path: string, total: number, sent: number) => {
    const signed = await signedS3Request(url, { method: 'PUT', path, payloadHash: 'UNSIGNED-PAYLOAD', headers: { 'content-length': String(total) } });
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, method: 'PUT', path, headers: signed.headers, agent: false });
    req.on('error', () => undefined);
    req.flushHeaders();
    const chunk = randomBytes(256 * 1024);
    for (let n = 0; n < sent; n += chunk.length) {
      if (!req.write(chunk.subarray(0, Math.min(chunk.length, sent - n)))) await new Promise((r) => req.once('drain', r));
    }
    return req;
  };

  it('a PUT whose client vanishes mid-body leaves no object, the previous version intact, and no .incoming file (also after a restart)', async () => {
    let server: TestServer | undefined = await startServer();
    const dataDir = server.dataDir;
    try {
      const s3 = server.s3();
      await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
      await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: 'replaced', Body: 'old version' }));
      for (const key of ['fresh', 'replaced']) {
        const req = await partialPut(server.url, `/crash/${key}`, 64 * 1024 * 1024, 6 * 1024 * 1024);
        // Wait until the server is writing the body, then cut the connection.
        for (let i = 0; i < 100 && incomingFiles(dataDir).length === 0; i++) await sleep(20);
        assert.equal(incomingFiles(dataDir).length, 1, 'the body was being written to blobs/.incoming');
        req.destroy();
        for (let i = 0; i < 200 && incomingFiles(dataDir).length > 0; i++) await sleep(20);
        assert.deepEqual(incomingFiles(dataDir), [], 'the server discarded the half-written body');
      }
      const missing = await s3.send(new HeadObjectCommand({ Bucket: 'crash', Key: 'fresh' })).catch((e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode);
      assert.equal(missing, 404);
      const old = await s3.send(new GetObjectCommand({ Bucket: 'crash', Key: 'replaced' }));
      assert.equal(await old.Body!.transformToString(), 'old version');
      await server.stop();
      server = await startServer({ dataDir });
      const again = server.s3();
      const list = await again.send(new ListObjectsV2Command({ Bucket: 'crash' }));
      assert.deepEqual(list.Contents?.map((c) => [c.Key, c.Size]), [['replaced', 11]]);
      assert.deepEqual(incomingFiles(dataDir), []);
    } finally {
      await server?.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a server killed (SIGKILL) mid-upload restarts with no visible object and an empty blobs/.incoming', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strongroom-crash-'));
    const dataDir = join(dir, 'data');
    const env = {
      STRONGROOM_ROOT_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      STRONGROOM_ROOT_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      STRONGROOM_ACCOUNT_ID: TEST_ACCOUNT,
      STRONGROOM_REGION: TEST_REGION,
    };
    const client = (url: string) => new S3Client({ endpoint: url, region: TEST_REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });
    try {
      let proc = await spawnServe(['--data-dir', dataDir], env);
      let s3 = client(proc.url);
      await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
      await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: 'kept', Body: 'committed before the crash', ServerSideEncryption: 'aws:kms' }));
      s3.destroy();
      const req = await partialPut(proc.url, '/crash/cut', 64 * 1024 * 1024, 8 * 1024 * 1024);
      for (let i = 0; i < 200 && incomingFiles(dataDir).length === 0; i++) await sleep(20);
      assert.equal(incomingFiles(dataDir).length, 1, 'the body was being written to blobs/.incoming');
      const exited = new Promise((resolve) => proc.child.once('exit', resolve));
      proc.child.kill('SIGKILL');
      await exited;
      req.destroy();
      assert.equal(incomingFiles(dataDir).length, 1, 'the crash left the half-written body behind');
      // Another process on the data dir may be writing a file of .incoming (--workers): only files nobody wrote
      // to for an hour are a dead writer's. Age this one as an hour-long outage would.
      const [leftover] = incomingFiles(dataDir);
      const hourAgo = new Date(Date.now() - 61 * 60_000);
      utimesSync(join(dataDir, 'blobs', '.incoming', leftover!), hourAgo, hourAgo);

      proc = await spawnServe(['--data-dir', dataDir], env);
      assert.deepEqual(incomingFiles(dataDir), [], 'swept at start');
      s3 = client(proc.url);
      const list = await s3.send(new ListObjectsV2Command({ Bucket: 'crash' }));
      assert.deepEqual(list.Contents?.map((c) => c.Key), ['kept']);
      const kept = await s3.send(new GetObjectCommand({ Bucket: 'crash', Key: 'kept' }));
      assert.equal(await kept.Body!.transformToString(), 'committed before the crash');
      const status = await s3.send(new HeadObjectCommand({ Bucket: 'crash', Key: 'cut' })).catch((e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode);
      assert.equal(status, 404);
      // Only committed bodies remain: the kept object's (small: a database row), no file under blobs/.
      assert.equal(filesUnder(join(dataDir, 'blobs')).length, 0);
      assert.equal(smallBlobCount(dataDir), 1);
      s3.destroy();
      assert.equal(await proc.terminate(), 0);
      const raw = await sendRaw(proc.url, await signedS3Request(proc.url, { method: 'GET', path: '/crash/kept' })).catch((e: Error) => e);
      assert.ok(raw instanceof Error, 'the server is gone');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

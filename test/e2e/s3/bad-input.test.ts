// Bad input to S3 gets S3's own error answers (status, <Error><Code/>), and nothing half-done is left behind:
// malformed names and keys, ranges, encryption headers, SSE-C keys, KMS keys in the wrong state, digests and
// checksums that do not match, payload hashes and aws-chunked signatures that do not verify, and the
// authorization rules of seed 002 ("Access Denied … even if they have full S3 … permissions") and of bucket
// policies. Requests an SDK would refuse to send are made by hand (test/helpers/raw-request.ts) and signed with
// the real AWS signer.
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, DisableKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Clients, allow, policyDocument } from '../../helpers/query-clients.js';
import { RawResponse, s3XmlError, sendRaw, signedS3Request, S3RequestOptions } from '../../helpers/raw-request.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const md5b64 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** The object bodies in a data dir (blobs/<2 hex>/<id>), and those being written (blobs/.incoming). */
function blobFiles(dataDir: string): { published: string[]; incoming: string[] } {
  const all = filesUnder(join(dataDir, 'blobs'));
  return { published: all.filter((f) => !f.startsWith('.incoming')), incoming: all.filter((f) => f.startsWith('.incoming')) };
}

function expectError(res: RawResponse, status: number, code: string, message?: RegExp): { code: string; message: string } {
  const err = s3XmlError(res);
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.equal(err.code, code, res.text);
  assert.equal(res.headers['content-type'], 'application/xml');
  assert.ok(res.headers['x-amz-request-id'], 'x-amz-request-id');
  if (message) assert.match(err.message, message);
  return err;
}

describe('S3 bad input: clean AWS-shaped errors, nothing half-written', { concurrency: 1 }, () => {
  let server: TestServer;
  let tls: TestServer;
  let s3: S3Client;
  let tlsS3: S3Client;
  let certDir: string;
  const started = Date.now();

  /** A signed raw request to the plain HTTP server (or `base`). */
  const raw = async (o: S3RequestOptions, base?: string): Promise<RawResponse> => sendRaw(base ?? server.url, await signedS3Request(base ?? server.url, o));
  const exists = async (client: S3Client, bucket: string, key: string): Promise<boolean> => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw err;
    }
  };

  before(async () => {
    server = await startServer();
    certDir = mkdtempSync(join(tmpdir(), 'strongroom-bad-input-tls-'));
    const cert = join(certDir, 'cert.pem');
    const key = join(certDir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    tls = await startServer({ tls: { certFile: cert, keyFile: key } });
    s3 = server.s3();
    tlsS3 = tls.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'bad' }));
    await tlsS3.send(new CreateBucketCommand({ Bucket: 'bad' }));
  });
  after(async () => {
    await server.destroy();
    await tls.destroy();
    rmSync(certDir, { recursive: true, force: true });
  });

  describe('names and addresses', () => {
    it('invalid bucket names are InvalidBucketName (400) on create and on use', async () => {
      for (const name of ['Bad_Name', 'ab', 'a..b', '192.168.1.1', 'xn--punycode', 'ends-with-dash-', 'x'.repeat(64), 'bucket-s3alias', 'UPPER']) {
        expectError(await raw({ method: 'PUT', path: `/${name}` }), 400, 'InvalidBucketName');
        expectError(await raw({ method: 'GET', path: `/${name}/key` }), 400, 'InvalidBucketName');
      }
      const longest = await raw({ method: 'PUT', path: `/${'x'.repeat(63)}` });
      assert.equal(longest.status, 200, longest.text);
    });

    it('a missing bucket is NoSuchBucket (404) with the bucket as Resource; a missing key NoSuchKey (404); HEAD answers 404 without a body', async () => {
      const nb = await raw({ method: 'GET', path: '/no-such-bucket/k' });
      expectError(nb, 404, 'NoSuchBucket', /The specified bucket does not exist/);
      assert.match(nb.text, /<Resource>\/no-such-bucket\/k<\/Resource>/);
      expectError(await raw({ method: 'GET', path: '/no-such-bucket?list-type=2' }), 404, 'NoSuchBucket');
      expectError(await raw({ method: 'GET', path: '/bad/no-such-key' }), 404, 'NoSuchKey', /The specified key does not exist/);
      const head = await raw({ method: 'HEAD', path: '/bad/no-such-key' });
      assert.equal(head.status, 404);
      assert.equal(head.body.length, 0);
      expectError(await raw({ method: 'DELETE', path: '/no-such-bucket' }), 404, 'NoSuchBucket');
    });

    it('object keys: NUL and other controls are InvalidArgument, 1,025 bytes KeyTooLongError, 1,024 bytes fine; `..` is an ordinary key', async () => {
      expectError(await raw({ method: 'PUT', path: '/bad/nul%00key', body: 'x' }), 400, 'InvalidArgument');
      expectError(await raw({ method: 'PUT', path: '/bad/bell%07key', body: 'x' }), 400, 'InvalidArgument');
      expectError(await raw({ method: 'PUT', path: '/bad/' + 'k'.repeat(1025), body: 'x' }), 400, 'KeyTooLongError', /Your key is too long/);
      // 1,025 bytes of UTF-8 in fewer characters.
      expectError(await raw({ method: 'PUT', path: '/bad/' + encodeURIComponent('é'.repeat(512) + 'k'), body: 'x' }), 400, 'KeyTooLongError');
      expectError(await raw({ method: 'GET', path: '/bad/' + 'k'.repeat(1025) }), 400, 'KeyTooLongError');
      expectError(await raw({ method: 'PUT', path: '/bad/bad%E0%A4encoding', body: 'x' }), 400, 'InvalidArgument');
      assert.equal((await raw({ method: 'PUT', path: '/bad/' + 'k'.repeat(1024), body: 'x' })).status, 200);
      // Keys are never paths on disk: these are stored as the keys they are, and read back as such.
      const marker = `escape-${randomBytes(6).toString('hex')}`;
      const dotted = [`../../../../../../tmp/${marker}`, `..%2F..%2F${marker}`, `a/../../${marker}`, `./${marker}/.`, `..`];
      for (const k of dotted) {
        const path = '/bad/' + k;
        const put = await raw({ method: 'PUT', path, body: `body of ${k}` });
        assert.equal(put.status, 200, `${k}: ${put.text}`);
        const got = await raw({ method: 'GET', path });
        assert.equal(got.status, 200, k);
        assert.equal(got.text, `body of ${k}`);
      }
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'bad', Prefix: '.' }));
      assert.deepEqual(listed.Contents?.map((c) => c.Key).sort(), ['..', `../../../../../../tmp/${marker}`, `../../${marker}`, `./${marker}/.`].sort());
      const a = await s3.send(new GetObjectCommand({ Bucket: 'bad', Key: `a/../../${marker}` }));
      assert.equal(await a.Body!.transformToString(), `body of a/../../${marker}`);
      // Nothing named after the marker anywhere under the temp dir, and the data dir holds only its own files.
      const stray: string[] = [];
      const scan = (d: string, depth: number) => {
        let entries;
        try {
          entries = readdirSync(d, { withFileTypes: true });
        } catch {
          return;
        }
        for (const e of entries) {
          const p = join(d, e.name);
          if (e.name.includes(marker)) stray.push(p);
          if (e.isDirectory() && depth < 6) scan(p, depth + 1);
        }
      };
      scan(tmpdir(), 0);
      scan('/tmp', 0);
      assert.deepEqual(stray, []);
      for (const f of filesUnder(server.dataDir)) {
        assert.match(f, /^(blobs\/[0-9a-f]{2}\/[0-9a-f-]{36}|strongroom\.db(-wal|-shm)?|root-of-trust\.key|credentials)$/, `unexpected file ${f} in the data dir`);
        assert.ok(statSync(join(server.dataDir, f)).mtimeMs >= started - 1000 || f === 'credentials');
      }
    });
  });

  describe('unimplemented features', () => {
    it('x-amz-tagging on a PUT is NotImplemented (tags are refused, not dropped); GET ?tagging answers an empty TagSet, NoSuchKey for a missing key', async () => {
      expectError(await raw({ method: 'PUT', path: '/bad/tagged', body: 'x', headers: { 'x-amz-tagging': 'team=blue' } }), 501, 'NotImplemented');
      assert.equal(await exists(s3, 'bad', 'tagged'), false);
      assert.equal((await raw({ method: 'PUT', path: '/bad/tagged', body: 'x' })).status, 200);
      const tags = await raw({ method: 'GET', path: '/bad/tagged?tagging' });
      assert.equal(tags.status, 200, tags.text);
      assert.match(tags.text, /<Tagging xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/"><TagSet><\/TagSet><\/Tagging>/);
      expectError(await raw({ method: 'GET', path: '/bad/untagged-missing?tagging' }), 404, 'NoSuchKey');
      expectError(await raw({ method: 'PUT', path: '/bad/tagged?tagging', body: '<Tagging><TagSet/></Tagging>' }), 501, 'NotImplemented');
    });
  });

  describe('ranges and encryption headers', () => {
    before(async () => {
      await s3.send(new PutObjectCommand({ Bucket: 'bad', Key: 'hundred', Body: Buffer.alloc(100, 7) }));
    });

    it('a range past the end is 416 InvalidRange with the object size; a malformed Range is ignored (200, whole object)', async () => {
      const res = await raw({ method: 'GET', path: '/bad/hundred', headers: { range: 'bytes=100-200' } });
      expectError(res, 416, 'InvalidRange', /The requested range is not satisfiable/);
      assert.match(res.text, /<RangeRequested>bytes=100-200<\/RangeRequested><ActualObjectSize>100<\/ActualObjectSize>/);
      assert.equal(res.headers['content-range'], 'bytes */100');
      expectError(await raw({ method: 'GET', path: '/bad/hundred', headers: { range: 'bytes=500-' } }), 416, 'InvalidRange');
      const sdk = await rejection(s3.send(new GetObjectCommand({ Bucket: 'bad', Key: 'hundred', Range: 'bytes=1000-1001' })));
      assert.equal(sdk.name, 'InvalidRange');
      assert.equal(sdk.$metadata?.httpStatusCode, 416);
      for (const range of ['bytes=abc', 'bytes=5-2', 'lines=1-2']) {
        const ok = await raw({ method: 'GET', path: '/bad/hundred', headers: { range } });
        assert.equal(ok.status, 200, `${range}: ${ok.text}`);
        assert.equal(ok.body.length, 100);
      }
      const suffix = await raw({ method: 'GET', path: '/bad/hundred', headers: { range: 'bytes=-500' } });
      assert.equal(suffix.status, 206);
      assert.equal(suffix.body.length, 100);
    });

    it('an unknown x-amz-server-side-encryption is InvalidArgument; KMS headers without aws:kms are InvalidArgument; nothing is written', async () => {
      const blobs = blobFiles(server.dataDir).published.length;
      for (const sse of ['AES128', 'aws:KMS', 'none', '']) {
        expectError(await raw({ method: 'PUT', path: '/bad/sse-bad', body: 'x', headers: { 'x-amz-server-side-encryption': sse } }), 400, 'InvalidArgument');
      }
      expectError(await raw({ method: 'PUT', path: '/bad/sse-bad', body: 'x', headers: { 'x-amz-server-side-encryption': 'AES256', 'x-amz-server-side-encryption-aws-kms-key-id': 'alias/aws/s3' } }), 400, 'InvalidArgument');
      expectError(await raw({ method: 'PUT', path: '/bad/sse-bad', body: 'x', headers: { 'x-amz-server-side-encryption-aws-kms-key-id': 'alias/aws/s3' } }), 400, 'InvalidArgument');
      expectError(await raw({ method: 'PUT', path: '/bad/sse-bad', body: 'x', headers: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-context': 'not base64 json' } }), 400, 'InvalidArgument');
      expectError(await raw({ method: 'PUT', path: '/bad/sse-bad', body: 'x', headers: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-bucket-key-enabled': 'maybe' } }), 400, 'InvalidArgument');
      assert.equal(await exists(s3, 'bad', 'sse-bad'), false);
      assert.equal(blobFiles(server.dataDir).published.length, blobs);
    });
  });

  describe('SSE-C', () => {
    const key = randomBytes(32);
    const ssec = (k: Buffer, md5 = md5b64(k), algorithm = 'AES256') => ({
      'x-amz-server-side-encryption-customer-algorithm': algorithm,
      'x-amz-server-side-encryption-customer-key': k.toString('base64'),
      'x-amz-server-side-encryption-customer-key-md5': md5,
    });
    const rawTls = (o: S3RequestOptions) => raw(o, tls.url);

    it('a key of the wrong length, an MD5 that does not match, a missing part or a wrong algorithm: 400, nothing written', async () => {
      const blobs = blobFiles(tls.dataDir).published.length;
      expectError(await rawTls({ method: 'PUT', path: '/bad/ssec', body: 'x', headers: ssec(randomBytes(16)) }), 400, 'InvalidArgument', /secret key was invalid/);
      expectError(await rawTls({ method: 'PUT', path: '/bad/ssec', body: 'x', headers: ssec(randomBytes(33)) }), 400, 'InvalidArgument');
      expectError(await rawTls({ method: 'PUT', path: '/bad/ssec', body: 'x', headers: ssec(key, md5b64(randomBytes(32))) }), 400, 'InvalidArgument', /MD5 hash of the key did not match/);
      expectError(await rawTls({ method: 'PUT', path: '/bad/ssec', body: 'x', headers: ssec(key, 'not-an-md5') }), 400, 'InvalidArgument');
      expectError(await rawTls({ method: 'PUT', path: '/bad/ssec', body: 'x', headers: ssec(key, md5b64(key), 'AES128') }), 400, 'InvalidEncryptionAlgorithmError');
      const { 'x-amz-server-side-encryption-customer-key-md5': _md5, ...noMd5 } = ssec(key);
      expectError(await rawTls({ method: 'PUT', path: '/bad/ssec', body: 'x', headers: noMd5 }), 400, 'InvalidArgument');
      const { 'x-amz-server-side-encryption-customer-key': _key, ...noKey } = ssec(key);
      expectError(await rawTls({ method: 'PUT', path: '/bad/ssec', body: 'x', headers: noKey }), 400, 'InvalidArgument');
      expectError(await rawTls({ method: 'PUT', path: '/bad/ssec', body: 'x', headers: { ...ssec(key), 'x-amz-server-side-encryption': 'AES256' } }), 400, 'InvalidArgument');
      assert.equal(await exists(tlsS3, 'bad', 'ssec'), false);
      assert.equal(blobFiles(tls.dataDir).published.length, blobs);
    });

    it('SSE-C over plain HTTP is refused (400 InvalidRequest) for PUT and GET; the key is not echoed', async () => {
      const blobs = blobFiles(server.dataDir).published.length;
      const res = await raw({ method: 'PUT', path: '/bad/ssec-http', body: 'x', headers: ssec(key) });
      expectError(res, 400, 'InvalidRequest', /must be made over a secure connection/);
      assert.ok(!res.text.includes(key.toString('base64')));
      expectError(await raw({ method: 'GET', path: '/bad/hundred', headers: ssec(key) }), 400, 'InvalidRequest');
      assert.equal(await exists(s3, 'bad', 'ssec-http'), false);
      assert.equal(blobFiles(server.dataDir).published.length, blobs);
    });

    it('GET of an SSE-C object: without the key 400 InvalidRequest, with another key 403 AccessDenied, with the key 200', async () => {
      const put = await rawTls({ method: 'PUT', path: '/bad/ssec-ok', body: 'customer sealed', headers: ssec(key) });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.headers['x-amz-server-side-encryption-customer-key-md5'], md5b64(key));
      expectError(await rawTls({ method: 'GET', path: '/bad/ssec-ok' }), 400, 'InvalidRequest');
      const wrong = randomBytes(32);
      const res = await rawTls({ method: 'GET', path: '/bad/ssec-ok', headers: ssec(wrong) });
      expectError(res, 403, 'AccessDenied');
      assert.ok(!res.text.includes(wrong.toString('base64')) && !res.text.includes(key.toString('base64')));
      assert.equal((await rawTls({ method: 'HEAD', path: '/bad/ssec-ok', headers: ssec(wrong) })).status, 403);
      assert.equal((await rawTls({ method: 'HEAD', path: '/bad/ssec-ok' })).status, 400);
      const ok = await rawTls({ method: 'GET', path: '/bad/ssec-ok', headers: ssec(key) });
      assert.equal(ok.status, 200);
      assert.equal(ok.text, 'customer sealed');
      // An SSE-S3 object read with SSE-C headers is refused too.
      await tlsS3.send(new PutObjectCommand({ Bucket: 'bad', Key: 'plain', Body: 'p' }));
      expectError(await rawTls({ method: 'GET', path: '/bad/plain', headers: ssec(key) }), 400, 'InvalidRequest');
    });
  });

  describe('KMS keys that cannot be used', () => {
    it('missing, disabled and pending-deletion keys: KMS.NotFoundException / KMS.DisabledException / KMS.KMSInvalidStateException, nothing written', async () => {
      const kms = server.kms();
      const disabled = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      const pending = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      const later = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      await s3.send(new PutObjectCommand({ Bucket: 'bad', Key: 'sealed-by-later', Body: 'later', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: later.KeyId }));
      await kms.send(new DisableKeyCommand({ KeyId: disabled.KeyId }));
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: pending.KeyId, PendingWindowInDays: 7 }));
      const blobs = blobFiles(server.dataDir).published.length;
      const put = (keyId: string) => raw({ method: 'PUT', path: '/bad/kms-bad', body: 'x', headers: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': keyId } });
      expectError(await put('11111111-2222-4333-8444-555555555555'), 400, 'KMS.NotFoundException');
      expectError(await put(`arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/11111111-2222-4333-8444-555555555555`), 400, 'KMS.NotFoundException');
      expectError(await put('alias/no-such-alias'), 400, 'KMS.NotFoundException');
      expectError(await put(disabled.KeyId!), 400, 'KMS.DisabledException');
      expectError(await put(pending.Arn!), 400, 'KMS.KMSInvalidStateException', /pending deletion/);
      assert.equal(await exists(s3, 'bad', 'kms-bad'), false);
      assert.equal(blobFiles(server.dataDir).published.length, blobs);
      // A bucket default naming a disabled key fails the same way for a PUT without headers.
      await s3.send(new CreateBucketCommand({ Bucket: 'bad-default' }));
      const cfg = `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>${disabled.Arn}</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`;
      const setDefault = await raw({ method: 'PUT', path: '/bad-default?encryption', body: cfg, headers: { 'content-md5': md5b64(Buffer.from(cfg)) } });
      assert.equal(setDefault.status, 200, setDefault.text);
      expectError(await raw({ method: 'PUT', path: '/bad-default/k', body: 'x' }), 400, 'KMS.DisabledException');
      // Reading an object whose key was disabled after the write.
      await kms.send(new DisableKeyCommand({ KeyId: later.KeyId }));
      expectError(await raw({ method: 'GET', path: '/bad/sealed-by-later' }), 400, 'KMS.DisabledException');
    });
  });

  describe('bodies that do not match what was signed or declared', () => {
    it('Content-MD5 that does not match is BadDigest; a malformed one InvalidDigest; nothing written', async () => {
      const blobs = blobFiles(server.dataDir);
      const body = randomBytes(200_000);
      expectError(await raw({ method: 'PUT', path: '/bad/md5', body, headers: { 'content-md5': md5b64(randomBytes(10)) } }), 400, 'BadDigest');
      expectError(await raw({ method: 'PUT', path: '/bad/md5', body, headers: { 'content-md5': 'abc' } }), 400, 'InvalidDigest');
      assert.equal(await exists(s3, 'bad', 'md5'), false);
      assert.deepEqual(blobFiles(server.dataDir), blobs);
      assert.equal((await raw({ method: 'PUT', path: '/bad/md5', body, headers: { 'content-md5': md5b64(body) } })).status, 200);
    });

    it('a flexible checksum that does not match is BadDigest; nothing written', async () => {
      const blobs = blobFiles(server.dataDir);
      const body = randomBytes(100_000);
      const wrongSha = createHash('sha256').update('other').digest('base64');
      expectError(await raw({ method: 'PUT', path: '/bad/cks', body, headers: { 'x-amz-checksum-sha256': wrongSha } }), 400, 'BadDigest');
      expectError(await raw({ method: 'PUT', path: '/bad/cks', body, headers: { 'x-amz-checksum-crc32': 'AAAAAA==' } }), 400, 'BadDigest');
      expectError(await raw({ method: 'PUT', path: '/bad/cks', body, headers: { 'x-amz-checksum-crc32': 'not base64!' } }), 400, 'InvalidRequest');
      assert.equal(await exists(s3, 'bad', 'cks'), false);
      assert.deepEqual(blobFiles(server.dataDir), blobs);
      const sha = createHash('sha256').update(body).digest('base64');
      const ok = await raw({ method: 'PUT', path: '/bad/cks', body, headers: { 'x-amz-checksum-sha256': sha } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.headers['x-amz-checksum-sha256'], sha);
    });

    it('a body whose SHA-256 is not the signed x-amz-content-sha256 is XAmzContentSHA256Mismatch; nothing written', async () => {
      const blobs = blobFiles(server.dataDir);
      const body = randomBytes(300_000);
      expectError(await raw({ method: 'PUT', path: '/bad/sha', body, payloadHash: sha256('something else') }), 400, 'XAmzContentSHA256Mismatch');
      // Same length, one flipped byte after signing.
      const req = await signedS3Request(server.url, { method: 'PUT', path: '/bad/sha', body });
      const tampered = Buffer.from(body);
      tampered[150_000] = tampered[150_000]! ^ 1;
      expectError(await sendRaw(server.url, { ...req, body: tampered }), 400, 'XAmzContentSHA256Mismatch');
      expectError(await raw({ method: 'PUT', path: '/bad/sha', body, payloadHash: 'not-a-hash' }), 400, 'InvalidArgument');
      assert.equal(await exists(s3, 'bad', 'sha'), false);
      assert.deepEqual(blobFiles(server.dataDir), blobs);
    });

    /** An aws-chunked STREAMING-AWS4-HMAC-SHA256-PAYLOAD request; `sign(i, data, prev)` gives each chunk's signature. */
    const chunkedPut = async (path: string, chunks: Buffer[], sign: (i: number, data: Buffer, prev: string, real: string) => string | undefined): Promise<RawResponse> => {
      const decoded = chunks.reduce((n, c) => n + c.length, 0);
      const encodedLength = (sigs: (string | undefined)[]) => [...chunks, Buffer.alloc(0)].reduce((n, c, i) => n + c.length.toString(16).length + (sigs[i] === undefined ? 0 : 17 + 64) + 4 + c.length, 0);
      const date = new Date();
      const build = async (contentLength: number) => signedS3Request(server.url, {
        method: 'PUT', path, payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', signingDate: date,
        headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(decoded), 'content-length': String(contentLength) },
      });
      const framed = (seed: string, amzDate: string) => {
        const scope = `${amzDate.slice(0, 8)}/${TEST_REGION}/s3/aws4_request`;
        const kSigning = hmac(hmac(hmac(hmac(`AWS4${TEST_CREDENTIALS.secretAccessKey}`, amzDate.slice(0, 8)), TEST_REGION), 's3'), 'aws4_request');
        let prev = seed;
        const sigs: (string | undefined)[] = [];
        for (const [i, c] of [...chunks, Buffer.alloc(0)].entries()) {
          const real = hmac(kSigning, ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, prev, sha256(''), sha256(c)].join('\n')).toString('hex');
          const sig = sign(i, c, prev, real);
          sigs.push(sig);
          prev = real;
        }
        return sigs;
      };
      // Content-Length is signed, so sign twice: once to learn the signatures' presence, once for real.
      const first = await build(0);
      const sigs0 = framed(first.signature, first.amzDate);
      const req = await build(encodedLength(sigs0));
      const sigs = framed(req.signature, req.amzDate);
      const body = Buffer.concat([...chunks, Buffer.alloc(0)].flatMap((c, i) => [
        Buffer.from(`${c.length.toString(16)}${sigs[i] === undefined ? '' : `;chunk-signature=${sigs[i]}`}\r\n`), c, Buffer.from('\r\n'),
      ]));
      assert.equal(body.length, encodedLength(sigs));
      return sendRaw(server.url, { ...req, body });
    };

    it('aws-chunked with every chunk signed is accepted (the framing in these tests is right)', async () => {
      const chunks = [randomBytes(65_536), randomBytes(65_536), randomBytes(1000)];
      const res = await chunkedPut('/bad/chunked-ok', chunks, (_i, _d, _p, real) => real);
      assert.equal(res.status, 200, res.text);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'bad', Key: 'chunked-ok' }));
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(chunks)));
    });

    it('aws-chunked with a forged chunk signature, a zero signature or a chunk signed out of chain is SignatureDoesNotMatch (403); unsigned chunks are refused; nothing written', async () => {
      const blobs = blobFiles(server.dataDir);
      const chunks = [randomBytes(65_536), randomBytes(65_536), randomBytes(1000)];
      const cases: [string, (i: number, d: Buffer, p: string, real: string) => string | undefined][] = [
        ['second chunk forged', (i, _d, _p, real) => (i === 1 ? createHmac('sha256', 'wrong key').update(real).digest('hex') : real)],
        ['final chunk zero', (i, _d, _p, real) => (i === 3 ? '0'.repeat(64) : real)],
        ['first chunk signed by the seed of another request', (i, _d, _p, real) => (i === 0 ? sha256(real) : real)],
      ];
      for (const [label, sign] of cases) {
        const res = await chunkedPut('/bad/chunked', chunks, sign);
        expectError(res, 403, 'SignatureDoesNotMatch');
        assert.equal(await exists(s3, 'bad', 'chunked'), false, label);
      }
      // Chunks without chunk-signature in a signed stream: S3 reads that as a broken body.
      const unsigned = await chunkedPut('/bad/chunked', chunks, () => undefined);
      assert.ok(unsigned.status === 400 || unsigned.status === 403, unsigned.text);
      assert.match(s3XmlError(unsigned).code, /^(IncompleteBody|SignatureDoesNotMatch)$/);
      assert.equal(await exists(s3, 'bad', 'chunked'), false);
      assert.deepEqual(blobFiles(server.dataDir), blobs);
    });

    it('a request signed with the wrong secret is SignatureDoesNotMatch (403), an unknown key InvalidAccessKeyId (403), no signature AccessDenied', async () => {
      expectError(await raw({ method: 'PUT', path: '/bad/sig', body: 'x', credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' } }), 403, 'SignatureDoesNotMatch');
      expectError(await raw({ method: 'PUT', path: '/bad/sig', body: 'x', credentials: { accessKeyId: 'AKIANOTAKEY000000000', secretAccessKey: 'wrong' } }), 403, 'InvalidAccessKeyId');
      expectError(await sendRaw(server.url, { method: 'PUT', path: '/bad/sig', headers: { 'content-length': '1' }, body: 'x' }), 403, 'AccessDenied');
      assert.equal(await exists(s3, 'bad', 'sig'), false);
    });
  });

  describe('authorization', () => {
    let clients: Clients;
    let user: S3Client;
    let cmkArn: string;
    before(async () => {
      clients = new Clients(server);
      const iam = clients.iam();
      await iam.send(new CreateUserCommand({ UserName: 's3-only' }));
      await iam.send(new PutUserPolicyCommand({ UserName: 's3-only', PolicyName: 's3', PolicyDocument: policyDocument(allow('s3:*')) }));
      const ak = (await iam.send(new CreateAccessKeyCommand({ UserName: 's3-only' }))).AccessKey!;
      user = server.s3({ credentials: { accessKeyId: ak.AccessKeyId!, secretAccessKey: ak.SecretAccessKey! } });
      cmkArn = (await server.kms().send(new CreateKeyCommand({ Description: 'customer managed, default key policy' }))).KeyMetadata!.Arn!;
      await s3.send(new CreateBucketCommand({ Bucket: 'authz' }));
    });
    after(() => clients.destroy());

    it('seed 002: a user with s3:* but no kms:GenerateDataKey/kms:Decrypt gets AccessDenied on an SSE-KMS PUT and GET; SSE-S3 works', async () => {
      const blobs = blobFiles(server.dataDir).published.length;
      const put = await rejection(user.send(new PutObjectCommand({ Bucket: 'authz', Key: 'kms-by-user', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: cmkArn })));
      assert.equal(put.name, 'AccessDenied');
      assert.equal(put.$metadata?.httpStatusCode, 403);
      assert.match(put.message, /kms:GenerateDataKey/);
      assert.equal(await exists(s3, 'authz', 'kms-by-user'), false);
      assert.equal(blobFiles(server.dataDir).published.length, blobs);
      await s3.send(new PutObjectCommand({ Bucket: 'authz', Key: 'kms-by-root', Body: 'sealed by root', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: cmkArn }));
      const get = await rejection(user.send(new GetObjectCommand({ Bucket: 'authz', Key: 'kms-by-root' })));
      assert.equal(get.name, 'AccessDenied');
      assert.match(get.message, /kms:Decrypt/);
      const ok = await user.send(new PutObjectCommand({ Bucket: 'authz', Key: 'sse-s3-by-user', Body: 'fine' }));
      assert.equal(ok.ServerSideEncryption, 'AES256');
      const back = await user.send(new GetObjectCommand({ Bucket: 'authz', Key: 'sse-s3-by-user' }));
      assert.equal(await back.Body!.transformToString(), 'fine');
      // The AWS managed key aws/s3 lets any principal of the account use it through S3, as AWS's does.
      const managed = await user.send(new PutObjectCommand({ Bucket: 'authz', Key: 'aws-s3-by-user', Body: 'managed', ServerSideEncryption: 'aws:kms' }));
      assert.equal(managed.ServerSideEncryption, 'aws:kms');
      // Granting the two KMS actions is what fixes it.
      await clients.iam().send(new PutUserPolicyCommand({ UserName: 's3-only', PolicyName: 'kms', PolicyDocument: policyDocument(allow(['kms:GenerateDataKey', 'kms:Decrypt'], cmkArn)) }));
      await user.send(new PutObjectCommand({ Bucket: 'authz', Key: 'kms-by-user', Body: 'now allowed', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: cmkArn }));
      const now = await user.send(new GetObjectCommand({ Bucket: 'authz', Key: 'kms-by-root' }));
      assert.equal(await now.Body!.transformToString(), 'sealed by root');
    });

    it('a bucket policy denying PutObject without s3:x-amz-server-side-encryption aws:kms refuses other PUTs and accepts aws:kms ones', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'kms-only' }));
      await s3.send(new PutBucketPolicyCommand({
        Bucket: 'kms-only',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{
            Sid: 'DenyIncorrectEncryptionHeader', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::kms-only/*',
            Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
          }],
        }),
      }));
      for (const extra of [{}, { ServerSideEncryption: 'AES256' as const }]) {
        const err = await rejection(s3.send(new PutObjectCommand({ Bucket: 'kms-only', Key: 'k', Body: 'x', ...extra })));
        assert.equal(err.name, 'AccessDenied');
        assert.equal(err.$metadata?.httpStatusCode, 403);
      }
      assert.equal(await exists(s3, 'kms-only', 'k'), false);
      const ok = await s3.send(new PutObjectCommand({ Bucket: 'kms-only', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' }));
      assert.equal(ok.ServerSideEncryption, 'aws:kms');
      const denied = await rejection(user.send(new PutObjectCommand({ Bucket: 'kms-only', Key: 'u', Body: 'x' })));
      assert.equal(denied.name, 'AccessDenied');
    });

    it('a bucket policy denying aws:SecureTransport false refuses plain HTTP and allows HTTPS', async () => {
      const policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Sid: 'TlsOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::tls-only', 'arn:aws:s3:::tls-only/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
      });
      for (const [client, secure] of [[s3, false], [tlsS3, true]] as const) {
        await client.send(new CreateBucketCommand({ Bucket: 'tls-only' }));
        await client.send(new PutBucketPolicyCommand({ Bucket: 'tls-only', Policy: policy }));
        const put = client.send(new PutObjectCommand({ Bucket: 'tls-only', Key: 'k', Body: 'x' }));
        if (secure) {
          assert.equal((await put).ServerSideEncryption, 'AES256');
          const got = await client.send(new GetObjectCommand({ Bucket: 'tls-only', Key: 'k' }));
          assert.equal(await got.Body!.transformToString(), 'x');
        } else {
          const err = await rejection(put);
          assert.equal(err.name, 'AccessDenied');
          assert.equal(err.$metadata?.httpStatusCode, 403);
          assert.equal((await rejection(client.send(new ListObjectsV2Command({ Bucket: 'tls-only' })))).name, 'AccessDenied');
        }
      }
    });
  });
});

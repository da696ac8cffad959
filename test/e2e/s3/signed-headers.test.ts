// Every x-amz-* header present in an S3 request must be signed, in header-auth and presigned forms: an unsigned
// one is refused with 403 AccessDenied and <HeadersNotSigned> as S3 answers (a presigned PUT URL replayed with
// an added x-amz-copy-source would otherwise become a CopyObject of anything the signer can read).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RawResponse, s3XmlError, sendRaw, signedS3Request } from '../../helpers/raw-request.js';
import { TestServer, rejection, startServer } from '../../helpers/server.js';

const NOT_SIGNED = 'There were headers present in the request which were not signed';

function assertHeadersNotSigned(res: RawResponse, names: string[]): void {
  assert.equal(res.status, 403, res.text);
  const err = s3XmlError(res);
  assert.equal(err.code, 'AccessDenied');
  assert.equal(err.message, NOT_SIGNED);
  assert.equal(/<HeadersNotSigned>([^<]*)<\/HeadersNotSigned>/.exec(res.text)?.[1], names.join(', '));
}

describe('S3: x-amz-* headers outside the signature are refused', () => {
  let server: TestServer;
  let s3: S3Client;
  let dir: string;
  const customerKey = randomBytes(32);
  const sseC = {
    'x-amz-server-side-encryption-customer-algorithm': 'AES256',
    'x-amz-server-side-encryption-customer-key': customerKey.toString('base64'),
    'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(customerKey).digest('base64'),
  };

  before(async () => {
    // Over TLS, so that SSE-C requests are otherwise acceptable and the signature rule is what refuses them.
    dir = mkdtempSync(join(tmpdir(), 'strongroom-signed-headers-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    server = await startServer({ tls: { certFile: cert, keyFile: key } });
    s3 = server.s3();
    for (const b of ['secret', 'shared']) await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: 'secret', Key: 'plans.txt', Body: 'the plans' }));
  });
  after(async () => {
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const putUrl = (Key: string) => getSignedUrl(s3, new PutObjectCommand({ Bucket: 'shared', Key }), { expiresIn: 300 });
  const send = (url: string, headers: Record<string, string>, body = '') => {
    const u = new URL(url);
    return sendRaw(server.url, { method: 'PUT', path: u.pathname + u.search, headers: { host: u.host, 'content-length': String(Buffer.byteLength(body)), ...headers }, body });
  };
  const exists = async (Bucket: string, Key: string) => {
    try {
      await s3.send(new HeadObjectCommand({ Bucket, Key }));
      return true;
    } catch (err) {
      if ((err as Error).name === 'NotFound') return false;
      throw err;
    }
  };

  it('a presigned PUT URL replayed with an added x-amz-copy-source is refused (HeadersNotSigned) and copies nothing', async () => {
    const url = await putUrl('upload.txt');
    assert.match(url, /X-Amz-SignedHeaders=host&/);
    assertHeadersNotSigned(await send(url, { 'x-amz-copy-source': '/secret/plans.txt' }), ['x-amz-copy-source']);
    assert.equal(await exists('shared', 'upload.txt'), false);
    // Used as signed, the same URL works.
    const ok = await send(url, {}, 'my own upload');
    assert.equal(ok.status, 200, ok.text);
  });

  it('a presigned PUT URL replayed with SSE-C headers is refused, naming each unsigned header', async () => {
    const url = await putUrl('locked.txt');
    assertHeadersNotSigned(await send(url, sseC, 'data'), Object.keys(sseC).sort());
    assert.equal(await exists('shared', 'locked.txt'), false);
  });

  it('a presigned PUT URL replayed with another KMS key (x-amz-server-side-encryption-aws-kms-key-id) is refused', async () => {
    const kms = server.kms();
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const url = await putUrl('kms.txt');
    const res = await send(url, { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': keyId }, 'data');
    assertHeadersNotSigned(res, ['x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id']);
    assert.equal(await exists('shared', 'kms.txt'), false);
  });

  it('header-auth: an x-amz-* header added after signing is refused the same way (copy source, SSE-C, metadata)', async () => {
    const signed = await signedS3Request(server.url, { method: 'PUT', path: '/shared/header-auth.txt', body: '' });
    const headers = signed.headers;
    assertHeadersNotSigned(await sendRaw(server.url, { ...signed, headers: { ...headers, 'x-amz-copy-source': '/secret/plans.txt' } }), ['x-amz-copy-source']);
    assertHeadersNotSigned(await sendRaw(server.url, { ...signed, headers: { ...headers, ...sseC } }), Object.keys(sseC).sort());
    assertHeadersNotSigned(await sendRaw(server.url, { ...signed, headers: { ...headers, 'x-amz-meta-b': '1', 'x-amz-acl': 'public-read' } }), ['x-amz-acl', 'x-amz-meta-b']);
    assert.equal(await exists('shared', 'header-auth.txt'), false);
    // Signed, the copy source is honoured (the rule is about the signature, not the header).
    const copy = await signedS3Request(server.url, { method: 'PUT', path: '/shared/header-auth.txt', headers: { 'x-amz-copy-source': '/secret/plans.txt' } });
    const res = await sendRaw(server.url, copy);
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<CopyObjectResult[ >]/);
  });

  it('presigned URLs made by @aws-sdk/s3-request-presigner keep working: SSE-KMS and SSE-C headers (signed), checksums (in the query)', async () => {
    const kms = server.kms();
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const kmsUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'shared', Key: 'sdk-kms.txt', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }), { expiresIn: 300 });
    assert.match(decodeURIComponent(kmsUrl), /X-Amz-SignedHeaders=host;x-amz-server-side-encryption;x-amz-server-side-encryption-aws-kms-key-id/);
    const put = await send(kmsUrl, { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': keyId }, 'kms data');
    assert.equal(put.status, 200, put.text);
    assert.match(String(put.headers['x-amz-server-side-encryption-aws-kms-key-id']), new RegExp(`key/${keyId}$`));

    const sseCUrl = await getSignedUrl(
      s3,
      new PutObjectCommand({ Bucket: 'shared', Key: 'sdk-ssec.txt', SSECustomerAlgorithm: 'AES256', SSECustomerKey: sseC['x-amz-server-side-encryption-customer-key'], SSECustomerKeyMD5: sseC['x-amz-server-side-encryption-customer-key-md5'] }),
      { expiresIn: 300 },
    );
    const putC = await send(sseCUrl, sseC, 'customer data');
    assert.equal(putC.status, 200, putC.text);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'shared', Key: 'sdk-ssec.txt', SSECustomerAlgorithm: 'AES256', SSECustomerKey: sseC['x-amz-server-side-encryption-customer-key'] }));
    assert.equal(await got.Body!.transformToString(), 'customer data');
    assert.equal((await rejection(s3.send(new GetObjectCommand({ Bucket: 'shared', Key: 'sdk-ssec.txt' })))).name, 'InvalidRequest');

    const sumUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'shared', Key: 'sdk-sum.txt', ChecksumAlgorithm: 'CRC32' }), { expiresIn: 300 });
    const putSum = await send(sumUrl, {}, 'summed');
    assert.equal(putSum.status, 200, putSum.text);
    // x-amz-content-sha256 is the payload line of the canonical request, bound by the signature either way:
    // S3 tolerates it unsigned.
    const shaUrl = await putUrl('sha.txt');
    const putSha = await send(shaUrl, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, 'x');
    assert.equal(putSha.status, 200, putSha.text);
  });
});

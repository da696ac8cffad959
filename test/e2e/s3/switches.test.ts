import { CreateBucketCommand, GetBucketEncryptionCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rejection, startServer } from '../../helpers/server.js';

/** Where today's AWS and older clients disagree, the server does what AWS does now and offers a switch. */
describe('S3 compatibility switches', () => {
  it('STRONGROOM_S3_LEGACY_ENCRYPTION_NOT_FOUND: an unconfigured bucket answers ServerSideEncryptionConfigurationNotFoundError', async () => {
    const server = await startServer({ s3: { legacyEncryptionNotFound: true } });
    try {
      const s3 = server.s3();
      await s3.send(new CreateBucketCommand({ Bucket: 'legacy' }));
      const err = await rejection(s3.send(new GetBucketEncryptionCommand({ Bucket: 'legacy' })));
      assert.equal(err.name, 'ServerSideEncryptionConfigurationNotFoundError');
      assert.equal(err.$metadata?.httpStatusCode, 404);
    } finally {
      await server.destroy();
    }
  });

  it('STRONGROOM_S3_BLOCK_SSE_C: new buckets block SSE-C (BlockedEncryptionTypes), as AWS since April 2026', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const server = await startServer({ s3: { blockSseCForNewBuckets: true }, tls: { certFile: `${dir}/cert.pem`, keyFile: `${dir}/key.pem` } });
    try {
      const s3 = server.s3();
      await s3.send(new CreateBucketCommand({ Bucket: 'modern' }));
      const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'modern' }));
      assert.deepEqual(enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.BlockedEncryptionTypes?.EncryptionType, ['SSE-C']);
      const key = randomBytes(32);
      const err = await rejection(
        s3.send(new PutObjectCommand({ Bucket: 'modern', Key: 'k', Body: 'x', SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') })),
      );
      assert.equal(err.name, 'AccessDenied');
      await s3.send(new PutObjectCommand({ Bucket: 'modern', Key: 'k', Body: 'x' }));
    } finally {
      await server.destroy();
    }
  });
});

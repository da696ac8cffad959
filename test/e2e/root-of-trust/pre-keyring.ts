import { DecryptCommand, EncryptCommand, KMSClient, VerifyMacCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TEST_CREDENTIALS, TEST_REGION } from '../../helpers/server.js';

/** What test/fixtures/pre-keyring/make.mjs stored beside the data dir it made with the code before the keyring. */
export interface PreKeyringFixture {
  readonly keyId: string;
  readonly ciphertext: string;
  readonly context: Record<string, string>;
  readonly plaintext: string;
  readonly hmacKeyId: string;
  readonly mac: string;
  readonly bucket: string;
  readonly objects: Record<string, string>;
  readonly user: { accessKeyId: string; secretAccessKey: string };
}

/** A fresh copy of the pre-keyring data dir (every secret wrapped directly by its root-of-trust.key, no keyring row). */
export function preKeyringDataDir(): { dataDir: string; fixture: PreKeyringFixture } {
  const base = mkdtempSync(join(tmpdir(), 'sr-pre-keyring-'));
  execFileSync('tar', ['-xzf', resolve('test/fixtures/pre-keyring/pre-keyring.tar.gz'), '-C', base]);
  const dataDir = join(base, 'data');
  return { dataDir, fixture: JSON.parse(readFileSync(join(dataDir, 'fixture.json'), 'utf8')) as PreKeyringFixture };
}

/**
 * Everything the old code wrapped is read back over the APIs: a KMS ciphertext (key material), an HMAC (another
 * key's material), SSE-S3 and SSE-KMS objects (the S3 service key, a KMS data key), an IAM user's access key
 * (its wrapped secret: SigV4 with it succeeds only if the server unwraps it).
 */
export async function assertPreKeyringDataReadable(url: string, f: PreKeyringFixture): Promise<void> {
  const common = { endpoint: url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 };
  const kms = new KMSClient(common);
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const sts = new STSClient({ ...common, credentials: f.user });
  try {
    const d = await kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(f.ciphertext, 'base64'), EncryptionContext: f.context }));
    assert.equal(Buffer.from(d.Plaintext!).toString(), f.plaintext);
    const v = await kms.send(new VerifyMacCommand({ KeyId: f.hmacKeyId, Message: Buffer.from('message'), MacAlgorithm: 'HMAC_SHA_256', Mac: Buffer.from(f.mac, 'base64') }));
    assert.equal(v.MacValid, true);
    for (const [key, body] of Object.entries(f.objects)) {
      const got = await s3.send(new GetObjectCommand({ Bucket: f.bucket, Key: key }));
      assert.equal(await got.Body!.transformToString(), body, key);
    }
    const who = await sts.send(new GetCallerIdentityCommand({}));
    assert.match(who.Arn!, /:user\/old-user$/);
    // New material under the old key still round-trips.
    const c = await kms.send(new EncryptCommand({ KeyId: f.keyId, Plaintext: Buffer.from('new'), EncryptionContext: f.context }));
    const back = await kms.send(new DecryptCommand({ CiphertextBlob: c.CiphertextBlob, EncryptionContext: f.context }));
    assert.equal(Buffer.from(back.Plaintext!).toString(), 'new');
  } finally {
    kms.destroy();
    s3.destroy();
    sts.destroy();
  }
}

import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { killAll, spawnServe } from '../../helpers/process.js';

function credentialsFrom(file: string): { accessKeyId: string; secretAccessKey: string } {
  const text = readFileSync(file, 'utf8');
  return {
    accessKeyId: /aws_access_key_id = (\S+)/.exec(text)![1]!,
    secretAccessKey: /aws_secret_access_key = (\S+)/.exec(text)![1]!,
  };
}

describe('strongroom serve as a process', () => {
  const dirs: string[] = [];
  after(() => {
    killAll();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'sr-serve-'));
    dirs.push(d);
    return d;
  };

  it('first start creates the data dir, prints generated root credentials once and stores them 0600; SIGTERM exits 0; a restart keeps everything', async () => {
    const dataDir = join(tempDir(), 'data');
    const first = await spawnServe(['--data-dir', dataDir], { STRONGROOM_ACCOUNT_ID: '444455556666' });
    const creds = credentialsFrom(join(dataDir, 'credentials'));
    assert.ok(first.stdout().includes(creds.secretAccessKey), 'the generated secret is printed on first start');
    assert.match(creds.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(statSync(join(dataDir, 'credentials')).mode & 0o777, 0o600);
    assert.equal(statSync(dataDir).mode & 0o077, 0);
    for (const f of ['root-of-trust.key', 'strongroom.db']) assert.equal(statSync(join(dataDir, f)).mode & 0o777, 0o600, f);
    const health = await fetch(`${first.url}/_strongroom/health`);
    assert.equal(health.status, 200);

    let kms = new KMSClient({ endpoint: first.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    assert.equal(key.AWSAccountId, '444455556666');
    const enc = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('across restarts') }));
    kms.destroy();
    assert.equal(await first.terminate(), 0);

    const second = await spawnServe(['--data-dir', dataDir]);
    try {
      assert.ok(!second.stdout().includes(creds.secretAccessKey), 'credentials are printed only once');
      kms = new KMSClient({ endpoint: second.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
      assert.deepEqual((await kms.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId), [key.KeyId]);
      const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
      assert.equal(Buffer.from(dec.Plaintext!).toString(), 'across restarts');
      kms.destroy();
    } finally {
      assert.equal(await second.terminate(), 0);
    }
  });

  it('STRONGROOM_ROOT_* set the root credentials (nothing printed) and --tls-cert/--tls-key serve HTTPS on the same port', async () => {
    const dir = tempDir();
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const env = { STRONGROOM_ROOT_ACCESS_KEY_ID: 'fixed-key', STRONGROOM_ROOT_SECRET_ACCESS_KEY: 'fixed-secret' };
    const proc = await spawnServe(['--data-dir', join(dir, 'data'), '--tls-cert', cert, '--tls-key', key], env);
    try {
      assert.match(proc.url, /^https:\/\//);
      assert.ok(!proc.stdout().includes('fixed-secret'));
      const kms = new KMSClient({
        endpoint: proc.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'fixed-key', secretAccessKey: 'fixed-secret' },
        requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(cert) }) }),
        maxAttempts: 1,
      });
      const created = await kms.send(new CreateKeyCommand({ Description: 'over tls' }));
      assert.equal(created.KeyMetadata!.Description, 'over tls');
      kms.destroy();
    } finally {
      assert.equal(await proc.terminate(), 0);
    }
  });

  it('refuses a bad configuration with a message and a non-zero exit', async () => {
    await assert.rejects(spawnServe(['--data-dir', tempDir()], { STRONGROOM_ACCOUNT_ID: '12' }), /STRONGROOM_ACCOUNT_ID must be 12 digits/);
    await assert.rejects(spawnServe(['--data-dir', tempDir(), '--tls-cert', '/nonexistent']), /--tls-cert and --tls-key go together/);
  });
});

import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { AddressInfo, connect, createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliRun, runCli } from '../../helpers/cli.js';
import { ServeProcess, killAll, spawnServe } from '../../helpers/process.js';
import { TEST_CREDENTIALS, TEST_REGION } from '../../helpers/server.js';
import { splitRootKey } from '../../../src/core/crypto/root-of-trust/shamir.js';
import { SecretBytes } from '../../../src/core/crypto/secret-bytes.js';

const ROOT_ENV = { STRONGROOM_ACCOUNT_ID: '111122223333', STRONGROOM_ROOT_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, STRONGROOM_ROOT_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey };
const clientOptions = (url: string) => ({ endpoint: url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });

function sharesOf(run: CliRun): string[] {
  return [...run.stdout.matchAll(/^Key share \d+ of \d+: (\S+)$/gm)].map((m) => m[1]!);
}

/** `strongroom operator unseal` with the share on stdin (as an operator types or pipes it). */
function unsealViaStdin(share: string, dataDir: string, url: string): Promise<CliRun> {
  const child = spawn(process.execPath, ['bin/strongroom.js', 'operator', 'unseal', '--data-dir', dataDir, '--endpoint-url', url], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(share + '\n');
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

const unseal = (share: string, dataDir: string, url: string) => runCli(['operator', 'unseal', share, '--data-dir', dataDir, '--endpoint-url', url]);

/** What `operator unseal` sends, without a CLI process per share (the CLI itself is exercised above). */
async function operatorCall(url: string, dataDir: string, op: 'unseal' | 'seal' | 'seal-status', share?: string): Promise<{ status: number; body: { sealed?: boolean; progress?: number; error?: string } }> {
  const token = readFileSync(join(dataDir, 'operator-token'), 'utf8').trim();
  const res = await fetch(`${url}/_strongroom/operator/${op}`, { method: op === 'seal-status' ? 'GET' : 'POST', headers: { 'x-strongroom-operator-token': token, connection: 'close' }, ...(share ? { body: share } : {}) });
  return { status: res.status, body: (await res.json()) as { sealed?: boolean; progress?: number; error?: string } };
}

/** A share of the same set and index with altered bytes and recomputed check digits: well formed, but wrong. */
function altered(share: string): string {
  const body = share.slice(0, share.lastIndexOf('-'));
  const m = /^(srs1-[0-9a-f]{12}-\d+-)(.+)$/.exec(body)!;
  const bytes = Buffer.from(m[2]!, 'base64url');
  bytes[0]! ^= 0x5a;
  const newBody = m[1]! + bytes.toString('base64url');
  return `${newBody}-${createHash('sha256').update(newBody).digest().subarray(0, 4).toString('hex')}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The first 8 bytes an NBD server sends (its newstyle greeting), or the connection's error code. */
function nbdGreeting(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 8) {
        sock.destroy();
        resolve(got.subarray(0, 8).toString('latin1'));
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

async function health(url: string): Promise<{ status: number; body: { status: string } }> {
  const res = await fetch(`${url}/_strongroom/health`, { headers: { connection: 'close' } });
  return { status: res.status, body: (await res.json()) as { status: string } };
}

async function assertSealedEverywhere(url: string): Promise<void> {
  const kms = new KMSClient(clientOptions(url));
  const k = await kms.send(new ListKeysCommand({})).then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
  assert.equal(k?.name, 'KMSInternalException');
  assert.equal(k.$metadata?.httpStatusCode, 500);
  assert.match(k.message, /sealed/);
  kms.destroy();
  const s3 = new S3Client({ ...clientOptions(url), forcePathStyle: true });
  const s = await s3.send(new ListBucketsCommand({})).then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
  assert.equal(s?.name, 'ServiceUnavailable');
  assert.equal(s.$metadata?.httpStatusCode, 503);
  assert.match(s.message, /sealed/);
  s3.destroy();
  const sts = new STSClient(clientOptions(url));
  const t = await sts.send(new GetCallerIdentityCommand({})).then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
  assert.equal(t?.name, 'ServiceUnavailable');
  assert.equal(t.$metadata?.httpStatusCode, 503);
  assert.match(t.message, /sealed/);
  sts.destroy();
  const ct = new CloudTrailClient(clientOptions(url));
  const c = await ct.send(new LookupEventsCommand({})).then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
  assert.equal(c?.$metadata?.httpStatusCode, 503);
  assert.match(c.message, /sealed/);
  ct.destroy();
  // EC2's Query dialect (no EC2 SDK in the repo): answered before authentication, so a made-up signature will do.
  const ec2 = await fetch(`${url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00',
    },
    body: 'Action=DescribeVolumes&Version=2016-11-15',
  });
  assert.equal(ec2.status, 503);
  assert.match(await ec2.text(), /<Response><Errors><Error><Code>Unavailable<\/Code><Message>Strongroom is sealed/);
  // The XKS proxy API (its error body) and the explain endpoint are behind the same gate.
  const xks = await fetch(`${url}/_strongroom/xks/111122223333/kms/xks/v1/health`, { method: 'POST', body: '{}' });
  assert.equal(xks.status, 500);
  assert.deepEqual(await xks.json(), { errorName: 'InternalException', errorMessage: 'Strongroom is sealed: it serves no request until it is unsealed with its key shares (strongroom operator unseal)' });
  const explain = await fetch(`${url}/_strongroom/explain`, { method: 'POST', body: '{}' });
  assert.equal(explain.status, 503);
  assert.equal(((await explain.json()) as { __type: string }).__type, 'ServiceUnavailable');
  const h = await health(url);
  assert.deepEqual(h, { status: 503, body: { status: 'sealed' } });
}


/**
 * The base64url body of a printed share (`srs1-<set id>-<index>-<base64url>-<check>`). base64url may itself hold
 * '-', so the body is what lies between the index and the last '-' — not the fourth '-'-separated field (which
 * was a few bytes, or none, whenever the body held a '-': the scan below then matched by chance).
 */
function shareBody(share: string): string {
  const m = /^srs1-[0-9a-f]{12}-[0-9]{1,3}-([A-Za-z0-9_-]+)-[0-9a-f]{8}$/.exec(share);
  assert.ok(m, `a printed share: ${share.slice(0, 24)}…`);
  return m[1]!;
}

describe('sealed start with Shamir key shares (operator init / unseal / seal)', () => {
  let dataDir: string;
  let shares: string[];
  let proc: ServeProcess;
  let keyId: string;
  let ciphertext: Uint8Array;
  let nbdPort: number;
  before(async () => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'sr-sealed-')), 'data');
    const init = await runCli(['operator', 'init', '--key-shares', '5', '--key-threshold', '3', '--data-dir', dataDir], ROOT_ENV);
    assert.equal(init.code, 0, init.stderr);
    shares = sharesOf(init);
  });
  after(() => killAll());

  it('init prints 5 numbered shares once, writes no root key, and a second init on the deployment is refused', async () => {
    assert.equal(shares.length, 5);
    shares.forEach((s, i) => assert.match(s, new RegExp(`^srs1-[0-9a-f]{12}-${i + 1}-`)));
    assert.ok(!existsSync(join(dataDir, 'root-of-trust.key')));
    // Nothing of the root is on disk: no share (nor the share's bytes) in any file of the data dir.
    const db = readFileSync(join(dataDir, 'strongroom.db'));
    for (const s of shares) assert.equal(db.includes(Buffer.from(shareBody(s), 'base64url').subarray(0, 32)), false);
    const again = await runCli(['operator', 'init', '--key-shares', '3', '--key-threshold', '2', '--data-dir', dataDir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /initialised deployment already/);
    assert.equal(sharesOf(again).length, 0);
    const bad = await runCli(['operator', 'init', '--key-shares', '2', '--key-threshold', '3', '--data-dir', join(dataDir, '..', 'other')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--key-shares \(2\) must be at least --key-threshold \(3\)/);
  });

  it('starts sealed: health 503 sealed, KMS KMSInternalException, S3/STS/CloudTrail ServiceUnavailable, EC2 Unavailable, XKS InternalException, and nothing is written', async () => {
    proc = await spawnServe(['--data-dir', dataDir], ROOT_ENV);
    assert.match(proc.stdout(), /Sealed: serving nothing until 3 of its 5 key shares are given/);
    await assertSealedEverywhere(proc.url);
    const db = new Database(join(dataDir, 'strongroom.db'), { readonly: true });
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM audit_events').get(), { n: 0 });
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM access_keys').get(), { n: 0 });
    db.close();
  });

  it('unseal: 2 of 3 stays sealed; a duplicate, a corrupted share and a share of another set are refused; a wrong combination resets; 3 right shares unseal', async () => {
    const one = await unseal(shares[0]!, dataDir, proc.url);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /Unseal progress: 1 of 3 key shares\. Still sealed\./);
    const two = await unsealViaStdin(shares[1]!, dataDir, proc.url);
    assert.equal(two.code, 0, two.stderr);
    assert.match(two.stdout, /Unseal progress: 2 of 3 key shares\. Still sealed\./);
    await assertSealedEverywhere(proc.url);
    const dup = await unseal(shares[1]!, dataDir, proc.url);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /key share 2 was given already \(2 of 3\)/);
    const corrupted = shares[2]!.slice(0, 30) + (shares[2]![30] === 'A' ? 'B' : 'A') + shares[2]!.slice(31);
    const c = await operatorCall(proc.url, dataDir, 'unseal', corrupted);
    assert.equal(c.status, 400);
    assert.match(c.body.error!, /corrupted/);
    assert.ok(!c.body.error!.includes(shareBody(shares[2]!)), 'the error does not quote the share');
    const foreign = await operatorCall(proc.url, dataDir, 'unseal', (await splitRootKey(SecretBytes.adopt(randomBytes(32)), { setId: 'ffffffffffff', shares: 3, threshold: 2 }))[0]!);
    assert.equal(foreign.status, 400);
    assert.match(foreign.body.error!, /belongs to another set/);
    // The third share, altered but well formed: the rebuilt key does not open the keyring.
    const wrong = await unseal(altered(shares[2]!), dataDir, proc.url);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /do not rebuild this deployment's root key .*progress is reset to 0 of 3/);
    await assertSealedEverywhere(proc.url);
    const status = await runCli(['operator', 'seal-status', '--data-dir', dataDir, '--endpoint-url', proc.url]);
    assert.match(status.stdout, /Sealed: 0 of 3 key shares given/);
    for (const i of [4, 0]) assert.deepEqual((await operatorCall(proc.url, dataDir, 'unseal', shares[i]!)).body.sealed, true);
    const last = await unseal(shares[2]!, dataDir, proc.url);
    assert.equal(last.code, 0, last.stderr);
    assert.match(last.stdout, /Unsealed \(3 of 5 key shares\)/);
    assert.deepEqual(await health(proc.url), { status: 200, body: { status: 'ok' } });
    const kms = new KMSClient(clientOptions(proc.url));
    keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    ciphertext = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('sealed start') }))).CiphertextBlob!;
    kms.destroy();
    const sts = new STSClient(clientOptions(proc.url));
    assert.equal((await sts.send(new GetCallerIdentityCommand({}))).Account, '111122223333');
    sts.destroy();
    const again = await operatorCall(proc.url, dataDir, 'unseal', shares[3]!);
    assert.equal(again.status, 400);
    assert.match(again.body.error!, /already unsealed/);
  });

  it('after a restart the server is sealed again (NBD refuses connections); any other 3 shares unseal it, NBD serves and earlier ciphertext decrypts', async () => {
    assert.equal(await proc.terminate(), 0);
    nbdPort = await freePort();
    proc = await spawnServe(['--data-dir', dataDir, '--nbd-listen', String(nbdPort)], ROOT_ENV);
    // The banner says where NBD will listen, though it starts only at the unseal.
    assert.ok(proc.stdout().includes(`NBD: attached volumes exported on nbd://127.0.0.1:${nbdPort}/<volume-id> once unsealed\n`), proc.stdout());
    await assertSealedEverywhere(proc.url);
    assert.equal(await nbdGreeting(nbdPort), 'ECONNREFUSED');
    for (const i of [1, 3, 4]) assert.equal((await operatorCall(proc.url, dataDir, 'unseal', shares[i]!)).status, 200);
    assert.equal(await nbdGreeting(nbdPort), 'NBDMAGIC');
    const kms = new KMSClient(clientOptions(proc.url));
    const d = await kms.send(new DecryptCommand({ CiphertextBlob: ciphertext }));
    assert.equal(Buffer.from(d.Plaintext!).toString(), 'sealed start');
    kms.destroy();
  });

  it('operator seal: the server answers sealed again, Decrypt fails and NBD refuses, until it is unsealed again', async () => {
    const kms = new KMSClient(clientOptions(proc.url));
    const sealed = await runCli(['operator', 'seal', '--data-dir', dataDir, '--endpoint-url', proc.url]);
    assert.equal(sealed.code, 0, sealed.stderr);
    assert.match(sealed.stdout, /^Sealed\./);
    const e = await kms.send(new DecryptCommand({ CiphertextBlob: ciphertext })).then(() => undefined, (err: Error) => err);
    assert.equal(e?.name, 'KMSInternalException');
    await assertSealedEverywhere(proc.url);
    assert.equal(await nbdGreeting(nbdPort), 'ECONNREFUSED');
    for (const i of [0, 2, 4]) assert.equal((await operatorCall(proc.url, dataDir, 'unseal', shares[i]!)).status, 200);
    const d = await kms.send(new DecryptCommand({ CiphertextBlob: ciphertext }));
    assert.equal(Buffer.from(d.Plaintext!).toString(), 'sealed start');
    kms.destroy();
  });

  it('the operator endpoints refuse a caller without the operator token, and one that is not on loopback', async () => {
    const noToken = await fetch(`${proc.url}/_strongroom/operator/seal`, { method: 'POST' });
    assert.equal(noToken.status, 403);
    const wrongToken = await fetch(`${proc.url}/_strongroom/operator/seal`, { method: 'POST', headers: { 'x-strongroom-operator-token': 'x'.repeat(43) } });
    assert.equal(wrongToken.status, 403);
    const token = readFileSync(join(dataDir, 'operator-token'), 'utf8').trim();
    const forwarded = await fetch(`${proc.url}/_strongroom/operator/seal`, { method: 'POST', headers: { 'x-strongroom-operator-token': token, 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(forwarded.status, 403);
    assert.deepEqual(await health(proc.url), { status: 200, body: { status: 'ok' } });
    // A server listening on every interface, asked from this machine's non-loopback address, with the right token.
    const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (external === undefined) return;
    assert.equal(await proc.terminate(), 0);
    proc = await spawnServe(['--data-dir', dataDir, '--host', '0.0.0.0'], ROOT_ENV);
    const port = new URL(proc.url).port;
    const res = await fetch(`http://${external}:${port}/_strongroom/operator/unseal`, { method: 'POST', headers: { 'x-strongroom-operator-token': token }, body: shares[0]! });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { error: string }).error, /only on the loopback interface/);
    assert.deepEqual((await operatorCall(`http://127.0.0.1:${port}`, dataDir, 'seal-status')).body.progress, 0);
  });

  it('with 2 workers, shares given to whichever worker unseal every worker (and seal seals every one)', async () => {
    await proc.terminate();
    const workersNbdPort = await freePort();
    proc = await spawnServe(['--data-dir', dataDir, '--nbd-listen', String(workersNbdPort)], { ...ROOT_ENV, STRONGROOM_WORKERS: '2' });
    // With workers too (before, no NBD line at all until a restart unsealed).
    assert.ok(proc.stdout().includes(`NBD: attached volumes exported on nbd://127.0.0.1:${workersNbdPort}/<volume-id> once unsealed\n`), proc.stdout());
    for (const i of [0, 1]) assert.equal((await operatorCall(proc.url, dataDir, 'unseal', shares[i]!)).body.sealed, true);
    assert.equal((await operatorCall(proc.url, dataDir, 'unseal', shares[2]!)).body.sealed, false);
    // New connections are handed out round-robin: every one of 8 reaches an unsealed worker.
    for (let i = 0; i < 8; i++) assert.deepEqual(await health(proc.url), { status: 200, body: { status: 'ok' } });
    assert.equal((await operatorCall(proc.url, dataDir, 'seal')).body.sealed, true);
    for (let i = 0; i < 8; i++) assert.deepEqual(await health(proc.url), { status: 503, body: { status: 'sealed' } });
    assert.equal(await proc.terminate(), 0);
  });
});

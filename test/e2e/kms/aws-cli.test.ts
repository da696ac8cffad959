// The README tour, driven by the real aws CLI (v2 from Debian at /usr/bin/aws and v1 from pip on PATH) against a
// real in-process Strongroom server. Every call goes through the CLI's own botocore: its model, its SigV4 signer,
// its JSON 1.1 serializer and its error parser.
//
// A missing CLI skips its suite on a developer machine; with CI set it is a failure.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { TEST_ACCOUNT, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

interface CliSpec {
  /** Suite name. */
  readonly label: string;
  /** What to exec: an absolute path, or a bare name looked up on PATH. */
  readonly bin: string;
  readonly major: 1 | 2;
  /** Exit status the CLI uses when the service answered with an error. */
  readonly serviceErrorExit: number;
}

const CLIS: readonly CliSpec[] = [
  { label: 'aws CLI v2 (/usr/bin/aws)', bin: '/usr/bin/aws', major: 2, serviceErrorExit: 254 },
  { label: 'aws CLI v1 (aws on PATH)', bin: 'aws', major: 1, serviceErrorExit: 255 },
];

const cliEnv = awsClientEnv;

/** Why `cli` cannot be used here, or undefined when `<bin> --version` reports the expected major version. */
function unavailable(cli: CliSpec): string | undefined {
  const res = spawnSync(cli.bin, ['--version'], { env: cliEnv(), encoding: 'utf8', timeout: 30_000 });
  if (res.error) return `${cli.bin} cannot be run (${(res.error as NodeJS.ErrnoException).code ?? res.error.message})`;
  const out = `${res.stdout}${res.stderr}`.trim();
  const m = /^aws-cli\/(\d+)\./.exec(out);
  if (res.status !== 0 || !m) return `${cli.bin} --version exited ${res.status} with ${JSON.stringify(out.slice(0, 200))}`;
  if (Number(m[1]) !== cli.major) return `${cli.bin} is ${out.split(' ')[0]}, not aws CLI v${cli.major}`;
  return undefined;
}

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

type Json = Record<string, unknown>;

/** Epoch milliseconds of a CLI timestamp: v2 prints ISO 8601, v1 prints the wire's epoch seconds. */
function epochMs(v: unknown): number {
  if (typeof v === 'number') return v * 1000;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    assert.ok(!Number.isNaN(t), `unparseable timestamp ${v}`);
    return t;
  }
  return assert.fail(`expected a timestamp, got ${JSON.stringify(v)}`);
}

const DAY_MS = 86_400_000;

function assertNear(actualMs: number, expectedMs: number, slackMs: number, what: string): void {
  assert.ok(Math.abs(actualMs - expectedMs) <= slackMs, `${what}: ${new Date(actualMs).toISOString()} is not within ${slackMs} ms of ${new Date(expectedMs).toISOString()}`);
}

function scenario(cli: CliSpec): void {
  let server: TestServer;
  let dir: string;
  let keyId: string;
  let keyArn: string;
  let rotationPeriodFlag = false;
  const secret = Buffer.concat([Buffer.from('payroll 2026: alice=100000 bob=90000\n'), randomBytes(64)]);

  /** Runs the CLI in the scenario's directory with `--endpoint-url` and `--output json`; never rejects on a non-zero exit. */
  const run = (...args: string[]): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      execFile(
        cli.bin,
        [...args, '--endpoint-url', server.url, '--output', 'json'],
        { cwd: dir, env: cliEnv(), timeout: 30_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (err && typeof err.code !== 'number') return reject(new Error(`${cli.bin} ${args.join(' ')} did not run: ${err.message}\n${stderr}`));
          resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
        },
      );
    });

  /** Runs the CLI, asserts it succeeded, and parses its JSON output (`{}` for commands that print nothing). */
  const ok = async (...args: string[]): Promise<Json> => {
    const res = await run(...args);
    assert.equal(res.code, 0, `aws ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
    return res.stdout.trim() === '' ? {} : (JSON.parse(res.stdout) as Json);
  };

  /** Runs the CLI and asserts it failed the way the CLI reports a service error with `code`. */
  const fails = async (code: string, operation: string, ...args: string[]): Promise<CliResult> => {
    const res = await run(...args);
    assert.equal(res.code, cli.serviceErrorExit, `aws ${args.join(' ')}: expected exit ${cli.serviceErrorExit}, got ${res.code}; stdout=${res.stdout} stderr=${res.stderr}`);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, new RegExp(`An error occurred \\(${code}\\) when calling the ${operation} operation`));
    return res;
  };

  before(async () => {
    server = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-'));
    writeFileSync(join(dir, 'secret.txt'), secret);
    // aws CLI 2.9 predates RotationPeriodInDays; the input skeleton says whether this CLI's model knows it.
    const skeleton = await ok('kms', 'enable-key-rotation', '--generate-cli-skeleton', 'input');
    rotationPeriodFlag = 'RotationPeriodInDays' in skeleton;
  });
  after(async () => {
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('create-key --description payroll returns the metadata of an enabled symmetric customer managed key', async () => {
    const out = await ok('kms', 'create-key', '--description', 'payroll');
    const md = out.KeyMetadata as Json;
    keyId = md.KeyId as string;
    keyArn = md.Arn as string;
    assert.match(keyId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(keyArn, `arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/${keyId}`);
    assert.equal(md.AWSAccountId, TEST_ACCOUNT);
    assert.equal(md.Description, 'payroll');
    assert.equal(md.Enabled, true);
    assert.equal(md.KeyState, 'Enabled');
    assert.equal(md.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.equal(md.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(md.CustomerMasterKeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(md.Origin, 'AWS_KMS');
    assert.equal(md.KeyManager, 'CUSTOMER');
    assert.equal(md.MultiRegion, false);
    assert.deepEqual(md.EncryptionAlgorithms, ['SYMMETRIC_DEFAULT']);
    assert.equal(md.DeletionDate, undefined);
    assertNear(epochMs(md.CreationDate), Date.now(), 5 * 60_000, 'CreationDate');
  });

  it('create-alias names the key alias/payroll and prints nothing', async () => {
    const res = await run('kms', 'create-alias', '--alias-name', 'alias/payroll', '--target-key-id', keyId);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), '');
  });

  let ciphertext: Buffer;

  it('encrypt --key-id alias/payroll --plaintext fileb://secret.txt binds dept=hr and reports the key ARN', async () => {
    const out = await ok('kms', 'encrypt', '--key-id', 'alias/payroll', '--plaintext', 'fileb://secret.txt', '--encryption-context', 'dept=hr');
    assert.equal(out.KeyId, keyArn);
    assert.equal(out.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    assert.equal(typeof out.CiphertextBlob, 'string');
    ciphertext = Buffer.from(out.CiphertextBlob as string, 'base64');
    assert.ok(ciphertext.length > secret.length, 'ciphertext is longer than the plaintext');
    assert.equal(ciphertext.indexOf(secret.subarray(0, 16)), -1, 'ciphertext does not contain the plaintext');
    writeFileSync(join(dir, 'secret.ct'), ciphertext);
  });

  it('decrypt --ciphertext-blob fileb://secret.ct with dept=hr gives back the same bytes (base64 in the JSON)', async () => {
    const out = await ok('kms', 'decrypt', '--ciphertext-blob', 'fileb://secret.ct', '--encryption-context', 'dept=hr');
    assert.deepEqual(Buffer.from(out.Plaintext as string, 'base64'), secret);
    assert.equal(out.KeyId, keyArn);
    assert.equal(out.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
  });

  it(`decrypt with a wrong or missing encryption context exits ${cli.serviceErrorExit} with InvalidCiphertextException`, async () => {
    await fails('InvalidCiphertextException', 'Decrypt', 'kms', 'decrypt', '--ciphertext-blob', 'fileb://secret.ct', '--encryption-context', 'dept=finance');
    await fails('InvalidCiphertextException', 'Decrypt', 'kms', 'decrypt', '--ciphertext-blob', 'fileb://secret.ct');
  });

  it('generate-data-key --key-spec AES_256 returns a 32-byte key whose ciphertext decrypts to the same key', async () => {
    const out = await ok('kms', 'generate-data-key', '--key-id', 'alias/payroll', '--key-spec', 'AES_256');
    assert.equal(out.KeyId, keyArn);
    const plain = Buffer.from(out.Plaintext as string, 'base64');
    assert.equal(plain.length, 32);
    writeFileSync(join(dir, 'datakey.ct'), Buffer.from(out.CiphertextBlob as string, 'base64'));
    const dec = await ok('kms', 'decrypt', '--ciphertext-blob', 'fileb://datakey.ct');
    assert.deepEqual(Buffer.from(dec.Plaintext as string, 'base64'), plain);
    assert.equal(dec.KeyId, keyArn);
  });

  it('list-keys lists every key, following NextMarker when the CLI pages with --page-size 1', async () => {
    const extra = [await ok('kms', 'create-key'), await ok('kms', 'create-key')].map((o) => (o.KeyMetadata as Json).KeyId as string);
    const expected = [keyId, ...extra].map((id) => ({ KeyId: id, KeyArn: `arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/${id}` }));
    const byId = (a: { KeyId: string }, b: { KeyId: string }) => a.KeyId.localeCompare(b.KeyId);
    const all = await ok('kms', 'list-keys');
    assert.deepEqual([...(all.Keys as { KeyId: string }[])].sort(byId), [...expected].sort(byId));
    // The CLI's paginator sends Limit=1 and re-sends each NextMarker until Truncated is false, then merges the pages.
    const paged = await ok('kms', 'list-keys', '--page-size', '1');
    assert.deepEqual([...(paged.Keys as { KeyId: string }[])].sort(byId), [...expected].sort(byId));
    assert.equal(paged.NextMarker, undefined);
    // Without the paginator the raw page shows the marker.
    const first = await ok('kms', 'list-keys', '--no-paginate', '--limit', '2');
    assert.equal((first.Keys as unknown[]).length, 2);
    assert.equal(first.Truncated, true);
    assert.equal(typeof first.NextMarker, 'string');
  });

  it('list-aliases shows alias/payroll with its ARN and target key', async () => {
    const out = await ok('kms', 'list-aliases');
    const aliases = out.Aliases as Json[];
    const payroll = aliases.filter((a) => a.AliasName === 'alias/payroll');
    assert.equal(payroll.length, 1, JSON.stringify(aliases));
    const a = payroll[0]!;
    assert.equal(a.AliasArn, `arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:alias/payroll`);
    assert.equal(a.TargetKeyId, keyId);
    assertNear(epochMs(a.CreationDate), Date.now(), 5 * 60_000, 'alias CreationDate');
    // Only customer aliases and AWS managed ones (alias/aws/...) can be listed.
    for (const other of aliases) if (other !== a) assert.match(other.AliasName as string, /^alias\/aws\//);
  });

  it('describe-key --key-id alias/payroll resolves the alias to the key', async () => {
    const out = await ok('kms', 'describe-key', '--key-id', 'alias/payroll');
    const md = out.KeyMetadata as Json;
    assert.equal(md.KeyId, keyId);
    assert.equal(md.Arn, keyArn);
    assert.equal(md.Description, 'payroll');
    assert.equal(md.KeyState, 'Enabled');
    assert.equal(md.Enabled, true);
  });

  it('enable-key-rotation (with --rotation-period-in-days 90 where the CLI knows it) shows in get-key-rotation-status', async () => {
    const before = await ok('kms', 'get-key-rotation-status', '--key-id', keyId);
    assert.equal(before.KeyRotationEnabled, false);
    const enableArgs = ['kms', 'enable-key-rotation', '--key-id', keyId, ...(rotationPeriodFlag ? ['--rotation-period-in-days', '90'] : [])];
    assert.deepEqual(await ok(...enableArgs), {});
    const status = await ok('kms', 'get-key-rotation-status', '--key-id', keyId);
    assert.equal(status.KeyRotationEnabled, true);
    if (rotationPeriodFlag) {
      // A CLI whose model knows RotationPeriodInDays also knows the other newer output members.
      assert.equal(status.KeyId, keyArn);
      assert.equal(status.RotationPeriodInDays, 90);
      assertNear(epochMs(status.NextRotationDate), Date.now() + 90 * DAY_MS, DAY_MS, 'NextRotationDate');
    } else {
      assert.equal(cli.major, 2, 'only the old v2 CLI lacks --rotation-period-in-days');
    }
  });

  it('schedule-key-deletion --pending-window-in-days 7 puts the key in PendingDeletion; encrypt is then refused', async () => {
    const out = await ok('kms', 'schedule-key-deletion', '--key-id', keyId, '--pending-window-in-days', '7');
    assert.equal(out.KeyId, keyArn);
    assert.equal(out.KeyState, 'PendingDeletion');
    assert.equal(out.PendingWindowInDays, 7);
    const deletionMs = epochMs(out.DeletionDate);
    assertNear(deletionMs, Date.now() + 7 * DAY_MS, DAY_MS, 'DeletionDate');
    const md = (await ok('kms', 'describe-key', '--key-id', keyId)).KeyMetadata as Json;
    assert.equal(md.KeyState, 'PendingDeletion');
    assert.equal(md.Enabled, false);
    assert.equal(epochMs(md.DeletionDate), deletionMs);
    await fails('KMSInvalidStateException', 'Encrypt', 'kms', 'encrypt', '--key-id', 'alias/payroll', '--plaintext', 'fileb://secret.txt');
  });

  it('cancel-key-deletion leaves the key Disabled without a deletion date', async () => {
    const out = await ok('kms', 'cancel-key-deletion', '--key-id', keyId);
    assert.equal(out.KeyId, keyArn);
    const md = (await ok('kms', 'describe-key', '--key-id', keyId)).KeyMetadata as Json;
    assert.equal(md.KeyState, 'Disabled');
    assert.equal(md.Enabled, false);
    assert.equal(md.DeletionDate, undefined);
    assert.equal(md.PendingDeletionWindowInDays, undefined);
  });

  it('tag-resource with shorthand TagKey=,TagValue= pairs shows up in list-resource-tags', async () => {
    assert.deepEqual(await ok('kms', 'tag-resource', '--key-id', keyId, '--tags', 'TagKey=team,TagValue=finance', 'TagKey=env,TagValue=prod'), {});
    const out = await ok('kms', 'list-resource-tags', '--key-id', keyId);
    const tags = [...(out.Tags as { TagKey: string; TagValue: string }[])].sort((a, b) => a.TagKey.localeCompare(b.TagKey));
    assert.deepEqual(tags, [{ TagKey: 'env', TagValue: 'prod' }, { TagKey: 'team', TagValue: 'finance' }]);
  });

  it('get-key-policy --policy-name default returns the default key policy that delegates to IAM', async () => {
    const out = await ok('kms', 'get-key-policy', '--key-id', keyId, '--policy-name', 'default');
    assert.equal(typeof out.Policy, 'string');
    const policy = JSON.parse(out.Policy as string) as { Version: string; Statement: Json[] };
    assert.equal(policy.Version, '2012-10-17');
    assert.equal(policy.Statement.length, 1);
    assert.deepEqual(policy.Statement[0], {
      Sid: 'Enable IAM User Permissions',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` },
      Action: 'kms:*',
      Resource: '*',
    });
    if ('PolicyName' in out) assert.equal(out.PolicyName, 'default');
  });

  it(`describe-key --key-id alias/nope exits ${cli.serviceErrorExit} with NotFoundException naming the alias`, async () => {
    const res = await fails('NotFoundException', 'DescribeKey', 'kms', 'describe-key', '--key-id', 'alias/nope');
    assert.match(res.stderr, /alias\/nope/);
  });
}

const probes = CLIS.map((cli) => ({ cli, problem: unavailable(cli) }));

describe('KMS README tour with the aws CLI', { concurrency: true }, () => {
  for (const { cli, problem } of probes) {
    if (problem === undefined) {
      describe(cli.label, { concurrency: 1 }, () => scenario(cli));
    } else if (!process.env.CI) {
      describe(cli.label, () => {
        it('runs the README tour', { skip: `${problem}; skipped because CI is not set` }, () => {});
      });
    } else {
      describe(cli.label, () => {
        it('is installed (CI is set, so a missing CLI is a failure)', () => {
          assert.fail(problem);
        });
      });
    }
  }
});

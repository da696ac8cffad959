// IAM and STS driven by the real aws CLI v2 (Debian's /usr/bin/aws) against a real in-process Strongroom server:
// the CLI's own botocore model, Query serializer, XML parser, policy-document decoding and error reporting.
//
// A missing CLI skips the suite on a developer machine; with CI set it is a failure.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { TEST_ACCOUNT, TestServer, startServer } from '../../helpers/server.js';

const CLI = '/usr/bin/aws';
const SERVICE_ERROR_EXIT = 254;

type Json = Record<string, any>;

function unavailable(): string | undefined {
  const res = spawnSync(CLI, ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
  if (res.error) return `${CLI} cannot be run (${(res.error as NodeJS.ErrnoException).code ?? res.error.message})`;
  const out = `${res.stdout}${res.stderr}`.trim();
  if (res.status !== 0 || !/^aws-cli\/2\./.test(out)) return `${CLI} --version answered ${JSON.stringify(out.slice(0, 200))}, not aws CLI v2`;
  return undefined;
}

function scenario(): void {
  let server: TestServer;
  let dir: string;
  const userPolicy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }] };

  /** Runs the CLI with `--endpoint-url` and JSON output, as the root user unless `env` says otherwise. */
  const run = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      execFile(CLI, [...args, '--endpoint-url', server.url, '--output', 'json'], { cwd: dir, env: { ...awsClientEnv(), ...env }, timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(new Error(`aws ${args.join(' ')} did not run: ${err.message}`));
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      });
    });
  const ok = async (args: string[], env?: NodeJS.ProcessEnv): Promise<Json> => {
    const res = await run(args, env);
    assert.equal(res.code, 0, `aws ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
    return res.stdout.trim() === '' ? {} : (JSON.parse(res.stdout) as Json);
  };
  const as = (c: Json): NodeJS.ProcessEnv => ({
    AWS_ACCESS_KEY_ID: c.AccessKeyId,
    AWS_SECRET_ACCESS_KEY: c.SecretAccessKey,
    ...(c.SessionToken ? { AWS_SESSION_TOKEN: c.SessionToken } : {}),
  });

  let userKeys: Json;

  before(async () => {
    server = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-iam-cli-'));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(userPolicy));
    writeFileSync(
      join(dir, 'trust.json'),
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:user/cli/carla` }, Action: 'sts:AssumeRole' }] }),
    );
  });
  after(async () => {
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('iam create-user, create-access-key, list-users', async () => {
    const { User } = await ok(['iam', 'create-user', '--user-name', 'carla', '--path', '/cli/']);
    assert.equal(User.Arn, `arn:aws:iam::${TEST_ACCOUNT}:user/cli/carla`);
    assert.match(User.UserId, /^AIDA/);
    userKeys = (await ok(['iam', 'create-access-key', '--user-name', 'carla'])).AccessKey;
    assert.match(userKeys.AccessKeyId, /^AKIA/);
    const listed = await ok(['iam', 'list-users', '--path-prefix', '/cli/']);
    assert.deepEqual(listed.Users.map((u: Json) => u.UserName), ['carla']);
  });

  it('iam put-user-policy from a file; get-user-policy prints the document decoded, as with AWS', async () => {
    await ok(['iam', 'put-user-policy', '--user-name', 'carla', '--policy-name', 'kms', '--policy-document', 'file://policy.json']);
    const got = await ok(['iam', 'get-user-policy', '--user-name', 'carla', '--policy-name', 'kms']);
    assert.deepEqual(got.PolicyDocument, userPolicy);
  });

  it(`iam get-user of an unknown user exits ${SERVICE_ERROR_EXIT} with NoSuchEntity`, async () => {
    const res = await run(['iam', 'get-user', '--user-name', 'ghost']);
    assert.equal(res.code, SERVICE_ERROR_EXIT);
    assert.match(res.stderr, /An error occurred \(NoSuchEntity\) when calling the GetUser operation: The user with name ghost cannot be found\./);
  });

  it('the new user\'s key works with the CLI: sts get-caller-identity, kms list-keys', async () => {
    assert.equal((await ok(['sts', 'get-caller-identity'], as(userKeys))).Arn, `arn:aws:iam::${TEST_ACCOUNT}:user/cli/carla`);
    assert.ok(Array.isArray((await ok(['kms', 'list-keys'], as(userKeys))).Keys));
  });

  it('iam create-role; sts assume-role as the trusted user; the session works with sts and kms', async () => {
    const { Role } = await ok(['iam', 'create-role', '--role-name', 'CliRole', '--assume-role-policy-document', 'file://trust.json']);
    assert.equal(Role.AssumeRolePolicyDocument.Statement[0].Principal.AWS, `arn:aws:iam::${TEST_ACCOUNT}:user/cli/carla`);
    await ok(['iam', 'put-role-policy', '--role-name', 'CliRole', '--policy-name', 'kms', '--policy-document', 'file://policy.json']);
    const assumed = await ok(['sts', 'assume-role', '--role-arn', Role.Arn, '--role-session-name', 'cli-session', '--duration-seconds', '900'], as(userKeys));
    assert.match(assumed.Credentials.AccessKeyId, /^ASIA/);
    assert.equal(assumed.AssumedRoleUser.Arn, `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/CliRole/cli-session`);
    const session = as(assumed.Credentials);
    assert.equal((await ok(['sts', 'get-caller-identity'], session)).Arn, assumed.AssumedRoleUser.Arn);
    assert.ok(Array.isArray((await ok(['kms', 'list-keys'], session)).Keys));
    const denied = await run(['iam', 'list-users'], session);
    assert.equal(denied.code, SERVICE_ERROR_EXIT);
    assert.match(denied.stderr, /An error occurred \(AccessDenied\) when calling the ListUsers operation: User: arn:aws:sts::\d{12}:assumed-role\/CliRole\/cli-session is not authorized/);
  });

  it('sts assume-role as the root user exits with AccessDenied: roles may not be assumed by root accounts', async () => {
    const res = await run(['sts', 'assume-role', '--role-arn', `arn:aws:iam::${TEST_ACCOUNT}:role/CliRole`, '--role-session-name', 'root-try']);
    assert.equal(res.code, SERVICE_ERROR_EXIT);
    assert.match(res.stderr, /\(AccessDenied\) when calling the AssumeRole operation: Roles may not be assumed by root accounts\./);
  });
}

const problem = unavailable();

describe('IAM and STS with the aws CLI v2', () => {
  if (problem === undefined) {
    describe(CLI, { concurrency: 1 }, () => scenario());
  } else if (!process.env.CI) {
    it('runs the IAM/STS flows', { skip: `${problem}; skipped because CI is not set` }, () => {});
  } else {
    it('is installed (CI is set, so a missing CLI is a failure)', () => {
      assert.fail(problem);
    });
  }
});

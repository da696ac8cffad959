import { CreateAccessKeyCommand, CreateUserCommand, DeleteUserPolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, HeadObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { Clients, allow, deny, policyDocument } from '../../helpers/query-clients.js';
import { TestServer, startServer } from '../../helpers/server.js';

const run = promisify(execFile);
const BIN = new URL('../../../../bin/strongroom.js', import.meta.url).pathname;

/** `strongroom s3 encrypt`: existing objects re-encrypted in place through the S3 API, resumable. */
describe('strongroom s3 encrypt', () => {
  let server: TestServer;
  let s3: S3Client;
  let clients: Clients;
  const keys = ['a/1', 'a/2', 'b/1', 'c/1', 'c/2', 'd/1'];
  before(async () => {
    server = await startServer();
    s3 = server.s3();
    clients = new Clients(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'legacy' }));
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: 'legacy', Key: k, Body: `body of ${k}`, Metadata: { origin: k } }));
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  async function encrypt(env: NodeJS.ProcessEnv, stateFile: string, ...extra: string[]) {
    return run(process.execPath, [BIN, 's3', 'encrypt', '--bucket', 'legacy', '--sse', 'aws:kms', '--endpoint-url', server.url, '--state-file', stateFile, ...extra], { env }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  }

  it('stops where it is refused, keeps its place, and a second run finishes the rest; bytes and metadata stay', async () => {
    // An operator whose policy (for now) refuses to write under c/: the first run stops there.
    const iam = clients.iam();
    await iam.send(new CreateUserCommand({ UserName: 'operator' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'operator', PolicyName: 'ops', PolicyDocument: policyDocument(allow(['s3:*', 'kms:*'])) }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'operator', PolicyName: 'not-c', PolicyDocument: policyDocument(deny('s3:PutObject', 'arn:aws:s3:::legacy/c/*')) }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'operator' }));
    const env = { ...awsClientEnv(), AWS_ACCESS_KEY_ID: AccessKey!.AccessKeyId!, AWS_SECRET_ACCESS_KEY: AccessKey!.SecretAccessKey! };
    const stateFile = join(mkdtempSync(join(tmpdir(), 'sr-encrypt-')), 'state.json');

    const first = await encrypt(env, stateFile);
    assert.equal(first.code, 1, first.stdout + first.stderr);
    assert.match(first.stderr, /stopped after 'b\/1': AccessDenied/);
    assert.ok(existsSync(stateFile));
    for (const k of ['a/1', 'a/2', 'b/1']) assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'legacy', Key: k }))).ServerSideEncryption, 'aws:kms');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'legacy', Key: 'c/1' }))).ServerSideEncryption, 'AES256');

    await iam.send(new DeleteUserPolicyCommand({ UserName: 'operator', PolicyName: 'not-c' }));
    const second = await encrypt(env, stateFile);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /continuing after 'b\/1'/);
    // The summary covers the whole job, both runs.
    assert.match(second.stdout, /6 re-encrypted with aws:kms, 0 already were, 0 skipped/);
    assert.ok(!existsSync(stateFile));
    for (const k of keys) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'legacy', Key: k }));
      assert.equal(got.ServerSideEncryption, 'aws:kms');
      assert.equal(await got.Body!.transformToString(), `body of ${k}`);
      assert.equal(got.Metadata?.origin, k);
    }

    const third = await encrypt(env, stateFile, '--prefix', 'a/');
    assert.equal(third.code, 0);
    assert.match(third.stdout, /s3:\/\/legacy\/a\/: 0 re-encrypted with aws:kms, 2 already were/);
  });
});

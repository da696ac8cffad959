// KMS end to end on PostgreSQL (issue 10's representative set): @aws-sdk/client-kms against a server whose
// keys, aliases, materials, grants and policies live in PostgreSQL, plus the aws CLI for a round trip.
import {
  CreateAliasCommand, CreateGrantCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand,
  EncryptCommand, GenerateDataKeyCommand, GetKeyPolicyCommand, ListAliasesCommand, ListGrantsCommand, PutKeyPolicyCommand, RevokeGrantCommand,
  ScheduleKeyDeletionCommand, CancelKeyDeletionCommand, UpdateAliasCommand, DeleteAliasCommand,
} from '@aws-sdk/client-kms';
import { CreateAccessKeyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { postgresSkip } from '../../helpers/postgres.js';
import { Clients, Credentials } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, rejection } from '../../helpers/server.js';
import { startPostgresServer } from './pg-server.js';

const ROOT = `arn:aws:iam::${TEST_ACCOUNT}:root`;

describe('KMS on PostgreSQL', { skip: postgresSkip() }, () => {
  let server: TestServer;
  let clients: Clients;
  before(async () => {
    server = await startPostgresServer();
    clients = new Clients(server);
  });
  after(async () => {
    clients.destroy();
    await server?.destroy();
  });
  const kms = (c?: Credentials) => clients.kms(c);
  const newKey = async () => (await kms().send(new CreateKeyCommand({ Description: 'pg' }))).KeyMetadata!;
  const userCredentials = async (name: string): Promise<Credentials> => {
    await clients.iam().send(new CreateUserCommand({ UserName: name }));
    const { AccessKey } = await clients.iam().send(new CreateAccessKeyCommand({ UserName: name }));
    return { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
  };

  it('CreateKey, Encrypt, Decrypt and GenerateDataKey round trip; DescribeKey reads the key back', async () => {
    const key = await newKey();
    assert.equal(key.KeyState, 'Enabled');
    const ctx = { purpose: 'pg-e2e' };
    const { CiphertextBlob } = await kms().send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('over postgres'), EncryptionContext: ctx }));
    const dec = await kms().send(new DecryptCommand({ CiphertextBlob, EncryptionContext: ctx }));
    assert.equal(Buffer.from(dec.Plaintext!).toString(), 'over postgres');
    assert.equal(dec.KeyId, key.Arn);
    assert.equal((await rejection(kms().send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { purpose: 'other' } })))).name, 'InvalidCiphertextException');
    const dk = await kms().send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' }));
    assert.equal(dk.Plaintext!.length, 32);
    const again = await kms().send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
    assert.deepEqual(Buffer.from(again.Plaintext!), Buffer.from(dk.Plaintext!));
    assert.equal((await kms().send(new DescribeKeyCommand({ KeyId: key.Arn }))).KeyMetadata!.Description, 'pg');
  });

  it('aliases: CreateAlias, use by alias, UpdateAlias moves it, ListAliases shows it, DeleteAlias removes it; a duplicate is AlreadyExistsException', async () => {
    const [a, b] = [await newKey(), await newKey()];
    await kms().send(new CreateAliasCommand({ AliasName: 'alias/pg-app', TargetKeyId: a.KeyId }));
    assert.equal((await rejection(kms().send(new CreateAliasCommand({ AliasName: 'alias/pg-app', TargetKeyId: b.KeyId })))).name, 'AlreadyExistsException');
    const enc = await kms().send(new EncryptCommand({ KeyId: 'alias/pg-app', Plaintext: Buffer.from('x') }));
    assert.equal(enc.KeyId, a.Arn);
    await kms().send(new UpdateAliasCommand({ AliasName: 'alias/pg-app', TargetKeyId: b.KeyId }));
    assert.equal((await kms().send(new EncryptCommand({ KeyId: 'alias/pg-app', Plaintext: Buffer.from('x') }))).KeyId, b.Arn);
    const listed = (await kms().send(new ListAliasesCommand({ KeyId: b.KeyId }))).Aliases!.map((x) => x.AliasName);
    assert.deepEqual(listed, ['alias/pg-app']);
    await kms().send(new DeleteAliasCommand({ AliasName: 'alias/pg-app' }));
    assert.equal((await rejection(kms().send(new EncryptCommand({ KeyId: 'alias/pg-app', Plaintext: Buffer.from('x') })))).name, 'NotFoundException');
  });

  it('DisableKey: Encrypt and Decrypt get DisabledException at once; EnableKey restores them', async () => {
    const key = await newKey();
    const { CiphertextBlob } = await kms().send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    await kms().send(new DisableKeyCommand({ KeyId: key.KeyId }));
    assert.equal((await rejection(kms().send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })))).name, 'DisabledException');
    assert.equal((await rejection(kms().send(new DecryptCommand({ CiphertextBlob })))).name, 'DisabledException');
    await kms().send(new EnableKeyCommand({ KeyId: key.KeyId }));
    assert.equal(Buffer.from((await kms().send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString(), 'x');
  });

  it('grants let a user with no IAM permission use the key, only for the granted operations; RevokeGrant takes it back', async () => {
    const key = await newKey();
    const alice = await userCredentials('pg-alice');
    const aliceArn = `arn:aws:iam::${TEST_ACCOUNT}:user/pg-alice`;
    assert.equal((await rejection(kms(alice).send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('x') })))).name, 'AccessDeniedException');
    const { GrantId } = await kms().send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: aliceArn, Operations: ['Encrypt'] }));
    assert.deepEqual((await kms().send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants!.map((g) => g.GrantId), [GrantId]);
    await kms(alice).send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('x') }));
    const { CiphertextBlob } = await kms().send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    assert.equal((await rejection(kms(alice).send(new DecryptCommand({ CiphertextBlob })))).name, 'AccessDeniedException');
    await kms().send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId }));
    assert.equal((await rejection(kms(alice).send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('x') })))).name, 'AccessDeniedException');
  });

  it('a key policy naming a user lets that user in; replacing it shuts the user out; GetKeyPolicy returns what was put', async () => {
    const key = await newKey();
    const bob = await userCredentials('pg-bob');
    const policy = (extra: Record<string, unknown>[]) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'root', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' }, ...extra] });
    const withBob = policy([{ Sid: 'bob', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:user/pg-bob` }, Action: 'kms:Encrypt', Resource: '*' }]);
    await kms().send(new PutKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'default', Policy: withBob }));
    assert.equal((await kms().send(new GetKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'default' }))).Policy, withBob);
    await kms(bob).send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('x') }));
    await kms().send(new PutKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'default', Policy: policy([]) }));
    assert.equal((await rejection(kms(bob).send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('x') })))).name, 'AccessDeniedException');
  });

  it('ScheduleKeyDeletion: the key is PendingDeletion and unusable (KMSInvalidStateException); CancelKeyDeletion leaves it Disabled', async () => {
    const key = await newKey();
    const out = await kms().send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    assert.equal(out.KeyState, 'PendingDeletion');
    assert.ok(out.DeletionDate!.getTime() > Date.now() + 6 * 86_400_000);
    assert.equal((await kms().send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.KeyState, 'PendingDeletion');
    assert.equal((await rejection(kms().send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })))).name, 'KMSInvalidStateException');
    await kms().send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
    assert.equal((await kms().send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.KeyState, 'Disabled');
  });

  const cli = spawnSync('aws', ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
  const noCli = cli.error ? 'the aws CLI cannot be run' : undefined;
  if (noCli && process.env.CI) throw new Error(noCli);
  it('the aws CLI encrypts and decrypts through the same database', { skip: noCli ?? false }, async () => {
    const key = await newKey();
    const aws = (args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile('aws', ['--endpoint-url', server.url, '--output', 'json', ...args], { env: awsClientEnv(), timeout: 60_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout),
        ),
      );
    // fileb://: both CLI majors read the file's bytes as the blob (a plain string's meaning differs between them).
    const dir = mkdtempSync(join(tmpdir(), 'sr-pg-cli-'));
    try {
      writeFileSync(join(dir, 'plain'), 'cli over pg');
      const enc = JSON.parse(await aws(['kms', 'encrypt', '--key-id', key.KeyId!, '--plaintext', `fileb://${join(dir, 'plain')}`])) as { CiphertextBlob: string };
      writeFileSync(join(dir, 'ct'), Buffer.from(enc.CiphertextBlob, 'base64'));
      const dec = JSON.parse(await aws(['kms', 'decrypt', '--ciphertext-blob', `fileb://${join(dir, 'ct')}`])) as { Plaintext: string; KeyId: string };
      assert.equal(Buffer.from(dec.Plaintext, 'base64').toString(), 'cli over pg');
      assert.equal(dec.KeyId, key.Arn);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

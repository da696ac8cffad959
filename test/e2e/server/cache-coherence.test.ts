import { CreateAccessKeyCommand, CreateUserCommand, DeleteUserPolicyCommand, PutUserPolicyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { CreateGrantCommand, CreateKeyCommand, DisableKeyCommand, EncryptCommand, PutKeyPolicyCommand, RevokeGrantCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InProcessInvalidation } from '../../../src/core/cache/invalidation.js';
import { Clients, Credentials, allow, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, TestServerOptions, rejection, startServer } from '../../helpers/server.js';

/**
 * Two servers on one data dir in one process stand for two nodes on one database (issue 10): every change made
 * through A must be enforced by B. With one invalidation port shared (as PostgreSQL LISTEN/NOTIFY will connect
 * nodes), B refuses at once; with none shared, B's caches still answer from memory until their TTL, then refuse.
 * Every scenario warms B's caches first, so a cache that did not hear the change would still allow the call.
 */
interface Node {
  readonly server: TestServer;
  readonly clients: Clients;
}

interface Scenario {
  /** The call made through B: allowed before the change, refused after it. */
  readonly probe: () => Promise<unknown>;
  /** The change made through A. */
  readonly change: () => Promise<unknown>;
  /** The error B answers once it enforces the change. */
  readonly refused: string;
}

const KEY_POLICY_ROOT = (extra: Record<string, unknown>[] = []) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }, ...extra],
  });

/** The changes issue 10 names, each as a scenario between node A and node B. */
const scenarios: Record<string, (a: Node, b: Node) => Promise<Scenario>> = {
  async 'a key disabled'(a, b) {
    const { KeyMetadata } = await a.clients.kms().send(new CreateKeyCommand({}));
    const kms = b.clients.kms();
    return {
      probe: () => kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: Buffer.from('x') })),
      change: () => a.clients.kms().send(new DisableKeyCommand({ KeyId: KeyMetadata!.KeyId })),
      refused: 'DisabledException',
    };
  },

  async 'an access key deactivated'(a, b) {
    const { user, credentials } = await newUser(a, [allow('kms:Encrypt')]);
    const { KeyMetadata } = await a.clients.kms().send(new CreateKeyCommand({}));
    const kms = b.clients.kms(credentials);
    return {
      probe: () => kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: Buffer.from('x') })),
      change: () => a.clients.iam().send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: credentials.accessKeyId, Status: 'Inactive' })),
      refused: 'UnrecognizedClientException',
    };
  },

  async 'a key policy changed'(a, b) {
    const { user, credentials } = await newUser(a, [allow('kms:Encrypt')]);
    const { KeyMetadata } = await a.clients.kms().send(new CreateKeyCommand({ Policy: KEY_POLICY_ROOT() }));
    const kms = b.clients.kms(credentials);
    const userArn = `arn:aws:iam::${TEST_ACCOUNT}:user/${user}`;
    return {
      probe: () => kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: Buffer.from('x') })),
      change: () =>
        a.clients.kms().send(new PutKeyPolicyCommand({
          KeyId: KeyMetadata!.KeyId,
          PolicyName: 'default',
          Policy: KEY_POLICY_ROOT([{ Sid: 'no', Effect: 'Deny', Principal: { AWS: userArn }, Action: 'kms:Encrypt', Resource: '*' }]),
        })),
      refused: 'AccessDeniedException',
    };
  },

  async 'an IAM policy removed'(a, b) {
    const { user, credentials } = await newUser(a, [allow('kms:Encrypt')]);
    const { KeyMetadata } = await a.clients.kms().send(new CreateKeyCommand({}));
    const kms = b.clients.kms(credentials);
    return {
      probe: () => kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: Buffer.from('x') })),
      change: () => a.clients.iam().send(new DeleteUserPolicyCommand({ UserName: user, PolicyName: 'p' })),
      refused: 'AccessDeniedException',
    };
  },

  async 'a grant revoked'(a, b) {
    const { user, credentials } = await newUser(a, []);
    const kmsA = a.clients.kms();
    const { KeyMetadata } = await kmsA.send(new CreateKeyCommand({}));
    const { GrantId } = await kmsA.send(new CreateGrantCommand({
      KeyId: KeyMetadata!.KeyId, GranteePrincipal: `arn:aws:iam::${TEST_ACCOUNT}:user/${user}`, Operations: ['Encrypt'],
    }));
    const kms = b.clients.kms(credentials);
    return {
      probe: () => kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: Buffer.from('x') })),
      change: () => kmsA.send(new RevokeGrantCommand({ KeyId: KeyMetadata!.KeyId, GrantId })),
      refused: 'AccessDeniedException',
    };
  },

  async 'a bucket policy changed'(a, b) {
    const { user, credentials } = await newUser(a, [allow('s3:*')]);
    const bucket = `coherence-${randomUUID().slice(0, 8)}`;
    const s3A = a.server.s3();
    await s3A.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3A.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
    const s3 = b.server.s3({ credentials });
    const userArn = `arn:aws:iam::${TEST_ACCOUNT}:user/${user}`;
    return {
      probe: async () => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body!.transformToString(),
      change: () =>
        s3A.send(new PutBucketPolicyCommand({
          Bucket: bucket,
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Deny', Principal: { AWS: userArn }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
          }),
        })),
      refused: 'AccessDenied',
    };
  },
};

/** An IAM user made through A, with an inline policy "p" of `statements` (none: no policy) and an access key. */
async function newUser(a: Node, statements: Record<string, unknown>[]): Promise<{ user: string; credentials: Credentials }> {
  const iam = a.clients.iam();
  const user = `u-${randomUUID().slice(0, 8)}`;
  await iam.send(new CreateUserCommand({ UserName: user }));
  if (statements.length > 0) await iam.send(new PutUserPolicyCommand({ UserName: user, PolicyName: 'p', PolicyDocument: policyDocument(...statements) }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: user }));
  return { user, credentials: { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! } };
}

/** Two servers on one fresh data dir, with the given cache options each. */
async function twoNodes(options: (node: 'a' | 'b') => TestServerOptions['cache']): Promise<{ a: Node; b: Node; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strongroom-coherence-'));
  const a = await startServer({ dataDir, cache: options('a') });
  const b = await startServer({ dataDir, cache: options('b') });
  const nodes = { a: { server: a, clients: new Clients(a) }, b: { server: b, clients: new Clients(b) } };
  return {
    ...nodes,
    async close() {
      for (const n of [nodes.a, nodes.b]) {
        n.clients.destroy();
        await n.server.stop();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe('Cache coherence between two servers on one data dir', () => {
  describe('sharing one invalidation port: a change through A is refused through B at once', () => {
    let nodes: Awaited<ReturnType<typeof twoNodes>>;
    before(async () => {
      const port = new InProcessInvalidation();
      nodes = await twoNodes(() => ({ port }));
    });
    after(() => nodes.close());

    for (const [name, make] of Object.entries(scenarios)) {
      it(`${name} through A is enforced by B on the next request`, async () => {
        const s = await make(nodes.a, nodes.b);
        await s.probe();
        await s.probe(); // B now answers from its caches
        await s.change();
        const err = await rejection(s.probe());
        assert.equal(err.name, s.refused);
      });
    }
  });

  describe('not sharing a port: B enforces a change through A within the cache TTL (backstop)', () => {
    const TTL_MS = 10_000;
    /** The caches' clock, moved by the test (both nodes'). */
    let offset = 0;
    let nodes: Awaited<ReturnType<typeof twoNodes>>;
    before(async () => {
      // Each node its own port, as two processes without LISTEN/NOTIFY.
      nodes = await twoNodes(() => ({ port: new InProcessInvalidation(), ttlMs: TTL_MS, now: () => Date.now() + offset }));
    });
    after(() => nodes.close());

    for (const [name, make] of Object.entries(scenarios)) {
      it(`${name} through A: B still answers from its caches, and refuses once the TTL has passed`, async () => {
        const s = await make(nodes.a, nodes.b);
        await s.probe();
        await s.change();
        await s.probe(); // B did not hear of it: the cached answer stands (this is what the shared port prevents)
        offset += TTL_MS;
        const err = await rejection(s.probe());
        assert.equal(err.name, s.refused);
      });
    }
  });
});

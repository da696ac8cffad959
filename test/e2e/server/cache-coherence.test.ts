import {
  CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, DeleteUserPolicyCommand, PutUserPolicyCommand, UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateGrantCommand, CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, EncryptCommand, KMSClient, PutKeyPolicyCommand, RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import {
  CreateBucketCommand, GetObjectCommand, PutBucketEncryptionCommand, PutBucketPolicyCommand, PutBucketVersioningCommand, PutObjectCommand,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InProcessInvalidation } from '../../../src/core/cache/invalidation.js';
import { PostgresDatabase } from '../../../src/store/metadata/postgres/database.js';
import { PostgresInvalidationPort } from '../../../src/store/metadata/postgres/invalidation-port.js';
import { SqliteDatabase } from '../../../src/store/metadata/sqlite/database.js';
import { SqliteInvalidationPort } from '../../../src/store/metadata/sqlite/invalidation-port.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { Clients, Credentials, allow, policyDocument } from '../../helpers/query-clients.js';
import { TEST_ACCOUNT, TestServer, TestServerOptions, startServer } from '../../helpers/server.js';

/**
 * Two servers on one data dir in one process stand for two nodes on one database (issue 10): every change made
 * through A must be enforced by B. With one invalidation port shared (as PostgreSQL LISTEN/NOTIFY will connect
 * nodes), B enforces it at once; with none shared, B's caches still answer from memory until their TTL.
 * Every scenario warms B's caches first, so a cache that did not hear the change would still allow the call.
 */
interface Node {
  readonly server: TestServer;
  readonly clients: Clients;
}

interface Scenario {
  /** A call made through B, and what it shows: 'allowed', an error's name, or the state it observed. */
  readonly probe: () => Promise<string>;
  /** The change made through A. */
  readonly change: () => Promise<unknown>;
  /** What B's probe shows before the change, and once B enforces it. */
  readonly before?: string;
  readonly after: string;
}

/** What B's probe shows once it shows `after`, or when `ms` have passed. */
async function enforcedWithin(s: Scenario, ms: number): Promise<string> {
  const deadline = performance.now() + ms;
  let seen = await s.probe();
  while (seen !== s.after && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    seen = await s.probe();
  }
  return seen;
}

/** 'allowed', or the name of the error the call failed with. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'allowed';
  } catch (err) {
    return (err as Error).name;
  }
}

const KEY_POLICY_ROOT = (extra: Record<string, unknown>[] = []) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }, ...extra],
  });

/** A KMS key made through A (with `policy`, or the default key policy); its id. */
async function newKey(a: Node, policy?: string): Promise<string> {
  return (await a.clients.kms().send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!.KeyId!;
}

/** An Encrypt under `keyId` through `kms`: 'allowed', or the name of the error. */
const encrypt = (kms: KMSClient, keyId: string): Promise<string> => outcome(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })));

/** The changes issue 10 names, each as a scenario between node A and node B. */
const scenarios: Record<string, (a: Node, b: Node) => Promise<Scenario>> = {
  async 'a key disabled'(a, b) {
    const keyId = await newKey(a);
    const kms = b.clients.kms();
    return {
      probe: () => encrypt(kms, keyId),
      change: () => a.clients.kms().send(new DisableKeyCommand({ KeyId: keyId })),
      after: 'DisabledException',
    };
  },

  async 'a key enabled'(a, b) {
    const kmsA = a.clients.kms();
    const keyId = await newKey(a);
    await kmsA.send(new DisableKeyCommand({ KeyId: keyId }));
    const kms = b.clients.kms();
    return {
      probe: () => encrypt(kms, keyId),
      change: () => kmsA.send(new EnableKeyCommand({ KeyId: keyId })),
      before: 'DisabledException',
      after: 'allowed',
    };
  },

  async 'a key scheduled for deletion'(a, b) {
    const keyId = await newKey(a);
    const kms = b.clients.kms();
    return {
      probe: () => encrypt(kms, keyId),
      change: () => a.clients.kms().send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 })),
      after: 'KMSInvalidStateException',
    };
  },

  async 'an access key deleted'(a, b) {
    const { user, credentials } = await newUser(a, [allow('kms:Encrypt')]);
    const keyId = await newKey(a);
    const kms = b.clients.kms(credentials);
    return {
      probe: () => encrypt(kms, keyId),
      change: () => a.clients.iam().send(new DeleteAccessKeyCommand({ UserName: user, AccessKeyId: credentials.accessKeyId })),
      after: 'UnrecognizedClientException',
    };
  },

  async 'an access key deactivated'(a, b) {
    const { user, credentials } = await newUser(a, [allow('kms:Encrypt')]);
    const keyId = await newKey(a);
    const kms = b.clients.kms(credentials);
    return {
      probe: () => encrypt(kms, keyId),
      change: () => a.clients.iam().send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: credentials.accessKeyId, Status: 'Inactive' })),
      after: 'UnrecognizedClientException',
    };
  },

  async 'a key policy changed'(a, b) {
    const { user, credentials } = await newUser(a, [allow('kms:Encrypt')]);
    const keyId = await newKey(a, KEY_POLICY_ROOT());
    const kms = b.clients.kms(credentials);
    const userArn = `arn:aws:iam::${TEST_ACCOUNT}:user/${user}`;
    return {
      probe: () => encrypt(kms, keyId),
      change: () =>
        a.clients.kms().send(new PutKeyPolicyCommand({
          KeyId: keyId,
          PolicyName: 'default',
          Policy: KEY_POLICY_ROOT([{ Sid: 'no', Effect: 'Deny', Principal: { AWS: userArn }, Action: 'kms:Encrypt', Resource: '*' }]),
        })),
      after: 'AccessDeniedException',
    };
  },

  async 'an IAM policy removed'(a, b) {
    const { user, credentials } = await newUser(a, [allow('kms:Encrypt')]);
    const keyId = await newKey(a);
    const kms = b.clients.kms(credentials);
    return {
      probe: () => encrypt(kms, keyId),
      change: () => a.clients.iam().send(new DeleteUserPolicyCommand({ UserName: user, PolicyName: 'p' })),
      after: 'AccessDeniedException',
    };
  },

  async 'a grant revoked'(a, b) {
    const { user, credentials } = await newUser(a, []);
    const kmsA = a.clients.kms();
    const keyId = await newKey(a);
    const { GrantId } = await kmsA.send(new CreateGrantCommand({
      KeyId: keyId, GranteePrincipal: `arn:aws:iam::${TEST_ACCOUNT}:user/${user}`, Operations: ['Encrypt'],
    }));
    const kms = b.clients.kms(credentials);
    return {
      probe: () => encrypt(kms, keyId),
      change: () => kmsA.send(new RevokeGrantCommand({ KeyId: keyId, GrantId })),
      after: 'AccessDeniedException',
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
      probe: () => outcome(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))),
      change: () =>
        s3A.send(new PutBucketPolicyCommand({
          Bucket: bucket,
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Deny', Principal: { AWS: userArn }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
          }),
        })),
      after: 'AccessDenied',
    };
  },

  async 'a bucket\'s versioning enabled'(a, b) {
    const bucket = `coherence-${randomUUID().slice(0, 8)}`;
    const s3A = a.server.s3();
    await s3A.send(new CreateBucketCommand({ Bucket: bucket }));
    const s3 = b.server.s3();
    return {
      // A versioned bucket answers each PUT with a new version id; an unversioned one with none.
      probe: async () => ((await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }))).VersionId ? 'versioned' : 'unversioned'),
      change: () => s3A.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } })),
      before: 'unversioned',
      after: 'versioned',
    };
  },

  async 'a bucket\'s default encryption changed'(a, b) {
    const bucket = `coherence-${randomUUID().slice(0, 8)}`;
    const s3A = a.server.s3();
    await s3A.send(new CreateBucketCommand({ Bucket: bucket }));
    const s3 = b.server.s3();
    return {
      probe: async () => String((await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }))).ServerSideEncryption),
      change: () =>
        s3A.send(new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] },
        })),
      before: 'AES256',
      after: 'aws:kms',
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

/**
 * Two servers on one fresh data dir, with the given cache options each. `initialise`: a server runs and stops
 * on the data dir first, so that `options` may open its database (a data dir with a database but no root of
 * trust is refused).
 */
async function twoNodes(
  options: (node: 'a' | 'b', dataDir: string) => TestServerOptions['cache'],
  { initialise = false } = {},
): Promise<{ a: Node; b: Node; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strongroom-coherence-'));
  if (initialise) await (await startServer({ dataDir })).stop();
  const a = await startServer({ dataDir, cache: options('a', dataDir) });
  const b = await startServer({ dataDir, cache: options('b', dataDir) });
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
  describe('sharing one invalidation port: a change through A is enforced through B at once', () => {
    let nodes: Awaited<ReturnType<typeof twoNodes>>;
    before(async () => {
      const port = new InProcessInvalidation();
      nodes = await twoNodes(() => ({ port }));
    });
    after(() => nodes.close());

    for (const [name, make] of Object.entries(scenarios)) {
      it(`${name} through A is enforced by B on the next request`, async () => {
        const s = await make(nodes.a, nodes.b);
        assert.equal(await s.probe(), s.before ?? 'allowed');
        assert.equal(await s.probe(), s.before ?? 'allowed'); // B now answers from its caches
        await s.change();
        assert.equal(await s.probe(), s.after);
      });
    }
  });

  describe('each with its own SQLite invalidation port on the data dir (as --workers processes): B enforces a change through A on its next request', () => {
    let nodes: Awaited<ReturnType<typeof twoNodes>>;
    const opened: { db: SqliteDatabase; port: SqliteInvalidationPort }[] = [];
    before(async () => {
      // A connection of its own per node: SQLite sees two processes' worth of connections to one file.
      nodes = await twoNodes((_, dataDir) => {
        const db = SqliteDatabase.inDataDir(dataDir);
        const port = new SqliteInvalidationPort(db);
        opened.push({ db, port });
        return { port };
      }, { initialise: true });
    });
    after(async () => {
      await nodes.close();
      for (const o of opened) {
        o.port.close();
        o.db.close();
      }
    });

    for (const [name, make] of Object.entries(scenarios)) {
      // Each request first catches up with what the other processes published (the port's sync, one
      // PRAGMA data_version when nothing changed), so no poll interval passes between A's answer and B's view.
      it(`${name} through A is enforced by B on the next request`, async () => {
        const s = await make(nodes.a, nodes.b);
        assert.equal(await s.probe(), s.before ?? 'allowed');
        assert.equal(await s.probe(), s.before ?? 'allowed'); // B now answers from its caches
        await s.change();
        assert.equal(await s.probe(), s.after);
      });
    }
  });

  describe('each with its own PostgreSQL invalidation port (LISTEN/NOTIFY, as nodes): B enforces a change through A within one second', { skip: postgresSkip() }, () => {
    // The stores stay on the shared SQLite data dir: what is under test is the port between the nodes' caches.
    let nodes: Awaited<ReturnType<typeof twoNodes>>;
    const opened: { close(): Promise<void> }[] = [];
    before(async () => {
      const url = await (await postgresCluster()).createDatabase();
      const ports: Record<'a' | 'b', PostgresInvalidationPort> = {} as never;
      for (const node of ['a', 'b'] as const) {
        const db = await PostgresDatabase.open(url);
        ports[node] = await PostgresInvalidationPort.start(url, db);
        opened.push(ports[node], db);
      }
      nodes = await twoNodes((node) => ({ port: ports[node] }));
    });
    after(async () => {
      await nodes.close();
      for (const o of opened) await o.close();
    });

    for (const [name, make] of Object.entries(scenarios)) {
      it(`${name} through A is enforced by B within one second`, async () => {
        const s = await make(nodes.a, nodes.b);
        assert.equal(await s.probe(), s.before ?? 'allowed');
        assert.equal(await s.probe(), s.before ?? 'allowed'); // B now answers from its caches
        await s.change();
        assert.equal(await enforcedWithin(s, 1000), s.after);
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
      it(`${name} through A: B still answers from its caches, and enforces it once the TTL has passed`, async () => {
        const s = await make(nodes.a, nodes.b);
        assert.equal(await s.probe(), s.before ?? 'allowed');
        await s.change();
        // B did not hear of it: the cached answer stands (this is what the shared port prevents)
        assert.equal(await s.probe(), s.before ?? 'allowed');
        offset += TTL_MS;
        assert.equal(await s.probe(), s.after);
      });
    }
  });
});

// `strongroom audit verify | proof | export-public-key` on either backend: the same commands read the log of a
// SQLite data dir (--data-dir) or of a PostgreSQL database (--database-url, STRONGROOM_DATABASE_URL) through the
// audit store, never through SQL of their own. Each backend's server is started, called with the SDK, and left
// running: verify reads one snapshot of the log, so a burst of calls committed meanwhile passes, instead of
// looking like records behind the checkpoint's back. A record edited in the database (with better-sqlite3 or
// pg directly) fails verify naming its sequence number; proof's JSON verifies against the exported key.
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { leafHash, verifyInclusion } from '../../../src/core/audit/merkle.js';
import { treeHeadSignatureValid } from '../../../src/core/audit/tree-head.js';
import { SQLITE_FILE } from '../../../src/store/metadata/sqlite/database.js';
import { runCli } from '../../helpers/cli.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { TestServer, startServer } from '../../helpers/server.js';

/** One backend as the tests reach it: where the commands find the log, and SQL run on it directly. */
interface Backend {
  readonly name: string;
  readonly skip: string | false;
  /** A new deployment's server, and the flags naming its log. */
  start(): Promise<{ server: TestServer; flags: string[]; env: NodeJS.ProcessEnv }>;
  /** Runs one statement on the server's database behind its back ($1… or ? parameters as the engine has). */
  sql(server: TestServer, flags: string[], text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** How the commands name where the key is stored. */
  readonly place: string;
}

const BACKENDS: Backend[] = [
  {
    name: 'SQLite (--data-dir)',
    skip: false,
    async start() {
      const server = await startServer();
      return { server, flags: ['--data-dir', server.dataDir], env: {} };
    },
    async sql(server, _flags, text, params = []) {
      const db = new Database(join(server.dataDir, SQLITE_FILE));
      try {
        db.pragma('busy_timeout = 5000');
        const stmt = db.prepare(text.replace(/\$\d+/g, '?'));
        return stmt.reader ? (stmt.all(...params) as Record<string, unknown>[]) : (stmt.run(...params), []);
      } finally {
        db.close();
      }
    },
    place: 'the data dir',
  },
  {
    name: 'PostgreSQL (--database-url)',
    skip: postgresSkip(),
    async start() {
      const url = await (await postgresCluster()).createDatabase();
      const server = await startServer({ databaseUrl: url });
      return { server, flags: ['--database-url', url], env: {} };
    },
    async sql(_server, flags, text, params = []) {
      const client = new pg.Client({ connectionString: flags[1] });
      await client.connect();
      try {
        return (await client.query(text, params)).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    },
    place: 'the database',
  },
];

for (const backend of BACKENDS) {
  describe(`strongroom audit on ${backend.name}`, { skip: backend.skip }, () => {
    let server: TestServer;
    let flags: string[];
    let keyId: string;
    const scratch = mkdtempSync(join(tmpdir(), 'strongroom-audit-cli-'));
    const audit = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['audit', ...args], env, 60_000);
    const count = async () => Number((await backend.sql(server, flags, 'SELECT count(*) AS n FROM audit_events'))[0]!.n);

    before(async () => {
      ({ server, flags } = await backend.start());
      const kms = server.kms();
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
      keyId = KeyMetadata!.KeyId!;
      for (let i = 0; i < 5; i++) await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(`p${i}`) }));
    });
    after(async () => {
      await server?.destroy();
      rmSync(scratch, { recursive: true, force: true });
    });

    it('verify passes on the log the running server wrote and counts its records', async () => {
      const n = await count();
      assert.ok(n >= 6, `${n} records`);
      const res = await audit(['verify', ...flags]);
      assert.equal(res.code, 0, `${res.stdout}${res.stderr}`);
      assert.match(res.stdout, new RegExp(`audit log verified: ${n} records, head ${n} [0-9a-f]{64}`));
      assert.match(res.stdout, new RegExp(`merkle tree \\(RFC 6962\\): size ${n}, root [0-9a-f]{64}`));
      assert.match(res.stdout, new RegExp(`signed tree heads: \\d+ valid; the newest, #\\d+, covers every record \\(size ${n},`));
      assert.match(res.stdout, new RegExp(`public key: ${backend.place}'s \\(key id [0-9a-f]{64}; not pinned`));
    });

    it('verify passes while the server commits a burst of calls (one snapshot of the log, not reads at different moments)', async () => {
      const kms = server.kms();
      let calls = 0;
      let done = false;
      const burst = Promise.all(
        Array.from({ length: 8 }, async () => {
          while (!done) {
            await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('burst') }));
            calls += 1;
          }
        }),
      );
      try {
        for (let i = 0; i < 3; i++) {
          const before = calls;
          const res = await audit(['verify', ...flags]);
          assert.equal(res.code, 0, `${res.stdout}${res.stderr}`);
          assert.match(res.stdout, /audit log verified: \d+ records/);
          assert.ok(calls > before, 'the server committed while verify ran');
        }
      } finally {
        done = true;
        await burst;
      }
      const res = await audit(['verify', ...flags]);
      assert.equal(res.code, 0, `${res.stdout}${res.stderr}`);
      assert.match(res.stdout, new RegExp(`audit log verified: ${await count()} records`));
    });

    it('export-public-key prints the key the heads are signed with: verify --public-key with it passes, pinned', async () => {
      const key = await audit(['export-public-key', ...flags]);
      assert.equal(key.code, 0, key.stderr);
      assert.match(key.stdout, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
      assert.equal(createPublicKey(key.stdout).asymmetricKeyType, 'ed25519');
      const pem = join(scratch, 'pinned.pem');
      writeFileSync(pem, key.stdout);
      const res = await audit(['verify', ...flags, '--public-key', pem]);
      assert.equal(res.code, 0, `${res.stdout}${res.stderr}`);
      assert.match(res.stdout, new RegExp(`public key: pinned .*pinned\\.pem \\(key id [0-9a-f]{64}; ${backend.place} holds the same key\\)`));
    });

    it('proof --seq 3 prints an inclusion proof that verifies against the signed head with the exported key', async () => {
      const res = await audit(['proof', '--seq', '3', ...flags]);
      assert.equal(res.code, 0, `${res.stdout}${res.stderr}`);
      const proof = JSON.parse(res.stdout) as { seq: number; leafIndex: number; treeSize: number; record: string; leafHash: string; auditPath: string[]; rootHash: string; signedTreeHead: { treeSize: number; rootHash: string; timestamp: number; keyId: string; signature: string } | null };
      assert.equal(proof.seq, 3);
      assert.equal(proof.leafIndex, 2);
      assert.equal((JSON.parse(proof.record) as { eventName: string }).eventName, 'Encrypt');
      const leaf = leafHash(proof.record);
      assert.equal(leaf.toString('hex'), proof.leafHash);
      const h = proof.signedTreeHead;
      assert.ok(h, 'the proof ends at a signed head');
      assert.equal(h.treeSize, proof.treeSize);
      assert.equal(h.rootHash, proof.rootHash);
      const root = Buffer.from(h.rootHash, 'hex');
      const path = proof.auditPath.map((x) => Buffer.from(x, 'hex'));
      assert.equal(verifyInclusion(leaf, proof.leafIndex, proof.treeSize, path, root), true);
      assert.equal(verifyInclusion(leafHash(proof.record.replace('Encrypt', 'ListKeys')), proof.leafIndex, proof.treeSize, path, root), false);
      const pinned = createPublicKey((await audit(['export-public-key', ...flags])).stdout);
      assert.equal(treeHeadSignatureValid({ treeSize: h.treeSize, rootHash: root, timestamp: h.timestamp, keyId: h.keyId, signature: Buffer.from(h.signature, 'base64') }, pinned), true);
      // Against a smaller tree than the newest head's: a proof whose root is that tree's.
      const small = await audit(['proof', '--seq', '2', '--tree-size', '5', ...flags]);
      assert.equal(small.code, 0, small.stderr);
      const p5 = JSON.parse(small.stdout) as { treeSize: number; leafHash: string; auditPath: string[]; rootHash: string };
      assert.equal(p5.treeSize, 5);
      assert.equal(verifyInclusion(Buffer.from(p5.leafHash, 'hex'), 1, 5, p5.auditPath.map((x) => Buffer.from(x, 'hex')), Buffer.from(p5.rootHash, 'hex')), true);
      const none = await audit(['proof', '--seq', '99999', ...flags]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /^strongroom: no record 99999 in a tree of \d+ \(the log holds \d+ records\)/);
    });

    it('a record edited in the database: verify exits 1 naming its sequence number; proof of it no longer matches the signed head', async () => {
      const [row] = await backend.sql(server, flags, 'SELECT record FROM audit_events WHERE seq = $1', [4]);
      const original = row!.record as string;
      await backend.sql(server, flags, 'UPDATE audit_events SET record = $1 WHERE seq = $2', [original.replace('"Encrypt"', '"ListKeys"'), 4]);
      try {
        const res = await audit(['verify', ...flags]);
        assert.equal(res.code, 1, `${res.stdout}${res.stderr}`);
        assert.match(res.stdout, /^audit log INVALID at sequence number 4: record 4 does not match its hash chain/m);
        const proof = await audit(['proof', '--seq', '4', ...flags]);
        assert.equal(proof.code, 1, `${proof.stdout}${proof.stderr}`);
        assert.match(proof.stderr, /the records do not match signed tree head #\d+ of size \d+; run `strongroom audit verify`/);
      } finally {
        await backend.sql(server, flags, 'UPDATE audit_events SET record = $1 WHERE seq = $2', [original, 4]);
      }
      const res = await audit(['verify', ...flags]);
      assert.equal(res.code, 0, `${res.stdout}${res.stderr}`);
    });
  });
}

describe('strongroom audit on PostgreSQL: where the log is', { skip: postgresSkip() }, () => {
  it('STRONGROOM_DATABASE_URL names the database as --database-url does; a database no server initialised is refused (exit 2)', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const server = await startServer({ databaseUrl: url });
    try {
      await server.kms().send(new CreateKeyCommand({}));
      const res = await runCli(['audit', 'verify'], { STRONGROOM_DATABASE_URL: url, STRONGROOM_DATA_DIR: join(tmpdir(), 'no-such-strongroom-dir') }, 60_000);
      assert.equal(res.code, 0, `${res.stdout}${res.stderr}`);
      assert.match(res.stdout, /audit log verified: 1 records/);
    } finally {
      await server.destroy();
    }
    const empty = await (await postgresCluster()).createDatabase();
    for (const command of ['verify', 'export-public-key']) {
      const res = await runCli(['audit', command, '--database-url', empty], {}, 60_000);
      assert.equal(res.code, 2, `${res.stdout}${res.stderr}`);
      assert.match(res.stderr, /^strongroom: the database postgres:\/\/.*:\*\*\*@.* holds no Strongroom deployment/);
      assert.equal(res.stderr.includes(new URL(empty).password), false, 'the password is not shown');
    }
  });
});

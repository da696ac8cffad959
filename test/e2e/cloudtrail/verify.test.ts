// Tamper evidence and crash durability of the audit log: `strongroom audit verify` recomputes the hash chain
// and the RFC 6962 Merkle tree offline and names what is wrong after a record is edited, removed, reordered or
// the tail truncated (each edit made with better-sqlite3 directly, on a copy of the data dir) — also when the
// editor recomputed the chain hashes, the Merkle frontier and the checkpoint as someone with write access but
// without the signing key would: the signed tree heads give them away. A `strongroom serve`
// process killed with SIGKILL right after N acknowledged calls has all N records after restart, and the aws CLI
// v2 finds them with `cloudtrail lookup-events`.
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MerkleFrontier, leafHash, verifyInclusion } from '../../../src/core/audit/merkle.js';
import { GENESIS_HASH, chainHash } from '../../../src/core/audit/record.js';
import { keyIdOf, treeHeadSignatureInput, treeHeadSignatureValid } from '../../../src/core/audit/tree-head.js';
import { SQLITE_FILE } from '../../../src/store/metadata/sqlite/database.js';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { killAll, spawnServe } from '../../helpers/process.js';
import { TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

function verify(dataDir: string, ...args: string[]): { code: number; out: string } {
  const res = spawnSync(process.execPath, ['bin/strongroom.js', 'audit', 'verify', '--data-dir', dataDir, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: res.status ?? -1, out: `${res.stdout}${res.stderr}` };
}

function exportPublicKey(dataDir: string): string {
  const res = spawnSync(process.execPath, ['bin/strongroom.js', 'audit', 'export-public-key', '--data-dir', dataDir], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(res.status, 0, res.stderr);
  return res.stdout;
}

/**
 * What someone with write access to the database but not the signing key can do after changing records:
 * recompute every chain hash, the checkpoint's (seq, hash) and its Merkle frontier from the records as they
 * now are, so the chain and the checkpoint agree again.
 */
function recomputeChainAndCheckpoint(db: Database.Database): void {
  const rows = db.prepare('SELECT seq, record FROM audit_events ORDER BY seq').all() as { seq: number; record: string }[];
  let hash = GENESIS_HASH;
  const tree = MerkleFrontier.empty();
  const update = db.prepare('UPDATE audit_events SET hash = ? WHERE seq = ?');
  for (const r of rows) {
    hash = chainHash(hash, r.record);
    tree.append(leafHash(r.record));
    update.run(hash, r.seq);
  }
  db.prepare('UPDATE audit_checkpoint SET seq = ?, hash = ?, frontier = ? WHERE id = 1').run(rows.length, hash, tree.toBytes());
}

function truncateFrom(db: Database.Database, seq: number): void {
  db.prepare('DELETE FROM audit_resources WHERE seq >= ?').run(seq);
  db.prepare('DELETE FROM audit_events WHERE seq >= ?').run(seq);
}

describe('strongroom audit verify', () => {
  let server: TestServer;
  const copies: string[] = [];
  let records = 0;

  /** A copy of the stopped server's database, changed by `tamper`. */
  const tampered = (tamper: (db: Database.Database) => void): string => {
    const dir = mkdtempSync(join(tmpdir(), 'strongroom-audit-'));
    copies.push(dir);
    copyFileSync(join(server.dataDir, SQLITE_FILE), join(dir, SQLITE_FILE));
    const db = new Database(join(dir, SQLITE_FILE));
    try {
      tamper(db);
    } finally {
      db.close();
    }
    return dir;
  };

  before(async () => {
    server = await startServer();
    const kms = server.kms();
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    for (let i = 0; i < 5; i++) await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId!, Plaintext: Buffer.from(`p${i}`) }));
    await server.stop();
    const db = new Database(join(server.dataDir, SQLITE_FILE), { readonly: true });
    records = (db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    db.close();
  });
  after(async () => {
    await server.destroy();
    for (const d of copies) rmSync(d, { recursive: true, force: true });
  });

  it('passes on the log as the server wrote it', () => {
    assert.equal(records, 6);
    const res = verify(server.dataDir);
    assert.equal(res.code, 0, res.out);
    assert.match(res.out, /verified: 6 records, head 6 [0-9a-f]{64}/);
    assert.match(res.out, /merkle tree \(RFC 6962\): size 6, root [0-9a-f]{64}/);
    assert.match(res.out, /signed tree heads: \d+ valid; the newest, #\d+, covers every record \(size 6,/);
    assert.match(res.out, /public key: the data dir's \(key id [0-9a-f]{64}; not pinned/);
  });

  it('an edited record: exits 1 naming it', () => {
    const dir = tampered((db) => db.prepare("UPDATE audit_events SET record = replace(record, '\"Encrypt\"', '\"ListKeys\"') WHERE seq = 3").run());
    const res = verify(dir);
    assert.equal(res.code, 1);
    assert.match(res.out, /INVALID at sequence number 3:/);
  });

  it('an edited record whose hash was recomputed: the next record breaks the chain', () => {
    const dir = tampered((db) => db.prepare("UPDATE audit_events SET record = record || ' ', hash = '00' || substr(hash, 3) WHERE seq = 4").run());
    const res = verify(dir);
    assert.equal(res.code, 1);
    assert.match(res.out, /INVALID at sequence number 4:/);
  });

  it('a removed record: exits 1 naming the missing sequence number', () => {
    const dir = tampered((db) => {
      db.prepare('DELETE FROM audit_resources WHERE seq = 2').run();
      db.prepare('DELETE FROM audit_events WHERE seq = 2').run();
    });
    const res = verify(dir);
    assert.equal(res.code, 1);
    assert.match(res.out, /INVALID at sequence number 2: record 2 is missing/);
  });

  it('reordered records: exits 1 at the first swapped one', () => {
    const dir = tampered((db) => {
      const [a, b] = db.prepare('SELECT record, hash FROM audit_events WHERE seq IN (2, 3) ORDER BY seq').all() as { record: string; hash: string }[];
      db.prepare('UPDATE audit_events SET record = ?, hash = ? WHERE seq = 2').run(b!.record, b!.hash);
      db.prepare('UPDATE audit_events SET record = ?, hash = ? WHERE seq = 3').run(a!.record, a!.hash);
    });
    const res = verify(dir);
    assert.equal(res.code, 1);
    assert.match(res.out, /INVALID at sequence number 2:/);
  });

  it('a truncated tail: the checkpoint names the first missing record', () => {
    const dir = tampered((db) => {
      db.prepare('DELETE FROM audit_resources WHERE seq >= 5').run();
      db.prepare('DELETE FROM audit_events WHERE seq >= 5').run();
    });
    const res = verify(dir);
    assert.equal(res.code, 1);
    assert.match(res.out, /INVALID at sequence number 5: the log ends at record 4 but the checkpoint names record 6 \(truncated\)/);
  });

  it('a truncated tail with the chain and checkpoint rewritten to match: the signed head still covers the removed records', () => {
    const dir = tampered((db) => {
      truncateFrom(db, 5);
      recomputeChainAndCheckpoint(db);
    });
    const res = verify(dir);
    assert.equal(res.code, 1, res.out);
    assert.doesNotMatch(res.out, /at sequence number/, 'the chain and checkpoint agree: only the signed heads tell');
    assert.match(res.out, /INVALID: signed tree head #\d+ \(size 6\) covers more records than the log holds \(4\): records 5\.\.6 were removed \(tail truncated\)/);
  });

  it('…and the heads beyond the cut deleted too: the last records are covered by no signed head', () => {
    const dir = tampered((db) => {
      truncateFrom(db, 5);
      recomputeChainAndCheckpoint(db);
      db.prepare('DELETE FROM audit_tree_heads WHERE tree_size > 4').run();
    });
    const res = verify(dir);
    assert.equal(res.code, 1, res.out);
    assert.match(res.out, /INVALID: (no signed tree head covers records 1\.\.4|records \d\.\.4 are not covered by a signed tree head)/);
  });

  it('an edited record with the chain and checkpoint recomputed: the signed head no longer matches the records', () => {
    const dir = tampered((db) => {
      db.prepare("UPDATE audit_events SET record = replace(record, '\"Encrypt\"', '\"ListKeys\"') WHERE seq = 5").run();
      recomputeChainAndCheckpoint(db);
    });
    const res = verify(dir);
    assert.equal(res.code, 1, res.out);
    assert.doesNotMatch(res.out, /at sequence number/);
    assert.match(res.out, /INVALID: signed tree head #\d+ \(size 6\) does not match the records: record\(s\) edited, removed or reordered at or before seq 6/);
  });

  it('a middle record removed or two reordered, chain recomputed: the signed head no longer matches', () => {
    const removed = tampered((db) => {
      db.prepare('DELETE FROM audit_resources WHERE seq >= 3').run();
      const later = db.prepare('SELECT * FROM audit_events WHERE seq > 3 ORDER BY seq').all() as { seq: number }[];
      db.prepare('DELETE FROM audit_events WHERE seq >= 3').run();
      const cols = Object.keys(later[0]!);
      const insert = db.prepare(`INSERT INTO audit_events (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`);
      for (const r of later) insert.run({ ...r, seq: r.seq - 1 }); // renumbered: no gap left
      recomputeChainAndCheckpoint(db);
    });
    let res = verify(removed);
    assert.equal(res.code, 1, res.out);
    assert.match(res.out, /INVALID: signed tree head #\d+ \(size 6\) covers more records than the log holds \(5\)/);
    const swapped = tampered((db) => {
      const [a, b] = db.prepare('SELECT record FROM audit_events WHERE seq IN (2, 3) ORDER BY seq').all() as { record: string }[];
      db.prepare('UPDATE audit_events SET record = ? WHERE seq = 2').run(b!.record);
      db.prepare('UPDATE audit_events SET record = ? WHERE seq = 3').run(a!.record);
      recomputeChainAndCheckpoint(db);
    });
    res = verify(swapped);
    assert.equal(res.code, 1, res.out);
    assert.match(res.out, /INVALID: signed tree head #\d+ \(size 6\) does not match the records/);
  });

  it('a head forged without the key: its signature is invalid', () => {
    const dir = tampered((db) => {
      db.prepare("UPDATE audit_events SET record = replace(record, '\"Encrypt\"', '\"ListKeys\"') WHERE seq = 6").run();
      recomputeChainAndCheckpoint(db);
      const tree = MerkleFrontier.empty();
      for (const r of db.prepare('SELECT record FROM audit_events ORDER BY seq').all() as { record: string }[]) tree.append(leafHash(r.record));
      db.prepare('UPDATE audit_tree_heads SET root_hash = ? WHERE tree_size = 6').run(tree.root());
    });
    const res = verify(dir);
    assert.equal(res.code, 1, res.out);
    assert.match(res.out, /INVALID: the signature of signed tree head #\d+ \(size 6\) is invalid: the head was forged or altered/);
  });

  it('the public key pinned with export-public-key verifies; the key of another data dir does not', async () => {
    const pinDir = mkdtempSync(join(tmpdir(), 'strongroom-pin-'));
    copies.push(pinDir);
    const pem = exportPublicKey(server.dataDir);
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    writeFileSync(join(pinDir, 'ours.pem'), pem);
    let res = verify(server.dataDir, '--public-key', join(pinDir, 'ours.pem'));
    assert.equal(res.code, 0, res.out);
    assert.match(res.out, /public key: pinned .*ours\.pem \(key id [0-9a-f]{64}; the data dir holds the same key\)/);

    const other = await startServer();
    try {
      await other.stop();
      writeFileSync(join(pinDir, 'other.pem'), exportPublicKey(other.dataDir));
    } finally {
      await other.destroy();
    }
    res = verify(server.dataDir, '--public-key', join(pinDir, 'other.pem'));
    assert.equal(res.code, 1, res.out);
    assert.match(res.out, /INVALID: signed tree head #\d+ \(size 6\) names signing key [0-9a-f]{64}, not the key verified against \([0-9a-f]{64}\)/);
    assert.match(res.out, /public key: pinned .*other\.pem \(key id [0-9a-f]{64}; the data dir holds another key, [0-9a-f]{64}\)/);
  });

  it("the data dir's key replaced and every head re-signed with the intruder's: only a pinned key tells", () => {
    const pinDir = mkdtempSync(join(tmpdir(), 'strongroom-pin-'));
    copies.push(pinDir);
    writeFileSync(join(pinDir, 'ours.pem'), exportPublicKey(server.dataDir));
    const dir = tampered((db) => {
      db.prepare("UPDATE audit_events SET record = replace(record, '\"Encrypt\"', '\"ListKeys\"') WHERE seq = 4").run();
      recomputeChainAndCheckpoint(db);
      const intruder = generateKeyPairSync('ed25519');
      const keyId = keyIdOf(intruder.publicKey);
      db.prepare('UPDATE audit_tree_key SET key_id = ?, public_key = ?').run(keyId, intruder.publicKey.export({ format: 'der', type: 'spki' }));
      const heads = db.prepare('SELECT id, tree_size, timestamp FROM audit_tree_heads').all() as { id: number; tree_size: number; timestamp: number }[];
      const records = db.prepare('SELECT record FROM audit_events ORDER BY seq').all() as { record: string }[];
      for (const h of heads) {
        const tree = MerkleFrontier.empty();
        for (const r of records.slice(0, h.tree_size)) tree.append(leafHash(r.record));
        const signature = sign(null, treeHeadSignatureInput(h.tree_size, tree.root(), h.timestamp), intruder.privateKey);
        db.prepare('UPDATE audit_tree_heads SET root_hash = ?, key_id = ?, signature = ? WHERE id = ?').run(tree.root(), keyId, signature, h.id);
      }
    });
    const unpinned = verify(dir);
    assert.equal(unpinned.code, 0, 'a consistent forgery under a replaced key passes the data-dir key: that is what pinning is for');
    assert.match(unpinned.out, /public key: the data dir's \(key id [0-9a-f]{64}; not pinned/);
    const pinned = verify(dir, '--public-key', join(pinDir, 'ours.pem'));
    assert.equal(pinned.code, 1, pinned.out);
    assert.match(pinned.out, /INVALID: signed tree head #\d+ \(size 6\) names signing key/);
  });

  it('audit proof: record 3 is in the newest signed tree, checked with nothing but the JSON and the pinned public key', () => {
    const res = spawnSync(process.execPath, ['bin/strongroom.js', 'audit', 'proof', '--seq', '3', '--data-dir', server.dataDir], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(res.status, 0, res.stderr);
    const proof = JSON.parse(res.stdout) as { seq: number; leafIndex: number; treeSize: number; record: string; leafHash: string; auditPath: string[]; rootHash: string; signedTreeHead: { treeSize: number; rootHash: string; timestamp: number; keyId: string; signature: string } };
    assert.equal(proof.leafIndex, 2);
    assert.equal(proof.treeSize, 6);
    assert.equal(JSON.parse(proof.record).eventName, 'Encrypt');
    const leaf = leafHash(proof.record);
    assert.equal(leaf.toString('hex'), proof.leafHash);
    const root = Buffer.from(proof.signedTreeHead.rootHash, 'hex');
    assert.equal(verifyInclusion(leaf, proof.leafIndex, proof.treeSize, proof.auditPath.map((h) => Buffer.from(h, 'hex')), root), true);
    const pinned = createPublicKey(exportPublicKey(server.dataDir));
    const h = proof.signedTreeHead;
    assert.equal(treeHeadSignatureValid({ treeSize: h.treeSize, rootHash: root, timestamp: h.timestamp, keyId: h.keyId, signature: Buffer.from(h.signature, 'base64') }, pinned), true);
    // Another record's bytes do not prove with this path.
    assert.equal(verifyInclusion(leafHash(proof.record.replace('Encrypt', 'ListKeys')), 2, 6, proof.auditPath.map((x) => Buffer.from(x, 'hex')), root), false);
  });

  it('a data dir whose checkpoint has no Merkle frontier yet (before migration 010): the next commit rebuilds it and signs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strongroom-upgrade-'));
    copies.push(dir);
    cpSync(server.dataDir, dir, { recursive: true });
    const db = new Database(join(dir, SQLITE_FILE));
    db.prepare('UPDATE audit_checkpoint SET frontier = NULL').run();
    db.prepare('DELETE FROM audit_tree_heads').run();
    db.close();
    assert.match(verify(dir).out, /INVALID: no signed tree head covers records 1\.\.6/);
    const again = await startServer({ dataDir: dir });
    try {
      await again.kms().send(new CreateKeyCommand({}));
    } finally {
      await again.stop();
    }
    const res = verify(dir);
    assert.equal(res.code, 0, res.out);
    assert.match(res.out, /verified: 7 records/);
    assert.match(res.out, /signed tree heads: 1 valid; the newest, #\d+, covers every record \(size 7, root [0-9a-f]{64}/);
  });
});

describe('audit records survive SIGKILL', () => {
  const CLI = '/usr/bin/aws';
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'strongroom-crash-'));
  });
  after(() => {
    killAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every acknowledged call of a killed server is recorded after restart; aws cloudtrail lookup-events finds them', async (t) => {
    const env = { STRONGROOM_ROOT_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, STRONGROOM_ROOT_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey };
    const first = await spawnServe(['--data-dir', dataDir], env);
    const kms = new KMSClient({ endpoint: first.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const N = 40;
    const acknowledged: string[] = [];
    try {
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId!, Plaintext: Buffer.from('crash') }));
      await Promise.all(
        Array.from({ length: N }, async () => {
          const out = await kms.send(new DecryptCommand({ CiphertextBlob }));
          acknowledged.push(out.$metadata.requestId!);
        }),
      );
    } finally {
      kms.destroy();
    }
    const exited = once(first.child, 'exit');
    first.child.kill('SIGKILL');
    await exited;
    assert.equal(acknowledged.length, N);

    const res = verify(dataDir);
    assert.equal(res.code, 0, res.out);

    const second = await spawnServe(['--data-dir', dataDir], env);
    try {
      const probe = spawnSync(CLI, ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
      if (probe.status !== 0 || !/^aws-cli\/2\./.test(`${probe.stdout}${probe.stderr}`)) {
        if (process.env.CI) assert.fail(`${CLI} is not the aws CLI v2`);
        t.skip(`${CLI} is not the aws CLI v2`);
        return;
      }
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(
          CLI,
          ['cloudtrail', 'lookup-events', '--lookup-attributes', 'AttributeKey=EventName,AttributeValue=Decrypt', '--endpoint-url', second.url, '--output', 'json'],
          { env: awsClientEnv(), timeout: 60_000, encoding: 'utf8' },
          (err, out, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(out)),
        ),
      );
      const events = (JSON.parse(stdout) as { Events: { EventName: string; CloudTrailEvent: string; Username: string }[] }).Events;
      assert.equal(events.length, N);
      assert.ok(events.every((e) => e.EventName === 'Decrypt' && e.Username === 'root'));
      const ids = events.map((e) => (JSON.parse(e.CloudTrailEvent) as { requestID: string }).requestID).sort();
      assert.deepEqual(ids, [...acknowledged].sort());
    } finally {
      await second.terminate();
    }
  });
});

// A volume of a PostgreSQL deployment used as a disk through a real NBD client. The NBD server runs in a thread of
// its own (src/protocols/nbd/thread) and, without blob files, sends every segment it writes or reads to the main
// thread's PostgreSQL blob store (ThreadBlobStore/RemoteBlobWriter): what nbdcopy flushed must be blob rows in
// PostgreSQL, sealed, and read back byte-exact after the server restarts.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { SERVE_ENV, eventually, nbdUrlOf } from '../../helpers/nbd-serve.js';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { mustRun, nbdToolsMissing } from '../../helpers/nbd-tools.js';
import { killAll, spawnServe } from '../../helpers/process.js';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { TestServer, startServer } from '../../helpers/server.js';
import { attachedVolume } from '../../helpers/volumes.js';

const skip = postgresSkip() || (nbdToolsMissing() ?? false);
const cli = spawnSync('aws', ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
if (cli.error && process.env.CI) throw new Error('the aws CLI cannot be run');
const NBD = { host: '127.0.0.1', port: 0 };

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('Volumes on PostgreSQL exported over NBD (the NBD thread writes and reads segments through the main thread)', { skip }, () => {
  let databaseUrl: string;
  let server: TestServer | undefined;
  let dataDir: string;
  let dir: string;
  before(async () => {
    databaseUrl = await (await postgresCluster()).createDatabase();
    dir = mkdtempSync(join(tmpdir(), 'sr-pg-nbd-'));
  });
  after(async () => {
    killAll();
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('what nbdcopy writes and flushes reads back byte-exact through NBD after a restart; the segments are blob rows in PostgreSQL holding no plaintext, and no file', async () => {
    server = await startServer({ databaseUrl, nbd: NBD });
    dataDir = server.dataDir;
    const { volumeId } = await attachedVolume(server);
    // Random bytes with a recognisable plaintext marker every 4 KiB, over several 64 KiB chunks and a partial one.
    const marker = Buffer.from(`strongroom-pg-nbd-plaintext-${randomBytes(6).toString('hex')}`);
    const pattern = randomBytes(3 * 1024 * 1024 + 4097);
    for (let at = 0; at + marker.length <= pattern.length; at += 4096) marker.copy(pattern, at);
    writeFileSync(join(dir, 'pattern'), pattern);
    await mustRun('nbdcopy', ['--flush', join(dir, 'pattern'), `${server.nbdUrl}/${volumeId}`]);
    await server.stop();
    server = undefined;

    // The segments: rows of ebs_segments naming committed blobs whose bytes are blob_chunks rows.
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const segments = await db.query<{ blob_id: string; state: string; size: string }>(
        'SELECT s.blob_id, b.state, b.size FROM ebs_segments s JOIN blobs b ON b.id::text = s.blob_id WHERE s.owner_id = $1',
        [volumeId],
      );
      const named = await db.query<{ n: string }>('SELECT count(*) AS n FROM ebs_segments WHERE owner_id = $1', [volumeId]);
      assert.ok(segments.rows.length > 0, 'the volume has segments');
      assert.equal(segments.rows.length, Number(named.rows[0]!.n), 'every segment is a blob in PostgreSQL');
      assert.ok(segments.rows.every((r) => r.state === 'committed'), JSON.stringify(segments.rows));
      const stored = segments.rows.reduce((sum, r) => sum + Number(r.size), 0);
      assert.ok(stored >= pattern.length, `the segments hold at least what was written (${stored} bytes)`);
      const mapped = await db.query<{ n: string }>('SELECT count(*) AS n FROM ebs_chunks WHERE owner_id = $1', [volumeId]);
      assert.equal(Number(mapped.rows[0]!.n), Math.ceil(pattern.length / 65536), 'every written chunk is in the committed map');
      const leaks = await db.query<{ n: string }>(
        'SELECT count(*) AS n FROM blob_chunks c JOIN ebs_segments s ON c.blob_id::text = s.blob_id WHERE position($1::bytea in c.data) > 0',
        [marker],
      );
      assert.equal(Number(leaks.rows[0]!.n), 0, 'no blob chunk of a segment holds the plaintext');
      const anyLeak = await db.query<{ n: string }>('SELECT count(*) AS n FROM blob_chunks WHERE position($1::bytea in data) > 0', [marker]);
      assert.equal(Number(anyLeak.rows[0]!.n), 0, 'no blob of the database holds the plaintext');
    } finally {
      await db.end();
    }
    // Nothing of the volume in the data dir: no segment file, and no file with the plaintext.
    for (const file of filesUnder(dataDir)) {
      if (!statSync(file).isFile()) continue;
      assert.ok(!readFileSync(file).includes(marker), `${file} holds the plaintext`);
    }
    assert.deepEqual(filesUnder(dataDir).filter((f) => f.includes(`${join(dataDir, 'blobs')}/`)), [], 'no blob file in the data dir');

    // A new server on the same database and root of trust reads the bytes back through NBD.
    server = await startServer({ databaseUrl, dataDir, nbd: NBD });
    const back = join(dir, 'back');
    await mustRun('sh', ['-c', `nbdcopy '${server.nbdUrl}/${volumeId}' - | head -c ${pattern.length} > '${back}'`]);
    assert.ok(readFileSync(back).equals(pattern), 'read back byte-exact after the restart');
    const out = await mustRun('qemu-io', ['-f', 'raw', '-r', '-c', `read -P 0 ${pattern.length} ${65536 * 2}`, `${server.nbdUrl}/${volumeId}`]);
    assert.doesNotMatch(out, /Pattern verification failed/, out);
  });

  it('writes acknowledged with FUA or before a flush survive kill -9 of `strongroom serve` on PostgreSQL', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const made = await startServer({ databaseUrl: url });
    const { volumeId } = await attachedVolume(made);
    await made.stop();
    const args = ['--data-dir', made.dataDir, '--database-url', url, '--nbd-listen', '127.0.0.1:0'];
    try {
      const first = await spawnServe(args, SERVE_ENV);
      // A client that stays connected (a client leaving cleanly makes the server close, and so flush, the device):
      // a write with FUA, then one over many 64 KiB chunks and a 16 MiB segment boundary, flushed.
      const client = await RawNbdClient.connect(Number(new URL(nbdUrlOf(first)).port));
      await client.open(volumeId);
      client.request(1, 1n, 4097, 5000, { data: Buffer.alloc(5000, 0x31), flags: 1 });
      assert.equal((await client.reply()).error, 0);
      client.request(1, 2n, 1000001, 17000000, { data: Buffer.alloc(17000000, 0x32) });
      assert.equal((await client.reply()).error, 0);
      client.request(3, 3n, 0, 0); // NBD_CMD_FLUSH
      assert.equal((await client.reply()).error, 0);
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      client.destroy();
      const second = await spawnServe(args, SERVE_ENV);
      const out = await eventually(
        () => mustRun('qemu-io', ['-f', 'raw', '-r', '-c', 'read -P 0x31 4097 5000', '-c', 'read -P 0x32 1000001 17000000', '-c', 'read -P 0 0 4097', '-c', 'read -P 0 18000001 65536', `${nbdUrlOf(second)}/${volumeId}`]),
        25_000,
      );
      assert.doesNotMatch(out, /Pattern verification failed/, out);
      assert.equal(await second.terminate(), 0);
    } finally {
      rmSync(made.dataDir, { recursive: true, force: true });
    }
  });

  it('with two workers on PostgreSQL, a snapshot taken by either worker holds the writes a connected NBD client was acknowledged but did not flush', { skip: cli.error ? 'the aws CLI cannot be run' : false }, async () => {
    const url = await (await postgresCluster()).createDatabase();
    const home = mkdtempSync(join(tmpdir(), 'sr-pg-nbd-workers-'));
    try {
      const proc = await spawnServe(['--data-dir', home, '--database-url', url, '--nbd-listen', '127.0.0.1:0', '--workers', '2'], SERVE_ENV);
      const aws = (args: string[]) =>
        new Promise<Record<string, unknown>>((resolve, reject) =>
          execFile('aws', ['--endpoint-url', proc.url, '--output', 'json', ...args], { env: awsClientEnv(), timeout: 60_000 }, (err, stdout, stderr) =>
            err ? reject(new Error(`aws ${args.join(' ')}: ${err.message}: ${stderr}`)) : resolve(stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {}),
          ),
        );
      const nbd = nbdUrlOf(proc);
      const volumeId = (await aws(['ec2', 'create-volume', '--size', '1', '--availability-zone', 'us-east-1a'])).VolumeId as string;
      await aws(['ec2', 'attach-volume', '--volume-id', volumeId, '--instance-id', 'i-0123456789abcdef0', '--device', '/dev/sdf']);
      const client = await RawNbdClient.connect(Number(new URL(nbd).port));
      await client.open(volumeId);
      const snapshots: string[] = [];
      // Each aws CLI call is a new connection, handed to the workers in turn: the two snapshots reach both.
      for (let i = 0; i < 2; i++) {
        client.request(1, BigInt(i + 1), 65536 * i + 1000, 3000, { data: Buffer.alloc(3000, 0x61 + i) });
        assert.equal((await client.reply()).error, 0);
        snapshots.push((await aws(['ec2', 'create-snapshot', '--volume-id', volumeId])).SnapshotId as string);
      }
      client.request(2, 9n, 0, 0); // NBD_CMD_DISC
      await client.closed();
      for (const [i, snapshotId] of snapshots.entries()) {
        await eventually(async () => {
          const [s] = (await aws(['ec2', 'describe-snapshots', '--snapshot-ids', snapshotId])).Snapshots as Array<{ State: string }>;
          if (s?.State !== 'completed') throw new Error(`the snapshot is ${s?.State}`);
        }, 30_000);
        const copyId = (await aws(['ec2', 'create-volume', '--snapshot-id', snapshotId, '--availability-zone', 'us-east-1a'])).VolumeId as string;
        await aws(['ec2', 'attach-volume', '--volume-id', copyId, '--instance-id', 'i-0123456789abcdef1', '--device', '/dev/sdf']);
        const reads = Array.from({ length: i + 1 }, (_, j) => ['-c', `read -P 0x${(0x61 + j).toString(16)} ${65536 * j + 1000} 3000`]).flat();
        const out = await mustRun('qemu-io', ['-f', 'raw', '-r', ...reads, '-c', `read -P 0 ${65536 * (i + 1) + 1000} 3000`, `${nbd}/${copyId}`]);
        assert.doesNotMatch(out, /Pattern verification failed/, `snapshot ${i + 1}: ${out}`);
        await aws(['ec2', 'detach-volume', '--volume-id', copyId]);
      }
      assert.equal(await proc.terminate(), 0);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

// CreateSnapshot of a volume an NBD client holds open with writes it was acknowledged but never flushed. EBS's
// snapshot holds every acknowledged write; here the device is open in the NBD thread (src/protocols/nbd/thread),
// so the main thread, which takes the snapshot, asks that thread to flush it first (VolumeExportsService.flushElsewhere).
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { SERVE_ENV, eventually, nbdUrlOf } from '../../helpers/nbd-serve.js';
import { killAll, spawnServe } from '../../helpers/process.js';
import { nbdToolsMissing, runTool } from '../../helpers/nbd-tools.js';
import { TestServer, startServer } from '../../helpers/server.js';

const cli = spawnSync('aws', ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
if (cli.error && process.env.CI) throw new Error('the aws CLI cannot be run');
const skip = nbdToolsMissing() ?? (cli.error ? 'the aws CLI cannot be run' : false);

const NBD_CMD_WRITE = 1;
const NBD_CMD_READ = 0;
const NBD_CMD_DISC = 2;

/** The aws CLI against `endpoint`, JSON output parsed. */
function awsAt(endpoint: () => string) {
  return (args: string[]) =>
    new Promise<Record<string, unknown>>((resolve, reject) =>
      execFile('aws', ['--endpoint-url', endpoint(), '--output', 'json', ...args], { env: awsClientEnv(), timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`aws ${args.join(' ')}: ${err.message}: ${stderr}`)) : resolve(stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {}),
      ),
    );
}

/** Waits until DescribeSnapshots says the snapshot is completed. */
async function completed(aws: ReturnType<typeof awsAt>, snapshotId: string): Promise<void> {
  await eventually(async () => {
    const [s] = (await aws(['ec2', 'describe-snapshots', '--snapshot-ids', snapshotId])).Snapshots as Array<{ State: string }>;
    if (s?.State !== 'completed') throw new Error(`the snapshot is ${s?.State}`);
  }, 30_000);
}

describe('CreateSnapshot of a volume open over NBD with acknowledged, unflushed writes', { skip }, () => {
  let server: TestServer;
  const aws = awsAt(() => server.url);
  before(async () => {
    server = await startServer({ nbd: { host: '127.0.0.1', port: 0 } });
  });
  after(async () => {
    await server?.destroy();
  });

  it('the snapshot holds every write the still-connected client was acknowledged; a write after it does not', async () => {
    const volumeId = (await aws(['ec2', 'create-volume', '--size', '1', '--availability-zone', 'us-east-1a'])).VolumeId as string;
    await aws(['ec2', 'attach-volume', '--volume-id', volumeId, '--instance-id', 'i-0123456789abcdef0', '--device', '/dev/sdf']);

    const client = await RawNbdClient.connect(Number(new URL(server.nbdUrl!).port));
    await client.open(volumeId);
    // Unaligned writes, across a chunk boundary (64 KiB) and far into the volume; no flush, no FUA.
    const writes: Array<[number, number, number]> = [[4097, 5000, 0x41], [65536 - 300, 1000, 0x42], [300 * 1024 * 1024 + 7, 70000, 0x43]];
    let handle = 1n;
    for (const [offset, length, byte] of writes) {
      client.request(NBD_CMD_WRITE, handle, offset, length, { data: Buffer.alloc(length, byte) });
      const reply = await client.reply();
      assert.equal(reply.handle, handle);
      assert.equal(reply.error, 0, 'the write is acknowledged');
      handle++;
    }

    const snapshot = await aws(['ec2', 'create-snapshot', '--volume-id', volumeId, '--description', 'while open over NBD']);
    const snapshotId = snapshot.SnapshotId as string;
    await completed(aws, snapshotId);

    // The client is still connected and served: a write after the snapshot, read back on the same connection.
    client.request(NBD_CMD_WRITE, handle, 1024 * 1024, 4096, { data: Buffer.alloc(4096, 0x44) });
    assert.equal((await client.reply()).error, 0);
    handle++;
    client.request(NBD_CMD_READ, handle, 1024 * 1024, 4096);
    const read = await client.reply(new Map([[handle, 4096]]));
    assert.equal(read.error, 0);
    assert.ok(read.data!.equals(Buffer.alloc(4096, 0x44)));

    // A volume from the snapshot, attached and read through a real NBD client.
    const copyId = (await aws(['ec2', 'create-volume', '--snapshot-id', snapshotId, '--availability-zone', 'us-east-1a'])).VolumeId as string;
    await aws(['ec2', 'attach-volume', '--volume-id', copyId, '--instance-id', 'i-0123456789abcdef1', '--device', '/dev/sdf']);
    const read2 = await runTool('qemu-io', [
      '-f', 'raw', '-r',
      ...writes.flatMap(([offset, length, byte]) => ['-c', `read -P 0x${byte.toString(16)} ${offset} ${length}`]),
      '-c', 'read -P 0 0 4097',
      '-c', `read -P 0 ${1024 * 1024} 4096`,
      `${server.nbdUrl}/${copyId}`,
    ]);
    const out = read2.stdout + read2.stderr;
    assert.equal(read2.code, 0, out);
    assert.doesNotMatch(out, /Pattern verification failed/, out);
    assert.equal(out.match(/^read /gm)?.length, writes.length + 2, out);

    client.request(NBD_CMD_DISC, handle + 1n, 0, 0);
    await client.closed();
  });
});

describe('CreateSnapshot with several workers, whichever worker takes it, of a volume open over NBD in the NBD owner', { skip }, () => {
  let dataDir: string;
  let url = '';
  const aws = awsAt(() => url);
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'sr-nbd-snap-workers-'));
  });
  after(() => {
    killAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every snapshot holds the acknowledged, unflushed writes, also those taken by a worker that does not run NBD', async () => {
    const proc = await spawnServe(['--data-dir', dataDir, '--nbd-listen', '127.0.0.1:0', '--workers', '2'], SERVE_ENV);
    url = proc.url;
    const nbd = nbdUrlOf(proc);
    const volumeId = (await aws(['ec2', 'create-volume', '--size', '1', '--availability-zone', 'us-east-1a'])).VolumeId as string;
    await aws(['ec2', 'attach-volume', '--volume-id', volumeId, '--instance-id', 'i-0123456789abcdef0', '--device', '/dev/sdf']);
    const client = await RawNbdClient.connect(Number(new URL(nbd).port));
    await client.open(volumeId);
    let handle = 1n;
    const snapshots: string[] = [];
    // Each aws CLI call is a new connection, handed to the workers in turn: four snapshots reach both of them.
    for (let i = 0; i < 4; i++) {
      client.request(NBD_CMD_WRITE, handle, 65536 * i + 1000, 3000, { data: Buffer.alloc(3000, 0x61 + i) });
      assert.equal((await client.reply()).error, 0);
      handle++;
      snapshots.push((await aws(['ec2', 'create-snapshot', '--volume-id', volumeId])).SnapshotId as string);
    }
    client.request(NBD_CMD_DISC, handle, 0, 0);
    await client.closed();
    for (const [i, snapshotId] of snapshots.entries()) {
      await completed(aws, snapshotId);
      const copyId = (await aws(['ec2', 'create-volume', '--snapshot-id', snapshotId, '--availability-zone', 'us-east-1a'])).VolumeId as string;
      await aws(['ec2', 'attach-volume', '--volume-id', copyId, '--instance-id', 'i-0123456789abcdef1', '--device', '/dev/sdf']);
      const reads = Array.from({ length: i + 1 }, (_, j) => ['-c', `read -P 0x${(0x61 + j).toString(16)} ${65536 * j + 1000} 3000`]).flat();
      const r = await runTool('qemu-io', ['-f', 'raw', '-r', ...reads, '-c', `read -P 0 ${65536 * (i + 1) + 1000} 3000`, `${nbd}/${copyId}`]);
      assert.equal(r.code, 0, `snapshot ${i + 1}: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stdout, /Pattern verification failed/, `snapshot ${i + 1}: ${r.stdout}`);
      await aws(['ec2', 'detach-volume', '--volume-id', copyId]);
    }
    assert.equal(await proc.terminate(), 0);
    // The owner's device was reached on this node (over IPC): no node was asked through the volume's record, as a
    // device open on another node is (which would hold each snapshot up until that device's next check).
    const db = new Database(join(dataDir, 'strongroom.db'), { readonly: true });
    const record = JSON.parse(String((db.prepare('SELECT data FROM ebs_volumes WHERE volume_id = ?').get(volumeId) as { data: string }).data)) as { flushes?: unknown };
    db.close();
    assert.equal(record.flushes, undefined);
  });
});

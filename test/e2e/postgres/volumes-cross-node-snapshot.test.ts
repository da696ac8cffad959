// CreateSnapshot on one node of a volume an NBD client holds open on another node (two Strongroom servers on one
// PostgreSQL database). EBS's snapshot holds every write the client was acknowledged; the node taking it cannot
// reach the other node's device but through the volume's record: it asks for a flush there
// (VolumeExportsService.flushOnOtherNode), the device serves it at its next check and goes on, and the snapshot
// waits for it — but not for a node that is cut off (SIGSTOP) or dead (SIGKILL): bounded, the snapshot then holds
// what that node had committed.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT_KEY_FILE } from '../../../src/core/crypto/root-of-trust/file.js';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { SERVE_ENV, eventually, nbdUrlOf } from '../../helpers/nbd-serve.js';
import { nbdToolsMissing, runTool } from '../../helpers/nbd-tools.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { ServeProcess, killAll, spawnServe } from '../../helpers/process.js';
import { TestServer, startServer } from '../../helpers/server.js';

const cli = spawnSync('aws', ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
if (cli.error && process.env.CI) throw new Error('the aws CLI cannot be run');
const skip = postgresSkip() || (nbdToolsMissing() ?? (cli.error ? 'the aws CLI cannot be run' : false));

const NBD_CMD_READ = 0;
const NBD_CMD_WRITE = 1;
const NBD_CMD_DISC = 2;
const NBD_CMD_FLUSH = 3;

type Aws = (args: string[]) => Promise<Record<string, unknown>>;

/** The aws CLI against `endpoint`, JSON output parsed. */
function awsAt(endpoint: () => string): Aws {
  return (args) =>
    new Promise((resolve, reject) =>
      execFile('aws', ['--endpoint-url', endpoint(), '--output', 'json', ...args], { env: awsClientEnv(), timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`aws ${args.join(' ')}: ${err.message}: ${stderr}`)) : resolve(stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {}),
      ),
    );
}

/** A new attached volume (made through `aws`). */
async function attached(aws: Aws, instance = 'i-0123456789abcdef0'): Promise<string> {
  const volumeId = (await aws(['ec2', 'create-volume', '--size', '1', '--availability-zone', 'us-east-1a'])).VolumeId as string;
  await aws(['ec2', 'attach-volume', '--volume-id', volumeId, '--instance-id', instance, '--device', '/dev/sdf']);
  return volumeId;
}

/** A volume from the snapshot (once completed), attached, and qemu-io's output of `reads` of it through `nbdUrl`. */
async function readSnapshot(aws: Aws, nbdUrl: string, snapshotId: string, reads: string[]): Promise<string> {
  await eventually(async () => {
    const [s] = (await aws(['ec2', 'describe-snapshots', '--snapshot-ids', snapshotId])).Snapshots as Array<{ State: string }>;
    if (s?.State !== 'completed') throw new Error(`the snapshot is ${s?.State}`);
  }, 30_000);
  const copyId = (await aws(['ec2', 'create-volume', '--snapshot-id', snapshotId, '--availability-zone', 'us-east-1a'])).VolumeId as string;
  await aws(['ec2', 'attach-volume', '--volume-id', copyId, '--instance-id', 'i-0123456789abcdef1', '--device', '/dev/sdg']);
  const r = await runTool('qemu-io', ['-f', 'raw', '-r', ...reads.flatMap((c) => ['-c', c]), `${nbdUrl}/${copyId}`]);
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 0, out);
  assert.equal(out.match(/^read /gm)?.length, reads.length, out);
  await aws(['ec2', 'detach-volume', '--volume-id', copyId]);
  return out;
}

/** Writes `length` bytes of `byte` at `offset` through `client` (no FUA), or flushes; asserts the acknowledgement. */
async function send(client: RawNbdClient, handle: bigint, op: ['write', number, number, number] | ['flush']): Promise<void> {
  if (op[0] === 'flush') client.request(NBD_CMD_FLUSH, handle, 0, 0);
  else client.request(NBD_CMD_WRITE, handle, op[1], op[2], { data: Buffer.alloc(op[2], op[3]) });
  const reply = await client.reply();
  assert.equal(reply.handle, handle);
  assert.equal(reply.error, 0, `${op[0]} acknowledged`);
}

describe('CreateSnapshot on one node of a volume open over NBD on another node (PostgreSQL)', { skip }, () => {
  let a: TestServer;
  let b: ServeProcess;
  let bDir: string;
  const aws = awsAt(() => a.url);
  before(async () => {
    const databaseUrl = await (await postgresCluster()).createDatabase();
    a = await startServer({ databaseUrl, nbd: { host: '127.0.0.1', port: 0 } });
    bDir = mkdtempSync(join(tmpdir(), 'sr-pg-snap-node-b-'));
    // Node B: its own process (to be stopped and killed), on the same database and root of trust.
    b = await spawnServe(
      ['--data-dir', bDir, '--database-url', databaseUrl, '--root-of-trust-file', join(a.dataDir, ROOT_KEY_FILE), '--nbd-listen', '127.0.0.1:0'],
      SERVE_ENV,
    );
  });
  after(async () => {
    killAll();
    await a?.destroy();
    if (bDir) rmSync(bDir, { recursive: true, force: true });
  });

  it("the snapshot holds every write node B's still-connected client was acknowledged but never flushed; B's device goes on serving it", async () => {
    const volumeId = await attached(aws);
    const client = await RawNbdClient.connect(Number(new URL(nbdUrlOf(b)).port));
    await client.open(volumeId);
    // Unaligned writes across a chunk boundary (64 KiB) and far into the volume; no flush, no FUA.
    const writes: Array<[number, number, number]> = [[4097, 5000, 0x41], [65536 - 300, 1000, 0x42], [300 * 1024 * 1024 + 7, 70000, 0x43]];
    let handle = 1n;
    for (const [offset, length, byte] of writes) await send(client, handle++, ['write', offset, length, byte]);

    const snapshotId = (await aws(['ec2', 'create-snapshot', '--volume-id', volumeId, '--description', 'open on node B'])).SnapshotId as string;

    // A flush asked from elsewhere is not a stop: the client is still served, on the same connection.
    await send(client, handle++, ['write', 1024 * 1024, 4096, 0x44]);
    client.request(NBD_CMD_READ, handle, 1024 * 1024, 4096);
    const read = await client.reply(new Map([[handle, 4096]]));
    assert.equal(read.error, 0);
    assert.ok(read.data!.equals(Buffer.alloc(4096, 0x44)));
    handle++;

    // Read back on node A, through its own NBD server.
    const out = await readSnapshot(aws, a.nbdUrl!, snapshotId, [
      ...writes.map(([offset, length, byte]) => `read -P 0x${byte.toString(16)} ${offset} ${length}`),
      'read -P 0 0 4097',
      `read -P 0 ${1024 * 1024} 4096`,
    ]);
    assert.doesNotMatch(out, /Pattern verification failed/, out);

    client.request(NBD_CMD_DISC, handle, 0, 0);
    await client.closed();
  });

  it('a node that does not answer is not waited for: the snapshot is taken while B is stopped (SIGSTOP) and after it was killed (SIGKILL), holding what B flushed', async () => {
    const volumeId = await attached(aws, 'i-0123456789abcdef2');
    const client = await RawNbdClient.connect(Number(new URL(nbdUrlOf(b)).port));
    await client.open(volumeId);
    let handle = 1n;
    await send(client, handle++, ['write', 8192 + 3, 3000, 0x51]);
    await send(client, handle++, ['flush']);
    await send(client, handle++, ['write', 2 * 65536 + 11, 3000, 0x52]);
    const flushed = ['read -P 0x51 8195 3000'];

    // A hang guard only: the wait for a node that does not answer is bounded (max(5 s, 5 checks)).
    const guarded = async (what: string) => {
      const started = Date.now();
      const snapshotId = (await aws(['ec2', 'create-snapshot', '--volume-id', volumeId, '--description', what])).SnapshotId as string;
      assert.ok(Date.now() - started < 45_000, `CreateSnapshot took ${Date.now() - started} ms`);
      return snapshotId;
    };

    // Cut off: alive, its claim not yet lapsed, not answering.
    b.child.kill('SIGSTOP');
    const whileStopped = await guarded('node B stopped');
    assert.doesNotMatch(await readSnapshot(aws, a.nbdUrl!, whileStopped, flushed), /Pattern verification failed/);

    // Dead: its claim stays until its TTL, but is not waited for.
    b.child.kill('SIGKILL');
    await once(b.child, 'exit');
    client.destroy();
    const afterKill = await guarded('node B killed');
    assert.doesNotMatch(await readSnapshot(aws, a.nbdUrl!, afterKill, flushed), /Pattern verification failed/);
  });
});

// Seed 002's worked example ("you cannot toggle encryption on an existing EBS volume: create a snapshot, copy it
// with encryption under your CMK, create a volume from the encrypted snapshot, swap volumes") with the aws CLI for
// EC2 and KMS and a real NBD client (nbdcopy) for the data, as README's walkthrough runs it.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { LIBNBD_DEBUG, mustRun, nbdToolsMissing, runTool } from '../../helpers/nbd-tools.js';
import { TestServer, startServer } from '../../helpers/server.js';

const cli = spawnSync('aws', ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
if (cli.error && process.env.CI) throw new Error('the aws CLI cannot be run');
const skip = nbdToolsMissing() ?? (cli.error ? 'the aws CLI cannot be run' : false);

describe("seed 002's worked example through NBD: an unencrypted volume's data moved to a volume encrypted under a customer CMK", { skip }, () => {
  let server: TestServer;
  let dir: string;
  const aws = (args: string[]) =>
    new Promise<Record<string, unknown>>((resolve, reject) =>
      execFile('aws', ['--endpoint-url', server.url, '--output', 'json', ...args], { env: awsClientEnv(), timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`aws ${args.join(' ')}: ${err.message}: ${stderr}`)) : resolve(stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {}),
      ),
    );
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sr-nbd-seed002-'));
    server = await startServer({ nbd: { host: '127.0.0.1', port: 0 } });
  });
  after(async () => {
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a pattern through NBD, snapshots, copies the snapshot encrypted under the CMK, and reads the pattern back from the new volume', async () => {
    const keyArn = ((await aws(['kms', 'create-key', '--description', 'payroll volumes'])).KeyMetadata as { Arn: string }).Arn;
    const plain = await aws(['ec2', 'create-volume', '--size', '1', '--availability-zone', 'us-east-1a']);
    assert.equal(plain.Encrypted, false);
    const oldId = plain.VolumeId as string;
    await aws(['ec2', 'attach-volume', '--volume-id', oldId, '--instance-id', 'i-0123456789abcdef0', '--device', '/dev/sdf']);

    // A known pattern, written as a disk client writes it (flushed before nbdcopy exits).
    const pattern = randomBytes(5 * 1024 * 1024 + 4097);
    writeFileSync(join(dir, 'pattern'), pattern);
    await mustRun('nbdcopy', ['--flush', join(dir, 'pattern'), `${server.nbdUrl}/${oldId}`]);

    const snap = (await aws(['ec2', 'create-snapshot', '--volume-id', oldId, '--description', 'before encryption'])).SnapshotId as string;
    const copy = await aws(['ec2', 'copy-snapshot', '--source-region', 'us-east-1', '--source-snapshot-id', snap, '--encrypted', '--kms-key-id', keyArn]);
    const encSnap = copy.SnapshotId as string;

    const encrypted = await aws(['ec2', 'create-volume', '--snapshot-id', encSnap, '--availability-zone', 'us-east-1a']);
    assert.equal(encrypted.Encrypted, true);
    assert.equal(encrypted.KmsKeyId, keyArn);
    const newId = encrypted.VolumeId as string;

    // Swap: the old volume off the instance, the encrypted one on.
    await aws(['ec2', 'detach-volume', '--volume-id', oldId]);
    await aws(['ec2', 'attach-volume', '--volume-id', newId, '--instance-id', 'i-0123456789abcdef0', '--device', '/dev/sdf']);

    await mustRun('sh', ['-c', `nbdcopy '${server.nbdUrl}/${newId}' - | head -c ${pattern.length} > '${join(dir, 'back')}'`]);
    assert.ok(readFileSync(join(dir, 'back')).equals(pattern), 'the encrypted volume holds the pattern');

    // The detached volume is no export any more.
    let gone = false;
    for (let i = 0; i < 20 && !gone; i++) {
      const r = await runTool('nbdinfo', [`${server.nbdUrl}/${oldId}`], 60_000, LIBNBD_DEBUG);
      gone = r.code !== 0 && /no attached volume/.test(r.stderr);
      if (!gone) await sleep(100);
    }
    assert.ok(gone, 'the detached volume is an unknown export');
  });
});

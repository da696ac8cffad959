// DetachVolume (boto3) of a volume whose NBD export a client has open: without Force the device flushes what it
// acknowledged and stops; with Force it stops at once and unflushed writes are lost (AWS: "data loss or a
// corrupted file system"). Either way the client gets ESHUTDOWN and the volume is 'available'.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { boto3Unavailable, runBoto3 } from '../../helpers/boto3.js';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { mustRun, nbdToolsMissing } from '../../helpers/nbd-tools.js';
import { TestServer, startServer } from '../../helpers/server.js';

const skip = nbdToolsMissing() ?? boto3Unavailable();
const ESHUTDOWN = 108;
const WRITE = 1;
const READ = 0;
const INSTANCE = 'i-0123456789abcdef0';

const CREATE = String.raw`
ec2 = client('ec2')
v = ec2.create_volume(Size=1, AvailabilityZone='us-east-1a')['VolumeId']
ec2.attach_volume(VolumeId=v, InstanceId=args['instance'], Device='/dev/sdf')
out['volumeId'] = v
`;

const DETACH = String.raw`
ec2 = client('ec2')
kw = {'Force': True} if args['force'] else {}
out['detach'] = ec2.detach_volume(VolumeId=args['volumeId'], InstanceId=args['instance'], **kw)['State']
out['state'] = ec2.describe_volumes(VolumeIds=[args['volumeId']])['Volumes'][0]['State']
`;

const DETACH_TIMED = String.raw`
import time
ec2 = client('ec2')
ec2.describe_volumes(VolumeIds=[args['volumeId']])
t = time.monotonic()
out['detach'] = ec2.detach_volume(VolumeId=args['volumeId'], InstanceId=args['instance'])['State']
out['seconds'] = time.monotonic() - t
out['state'] = ec2.describe_volumes(VolumeIds=[args['volumeId']])['Volumes'][0]['State']
`;

const ATTACH = String.raw`
ec2 = client('ec2')
out['attach'] = ec2.attach_volume(VolumeId=args['volumeId'], InstanceId=args['instance'], Device='/dev/sdf')['State']
`;

describe('DetachVolume of a volume an NBD client has open (boto3 and real NBD clients)', { skip }, () => {
  let server: TestServer;
  let port: number;
  before(async () => {
    server = await startServer({ nbd: { host: '127.0.0.1', port: 0 }, volumes: { checkEveryMs: 200 } });
    port = Number(new URL(server.nbdUrl!).port);
  });
  after(async () => {
    await server?.destroy();
  });

  const ec2 = (scenario: string, args: Record<string, unknown>) => runBoto3(server.url, scenario, { instance: INSTANCE, ...args });
  const url = (volumeId: string) => `${server.nbdUrl}/${volumeId}`;

  /** A client with 64 KiB of `flushed` written and flushed, then 64 KiB of `unflushed` over it, acknowledged and not flushed. */
  async function clientWithUnflushedWrite(volumeId: string, flushed: number, unflushed: number): Promise<RawNbdClient> {
    await mustRun('qemu-io', ['-f', 'raw', '-c', `write -P ${flushed} 0 65536`, '-c', 'flush', url(volumeId)]);
    const c = await RawNbdClient.connect(port);
    await c.open(volumeId, { structured: true });
    c.request(WRITE, 1n, 0, 65536, { data: Buffer.alloc(65536, unflushed) });
    assert.equal((await c.reply()).error, 0, 'the write is acknowledged');
    c.request(READ, 2n, 0, 16);
    assert.deepEqual((await c.reply()).data, Buffer.alloc(16, unflushed), 'and read back (not flushed)');
    return c;
  }

  async function readPattern(volumeId: string, pattern: number): Promise<string> {
    return mustRun('qemu-io', ['-f', 'raw', '-r', '-c', `read -P ${pattern} 0 65536`, url(volumeId)]);
  }

  it('with Force: the open client gets ESHUTDOWN at once, the volume is available, and after an attach it reads the last flushed data (the unflushed write is lost)', async () => {
    const { volumeId } = await ec2(CREATE, {});
    const c = await clientWithUnflushedWrite(volumeId, 0x11, 0x22);

    const out = await ec2(DETACH, { volumeId, force: true });
    assert.deepEqual(out, { detach: 'detaching', state: 'available' });
    c.request(WRITE, 3n, 65536, 4, { data: Buffer.from('late') });
    const w = await c.reply();
    assert.equal(w.error, ESHUTDOWN, 'the export stopped');
    assert.match(w.data!.toString(), /was detached \(forced/);
    c.request(2, 4n, 0, 0);
    await c.closed();

    assert.equal((await ec2(ATTACH, { volumeId })).attach, 'attaching');
    const read = await readPattern(volumeId, 0x11);
    assert.match(read, /read 65536\/65536 bytes/);
    assert.doesNotMatch(read, /Pattern verification failed/, 'the last flushed data, not the unflushed write');
  });

  it('with Force while nbdcopy is writing: nbdcopy fails, the volume is available and can be attached and read again', async () => {
    const { volumeId } = await ec2(CREATE, {});
    await mustRun('qemu-io', ['-f', 'raw', '-c', 'write -P 0x44 0 65536', '-c', 'flush', url(volumeId)]);
    // nbdcopy streams stdin onto the volume; the test feeds it slowly, so it is mid-copy at the detach.
    const copy = spawn('nbdcopy', ['--synchronous', '-', url(volumeId)], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    copy.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => copy.on('close', (code) => resolve(code)));
    copy.stdin.on('error', () => undefined);
    const block = Buffer.alloc(1 << 20, 0x55);
    const feed = (async () => {
      for (let i = 0; i < 512 && copy.exitCode === null && !copy.stdin.destroyed; i++) {
        copy.stdin.write(block);
        await sleep(20);
      }
      copy.stdin.end();
    })();
    await sleep(600);
    assert.equal(copy.exitCode, null, 'nbdcopy is still copying at the detach');

    const out = await ec2(DETACH, { volumeId, force: true });
    assert.deepEqual(out, { detach: 'detaching', state: 'available' });
    const code = await exited;
    await feed;
    assert.notEqual(code, 0, `nbdcopy fails once the export stops: ${stderr}`);
    assert.match(stderr, /shutdown|ESHUTDOWN|endpoint/i, stderr);

    assert.equal((await ec2(ATTACH, { volumeId })).attach, 'attaching');
    const info = await mustRun('nbdinfo', ['--size', url(volumeId)]);
    assert.equal(info.trim(), String(2 ** 30), 'the volume is exported again');
  });

  it('without Force: the device flushes what it acknowledged and stops, the volume is available, and the acknowledged write is kept — even with the stopped client still connected, the volume opens again', async () => {
    const { volumeId } = await ec2(CREATE, {});
    const c = await clientWithUnflushedWrite(volumeId, 0x11, 0x33);

    const out = await ec2(DETACH, { volumeId, force: false });
    assert.deepEqual(out, { detach: 'detaching', state: 'available' });
    c.request(READ, 3n, 0, 16);
    const r = await c.reply();
    assert.equal(r.error, ESHUTDOWN, 'the export stopped');
    assert.match(r.data!.toString(), /was detached/);

    // The stopped client has not disconnected: its claim was given up all the same.
    assert.equal((await ec2(ATTACH, { volumeId })).attach, 'attaching');
    const read = await readPattern(volumeId, 0x33);
    assert.match(read, /read 65536\/65536 bytes/);
    assert.doesNotMatch(read, /Pattern verification failed/, 'the write acknowledged before the detach is kept');
    c.request(2, 4n, 0, 0);
    await c.closed();
  });
});

describe('DetachVolume without Force of a volume open on another node', { skip }, () => {
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    // Two servers on one data dir stand for two nodes: the client is on b's NBD port, DetachVolume reaches a.
    a = await startServer({ nbd: { host: '127.0.0.1', port: 0 }, volumes: { checkEveryMs: 200 }, leases: { holder: 'node-a' } });
    b = await startServer({ dataDir: a.dataDir, nbd: { host: '127.0.0.1', port: 0 }, volumes: { checkEveryMs: 200 }, leases: { holder: 'node-b' } });
  });
  after(async () => {
    await b?.stop();
    await a?.destroy();
  });

  it("waits until that node's device has flushed what it acknowledged and stopped: the write is kept, the client gets ESHUTDOWN", async () => {
    const { volumeId } = await runBoto3(a.url, CREATE, { instance: INSTANCE });
    const c = await RawNbdClient.connect(Number(new URL(b.nbdUrl!).port));
    await c.open(volumeId, { structured: true });
    c.request(WRITE, 1n, 0, 65536, { data: Buffer.alloc(65536, 0x66) });
    assert.equal((await c.reply()).error, 0);

    const out = await runBoto3(a.url, DETACH_TIMED, { instance: INSTANCE, volumeId, force: false });
    assert.deepEqual({ detach: out.detach, state: out.state }, { detach: 'detaching', state: 'available' });
    c.request(READ, 2n, 0, 16);
    assert.equal((await c.reply()).error, ESHUTDOWN);

    await runBoto3(a.url, ATTACH, { instance: INSTANCE, volumeId });
    const read = await mustRun('qemu-io', ['-f', 'raw', '-r', '-c', 'read -P 0x66 0 65536', `${a.nbdUrl}/${volumeId}`]);
    assert.match(read, /read 65536\/65536 bytes/);
    assert.doesNotMatch(read, /Pattern verification failed/, "the other node's acknowledged write was made durable before the detach completed");
    c.request(2, 3n, 0, 0);
    await c.closed();
  });
});

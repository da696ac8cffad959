import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { LIBNBD_DEBUG, mustRun, nbdToolsMissing, runTool } from '../../helpers/nbd-tools.js';
import { TestServer, startServer } from '../../helpers/server.js';
import { attachedVolume, SCOPE } from '../../helpers/volumes.js';

const skip = nbdToolsMissing() ?? false;
const GiB = 2 ** 30;

describe('attached volumes as NBD disks, with real clients (nbdinfo, nbdcopy, qemu-io, e2fsprogs)', { skip }, () => {
  let server: TestServer;
  let dir: string;
  let volumeId: string;
  let url: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sr-nbd-e2e-'));
    server = await startServer({ nbd: { host: '127.0.0.1', port: 0 } });
    volumeId = (await attachedVolume(server)).volumeId;
    url = `${server.nbdUrl}/${volumeId}`;
  });
  after(async () => {
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('nbdinfo lists the attached volume and reports its size and what the export supports', async () => {
    assert.match(server.nbdUrl!, /^nbd:\/\/127\.0\.0\.1:\d+$/);
    const list = await mustRun('nbdinfo', ['--list', server.nbdUrl!]);
    assert.match(list, new RegExp(`export="${volumeId}"`));
    const info = JSON.parse(await mustRun('nbdinfo', ['--json', url])) as { exports: Array<Record<string, unknown>> };
    const e = info.exports[0]!;
    assert.equal(e['export-size'], 1 * GiB);
    assert.equal(e.is_read_only, false);
    assert.equal(e.can_flush, true);
    assert.equal(e.can_fua, true);
    assert.equal(e.can_trim, true);
    assert.equal(e.can_zero, true);
    assert.equal(e.can_multi_conn, false);
    assert.equal(e.block_size_minimum, 1);
    assert.equal(e.block_size_maximum, 32 * 1024 * 1024);
  });

  it('a volume that is not attached, or does not exist, is an unknown export', async () => {
    const app = server.app;
    const attached = await attachedVolume(server);
    await app.volumes.detach(SCOPE, attached.volumeId);
    for (const id of [attached.volumeId, 'vol-0123456789abcdef0', 'not-a-volume']) {
      const r = await runTool('nbdinfo', [`${server.nbdUrl}/${id}`], 60_000, LIBNBD_DEBUG);
      assert.notEqual(r.code, 0, id);
      // NBD_REP_ERR_UNKNOWN, which libnbd reports as ENOENT.
      assert.match(r.stderr, /server replied with error to opt_go request: No such file or directory/, r.stderr);
      assert.match(r.stderr, new RegExp(`server error message: no attached volume ${id}`), r.stderr);
    }
    const list = await mustRun('nbdinfo', ['--list', server.nbdUrl!]);
    assert.ok(!list.includes(attached.volumeId), 'a detached volume is not listed');
  });

  it('nbdcopy writes a known pattern and reads the same bytes back', async () => {
    const pattern = randomBytes(8 * 1024 * 1024 + 123);
    writeFileSync(join(dir, 'pattern'), pattern);
    await mustRun('nbdcopy', [join(dir, 'pattern'), url]);
    // The whole volume is 1 GiB: read back only the pattern's length.
    await mustRun('sh', ['-c', `nbdcopy '${url}' - | head -c ${pattern.length} > '${join(dir, 'back')}'`]);
    assert.ok(readFileSync(join(dir, 'back')).equals(pattern));
  });

  it('qemu-io writes and reads at odd offsets and lengths, FUA included; what it wrote reads back through nbdcopy', async () => {
    const out = await mustRun('qemu-io', [
      '-f', 'raw',
      '-c', 'write -P 0x5a 12345 7777',
      '-c', 'write -f -P 0xa7 1048575 3',
      '-c', 'write -z 20000 100',
      '-c', 'flush',
      '-c', 'read -P 0x5a 12345 7655',
      '-c', 'read -P 0 20000 100',
      '-c', 'read -P 0x5a 20100 22',
      '-c', 'read -P 0xa7 1048575 3',
      url,
    ]);
    assert.doesNotMatch(out, /Pattern verification failed|error/i, out);
    await mustRun('sh', ['-c', `nbdcopy '${url}' - | head -c ${1 << 21} > '${join(dir, 'head')}'`]);
    const got = readFileSync(join(dir, 'head'));
    const expected = Buffer.alloc(7777, 0x5a);
    expected.fill(0, 20000 - 12345, 20100 - 12345);
    assert.ok(got.subarray(12345, 12345 + 7777).equals(expected));
    assert.ok(got.subarray(1048575, 1048578).equals(Buffer.alloc(3, 0xa7)));
    const info = await mustRun('qemu-img', ['info', '-f', 'raw', url]);
    assert.match(info, /virtual size: 1 GiB/);
  });

  it('an ext4 file system made with mke2fs -d, copied onto the volume and back, passes e2fsck and its files read back', async () => {
    // No /dev/nbd here (no kernel module), so no mount: the image goes through the export as a disk would.
    const content = join(dir, 'fs');
    mkdirSync(join(content, 'sub'), { recursive: true });
    const text = `strongroom volume ${randomBytes(8).toString('hex')}\n`;
    writeFileSync(join(content, 'file'), text);
    writeFileSync(join(content, 'sub', 'big'), randomBytes(3 * 1024 * 1024));
    const image = join(dir, 'fs.img');
    await mustRun('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', content, image, '32M']);
    await mustRun('nbdcopy', [image, url]);
    const back = join(dir, 'fs-back.img');
    await mustRun('sh', ['-c', `nbdcopy '${url}' - | head -c ${32 * 1024 * 1024} > '${back}'`]);
    const fsck = await runTool('e2fsck', ['-f', '-n', back]);
    assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
    assert.equal(await mustRun('debugfs', ['-R', 'cat /file', back]), text);
    const big = await mustRun('sh', ['-c', `debugfs -R 'cat /sub/big' '${back}' 2>/dev/null | sha256sum`]);
    const want = await mustRun('sha256sum', [join(content, 'sub', 'big')]);
    assert.equal(big.split(' ')[0], want.split(' ')[0]);
  });

  it('a second client while one has the export open is refused, not served beside it; once the first leaves it is served', async () => {
    const first = await RawNbdClient.connect(Number(new URL(server.nbdUrl!).port));
    await first.open(volumeId);
    try {
      const r = await runTool('nbdinfo', [url], 60_000, LIBNBD_DEBUG);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`server error message: ${volumeId} is open by another client`), r.stderr);
    } finally {
      first.request(2, 1n, 0, 0); // NBD_CMD_DISC
      await first.closed();
    }
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) {
      ok = (await runTool('nbdinfo', [url])).code === 0;
      if (!ok) await sleep(100);
    }
    assert.ok(ok, 'served again after the first client disconnected');
  });
});

import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { LIBNBD_DEBUG, mustRun, nbdToolsMissing, runTool } from '../../helpers/nbd-tools.js';
import { TestServer, startServer } from '../../helpers/server.js';
import { attachedVolume } from '../../helpers/volumes.js';

const skip = nbdToolsMissing() ?? false;
const ESHUTDOWN = 108;

describe("an encrypted volume's NBD export when its CMK is disabled", { skip }, () => {
  let server: TestServer;
  before(async () => {
    // The device re-checks its CMK at most this often.
    server = await startServer({ nbd: { host: '127.0.0.1', port: 0 }, volumes: { checkEveryMs: 200 } });
  });
  after(async () => {
    await server?.destroy();
  });

  it('the open client gets ESHUTDOWN (with the reason) instead of I/O, new clients are refused, and it serves again once the CMK is enabled', async () => {
    const kms = server.kms();
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const { volumeId } = await attachedVolume(server, { encrypted: true, kmsKeyId: keyId });
    const url = `${server.nbdUrl}/${volumeId}`;
    await mustRun('qemu-io', ['-f', 'raw', '-c', 'write -P 0x77 0 65536', '-c', 'flush', url]);

    const c = await RawNbdClient.connect(Number(new URL(server.nbdUrl!).port));
    await c.open(volumeId, { structured: true });
    c.request(0, 1n, 0, 16);
    assert.deepEqual((await c.reply()).data, Buffer.alloc(16, 0x77));

    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    await sleep(400);
    c.request(1, 2n, 100, 4, { data: Buffer.from('nope') });
    const w = await c.reply();
    assert.equal(w.error, ESHUTDOWN);
    assert.match(w.data!.toString(), /disabled|not usable|KMS|key/i);
    c.request(0, 3n, 0, 16);
    assert.equal((await c.reply()).error, ESHUTDOWN, 'reads stop too: the data key is gone');
    c.request(2, 4n, 0, 0);
    await c.closed();

    const refused = await runTool('nbdinfo', [url], 60_000, LIBNBD_DEBUG);
    assert.notEqual(refused.code, 0, 'a new client is refused while the CMK is disabled');

    await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    let out = '';
    for (let i = 0; i < 30 && !out; i++) {
      out = await mustRun('qemu-io', ['-f', 'raw', '-r', '-c', 'read -P 0x77 0 65536', url]).catch(() => '');
      if (!out) await sleep(200);
    }
    assert.match(out, /read 65536\/65536 bytes/);
    assert.doesNotMatch(out, /Pattern verification failed/);
  });
});

// The NBD server runs in a thread of its own (src/protocols/nbd/thread); its log records are sent to the main
// thread's logger (the server's one log output) with their level and fields, and never carry a volume's data
// key or the data written.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RawNbdClient } from '../../helpers/nbd-client.js';
import { eventually } from '../../helpers/nbd-serve.js';
import { nbdToolsMissing } from '../../helpers/nbd-tools.js';
import { VolumeExportsService } from '../../../src/core/volumes/volume-exports.js';
import { TestServer, startServer } from '../../helpers/server.js';
import { attachedVolume } from '../../helpers/volumes.js';

const skip = nbdToolsMissing() ?? false;

interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

describe("the NBD thread's logs", { skip }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ nbd: { host: '127.0.0.1', port: 0 } });
  });
  after(async () => {
    await server?.destroy();
  });

  const records = (): LogRecord[] => server.logs.join('').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LogRecord);

  it("a client breaking the protocol is logged in the server's log with its fields; no data key or written data is in the log", async () => {
    const { volumeId } = await attachedVolume(server, { encrypted: true });
    const client = await RawNbdClient.connect(Number(new URL(server.nbdUrl!).port));
    await client.open(volumeId);
    const secret = Buffer.from(`nbd-log-plaintext-${randomBytes(16).toString('hex')}`);
    const data = Buffer.alloc(3 * 65536, 0);
    for (let at = 0; at + secret.length <= data.length; at += 4096) secret.copy(data, at);
    client.request(1, 1n, 12345, data.length, { data, flags: 1 }); // NBD_CMD_WRITE with FUA
    assert.equal((await client.reply()).error, 0);
    // A request with a wrong magic: the server closes the connection.
    client.stream.write(Buffer.alloc(28, 0xee));
    assert.ok(await client.closed(), 'the server closes the connection');

    const broke = await eventually(async () => {
      const r = records().find((l) => l.msg === 'nbd: closing a connection that broke the protocol');
      if (!r) throw new Error('not logged (yet)');
      return r;
    }, 5_000);
    assert.equal(broke.level, 30, 'at info');
    assert.equal(broke.export, volumeId);
    assert.equal(broke.reason, 'bad request magic');
    const connected = records().find((l) => l.msg === 'nbd: client connected');
    assert.equal(connected?.export, volumeId);
    assert.equal(connected?.remote, '127.0.0.1');
    assert.ok(records().some((l) => l.msg === 'nbd: client disconnected' && l.export === volumeId));

    // The volume's data key as the main thread hands it to the NBD thread, once the client's claim is released.
    const session = await eventually(async () => (await (server.app.volumeExports as VolumeExportsService).openSession(volumeId))!, 5_000);
    try {
      const key = Buffer.from(session.dataKey.reveal());
      assert.equal(key.length, 32);
      const log = server.logs.join('');
      for (const encoding of ['hex', 'base64', 'base64url'] as const) {
        assert.ok(!log.includes(key.toString(encoding)), `the data key (${encoding}) is in the log`);
        assert.ok(!log.includes(secret.toString(encoding)), `the written data (${encoding}) is in the log`);
      }
      assert.ok(!log.includes(secret.toString('utf8')), 'the written data is in the log');
      key.fill(0);
    } finally {
      session.dataKey.wipe();
      await session.closed();
    }
  });
});

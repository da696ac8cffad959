import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { VolumeIoError } from '../../../src/core/volumes/block-device.js';
import { NbdServer, NbdServerOptions } from '../../../src/protocols/nbd/server.js';
import { FileBlockDevice, FileExports } from '../../helpers/file-block-device.js';
import { RawNbdClient } from '../../helpers/nbd-client.js';

const log = pino({ level: 'silent' });
const MiB = 1 << 20;
const SIZE = 8 * MiB;
const dirs: string[] = [];
const servers: NbdServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

// Option, reply, command numbers (proto.md "Values").
const OPT = { EXPORT_NAME: 1, ABORT: 2, LIST: 3, STARTTLS: 5, INFO: 6, GO: 7, STRUCTURED_REPLY: 8, LIST_META_CONTEXT: 9, SET_META_CONTEXT: 10, EXTENDED_HEADERS: 11 };
const REP = { ACK: 1, SERVER: 2, INFO: 3, META_CONTEXT: 4, ERR_UNSUP: 0x80000001, ERR_POLICY: 0x80000002, ERR_INVALID: 0x80000003, ERR_TLS_REQD: 0x80000005, ERR_UNKNOWN: 0x80000006 };
const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4, CACHE: 5, WRITE_ZEROES: 6, BLOCK_STATUS: 7 };
const E = { EIO: 5, EINVAL: 22, ENOSPC: 28, ESHUTDOWN: 108 };

async function start(options: Partial<NbdServerOptions> = {}, volumes = ['vol-0a', 'vol-0b']): Promise<{ port: number; exports: FileExports; files: Map<string, string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sr-nbd-'));
  dirs.push(dir);
  const exports = new FileExports();
  const files = new Map<string, string>();
  for (const v of volumes) {
    const path = join(dir, v);
    writeFileSync(path, Buffer.alloc(0));
    exports.add(v, path, SIZE);
    files.set(v, path);
  }
  const server = new NbdServer({ exports, log, ...options });
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { port, exports, files };
}

/** Writes then reads back through one connection, returning what was read. */
async function roundTrip(c: RawNbdClient, offset: number, data: Buffer): Promise<Buffer> {
  c.request(CMD.WRITE, 1n, offset, data.length, { data });
  assert.equal((await c.reply()).error, 0);
  c.request(CMD.READ, 2n, offset, data.length);
  const r = await c.reply(new Map([[2n, data.length]]));
  assert.equal(r.error, 0);
  return r.data!;
}

describe('NBD handshake (fixed newstyle)', () => {
  let port: number;
  before(async () => ({ port } = await start()));

  it('greets with NBDMAGIC/IHAVEOPT and offers fixed newstyle and no-zeroes', async () => {
    const c = await RawNbdClient.connect(port);
    assert.equal(await c.greet(), 0b11);
    c.destroy();
  });

  it('NBD_OPT_LIST names the exports, then acknowledges', async () => {
    const c = await RawNbdClient.connect(port);
    await c.greet();
    c.sendOption(OPT.LIST);
    const replies = await c.optionReplies();
    assert.deepEqual(replies.map((r) => r.type), [REP.SERVER, REP.SERVER, REP.ACK]);
    assert.deepEqual(replies.slice(0, 2).map((r) => r.data.subarray(4, 4 + r.data.readUInt32BE(0)).toString()), ['vol-0a', 'vol-0b']);
    c.sendOption(OPT.LIST, Buffer.from('x'));
    assert.equal((await c.optionReply()).type, REP.ERR_INVALID);
    c.destroy();
  });

  it('NBD_OPT_INFO gives size, transmission flags and block sizes (min 1, preferred 4096, max 32 MiB), and the export stays closed', async () => {
    const { port, exports } = await start();
    const c = await RawNbdClient.connect(port);
    await c.greet();
    c.sendOption(OPT.INFO, RawNbdClient.infoRequest('vol-0a', [1, 3]));
    const replies = await c.optionReplies();
    assert.equal(replies.at(-1)!.type, REP.ACK);
    const infos = new Map(replies.filter((r) => r.type === REP.INFO).map((r) => [r.data.readUInt16BE(0), r.data.subarray(2)]));
    assert.equal(infos.get(0)!.readBigUInt64BE(0), BigInt(SIZE));
    // HAS_FLAGS | SEND_FLUSH | SEND_FUA | SEND_TRIM | SEND_WRITE_ZEROES; not READ_ONLY, not CAN_MULTI_CONN (one client at a time).
    assert.equal(infos.get(0)!.readUInt16BE(8), 0b1101101);
    assert.equal(infos.get(1)!.toString(), 'vol-0a');
    assert.deepEqual([0, 4, 8].map((o) => infos.get(3)!.readUInt32BE(o)), [1, 4096, 32 * MiB]);
    assert.equal(exports.open_.size, 0);
    c.destroy();
  });

  it('NBD_OPT_GO for a volume that is not attached answers NBD_REP_ERR_UNKNOWN and negotiation goes on', async () => {
    const c = await RawNbdClient.connect(port);
    await c.greet();
    c.sendOption(OPT.GO, RawNbdClient.infoRequest('vol-nope'));
    const r = await c.optionReply();
    assert.equal(r.type, REP.ERR_UNKNOWN);
    assert.match(r.data.toString(), /vol-nope/);
    c.sendOption(OPT.GO, RawNbdClient.infoRequest(''));
    assert.equal((await c.optionReply()).type, REP.ERR_UNKNOWN);
    assert.equal((await c.go('vol-0b')).size, BigInt(SIZE));
    c.destroy();
  });

  it('malformed NBD_OPT_GO data answers NBD_REP_ERR_INVALID', async () => {
    const c = await RawNbdClient.connect(port);
    await c.greet();
    const bad = [Buffer.alloc(3), Buffer.from([0, 0, 0, 99, 1, 2]), Buffer.concat([RawNbdClient.infoRequest('vol-0a', [3]), Buffer.from([0])]), RawNbdClient.infoRequest('vol\u00000a')];
    for (const data of bad) {
      c.sendOption(OPT.GO, data);
      assert.equal((await c.optionReply()).type, REP.ERR_INVALID);
    }
    c.destroy();
  });

  it('NBD_OPT_EXPORT_NAME of an unknown export closes the connection (it cannot answer an error)', async () => {
    const c = await RawNbdClient.connect(port);
    await c.greet();
    c.sendOption(OPT.EXPORT_NAME, Buffer.from('vol-nope'));
    assert.equal(await c.closed(), true);
  });

  it('NBD_OPT_EXPORT_NAME of an attached volume enters transmission (size, flags, no zeroes when negotiated)', async () => {
    for (const flags of [1, 3]) {
      const c = await RawNbdClient.connect(port);
      await c.greet(flags);
      c.sendOption(OPT.EXPORT_NAME, Buffer.from('vol-0a'));
      const tail = await c.reader.read(flags === 3 ? 10 : 134);
      assert.equal(tail.readBigUInt64BE(0), BigInt(SIZE));
      assert.equal(tail.readUInt16BE(8) & 1, 1);
      assert.deepEqual(await roundTrip(c, 100, Buffer.from('hello')), Buffer.from('hello'));
      c.request(CMD.DISC, 9n, 0, 0);
      assert.equal(await c.closed(), true);
    }
  });

  it('NBD_OPT_ABORT is acknowledged and the connection closed; unknown options are NBD_REP_ERR_UNSUP; STARTTLS without TLS is NBD_REP_ERR_POLICY', async () => {
    const c = await RawNbdClient.connect(port);
    await c.greet();
    c.sendOption(OPT.EXTENDED_HEADERS);
    assert.equal((await c.optionReply()).type, REP.ERR_UNSUP);
    c.sendOption(4242);
    assert.equal((await c.optionReply()).type, REP.ERR_UNSUP);
    c.sendOption(OPT.STARTTLS);
    assert.equal((await c.optionReply()).type, REP.ERR_POLICY);
    c.sendOption(OPT.ABORT);
    assert.equal((await c.optionReply()).type, REP.ACK);
    assert.equal(await c.closed(), true);
  });

  it('a client setting unknown client flags, a bad option magic or an oversized option is disconnected', async () => {
    const c1 = await RawNbdClient.connect(port);
    await c1.greet(0x10);
    assert.equal(await c1.closed(), true);
    const c2 = await RawNbdClient.connect(port);
    await c2.greet();
    c2.stream.write(Buffer.alloc(16, 0x41));
    assert.equal(await c2.closed(), true);
    const c3 = await RawNbdClient.connect(port);
    await c3.greet();
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(0x49484156454f5054n, 0);
    h.writeUInt32BE(OPT.GO, 8);
    h.writeUInt32BE(0xffffffff, 12);
    c3.stream.write(h);
    assert.equal(await c3.closed(), true);
  });

  it('a second client of an export in use is refused (NBD_REP_ERR_POLICY), and admitted once the first left', async () => {
    const { port } = await start();
    const first = await RawNbdClient.connect(port);
    await first.open('vol-0a');
    const second = await RawNbdClient.connect(port);
    await second.greet();
    second.sendOption(OPT.GO, RawNbdClient.infoRequest('vol-0a'));
    const r = await second.optionReply();
    assert.equal(r.type, REP.ERR_POLICY);
    assert.match(r.data.toString(), /in use/);
    first.request(CMD.DISC, 1n, 0, 0);
    await first.closed();
    await sleep(50);
    assert.equal((await second.go('vol-0a')).size, BigInt(SIZE));
    second.destroy();
  });

  it('a client reconnecting right after NBD_CMD_DISC finds its export free, though the device was still closing (flushing)', async () => {
    const { port, exports } = await start();
    const first = await RawNbdClient.connect(port);
    await first.open('vol-0a');
    (exports.open_.get('vol-0a') as FileBlockDevice).closeDelayMs = 300;
    first.request(CMD.DISC, 1n, 0, 0);
    first.destroy();
    const again = await RawNbdClient.connect(port);
    assert.equal((await again.open('vol-0a')).size, BigInt(SIZE));
    again.destroy();
  });

  it('a client that never finishes the handshake is disconnected after the handshake timeout', async () => {
    const { port } = await start({ handshakeTimeoutMs: 200 });
    const c = await RawNbdClient.connect(port);
    await c.greet();
    assert.equal(await c.closed(1000), true);
  });
});

describe('NBD transmission', () => {
  it('reads and writes of any size and alignment reach the device at the right bytes', async () => {
    const { port, files } = await start();
    const c = await RawNbdClient.connect(port);
    await c.open('vol-0a');
    const cases: Array<[number, number]> = [[0, 1], [1, 511], [4095, 2], [12345, 70000], [SIZE - 3, 3], [MiB + 17, 3 * MiB + 5]];
    for (const [offset, length] of cases) {
      const data = randomBytes(length);
      assert.deepEqual(await roundTrip(c, offset, data), data, `${offset}+${length}`);
      assert.deepEqual(readFileSync(files.get('vol-0a')!).subarray(offset, offset + length), data);
    }
    c.destroy();
  });

  it('structured replies: a read is one NBD_REPLY_TYPE_OFFSET_DATA chunk, an error an NBD_REPLY_TYPE_ERROR with a message', async () => {
    const { port } = await start();
    const c = await RawNbdClient.connect(port);
    const { flags } = await c.open('vol-0a', { structured: true });
    assert.ok(flags & (1 << 7), 'NBD_FLAG_SEND_DF once structured replies are on');
    const data = randomBytes(5000);
    c.request(CMD.WRITE, 1n, 3, data.length, { data });
    assert.deepEqual(await c.reply(), { handle: 1n, error: 0, kind: 'simple' });
    c.request(CMD.READ, 2n, 3, data.length, { flags: 1 << 2 });
    const r = await c.reply();
    assert.equal(r.kind, 1);
    assert.deepEqual(r.data, data);
    c.request(CMD.READ, 3n, SIZE - 1, 2);
    const e = await c.reply();
    assert.equal(e.kind, 0x8001);
    assert.equal(e.error, E.EINVAL);
    assert.match(e.data!.toString(), /past the end/);
    c.destroy();
  });

  it('requests past the end: reads and trims EINVAL, writes and write-zeroes ENOSPC; the connection stays usable', async () => {
    const { port } = await start();
    const c = await RawNbdClient.connect(port);
    await c.open('vol-0a');
    c.request(CMD.READ, 1n, SIZE, 1);
    assert.equal((await c.reply()).error, E.EINVAL);
    c.request(CMD.READ, 2n, 2n ** 63n, 1);
    assert.equal((await c.reply()).error, E.EINVAL);
    c.request(CMD.WRITE, 3n, SIZE - 1, 2, { data: Buffer.alloc(2) });
    assert.equal((await c.reply()).error, E.ENOSPC);
    c.request(CMD.WRITE_ZEROES, 4n, SIZE - 1, 2);
    assert.equal((await c.reply()).error, E.ENOSPC);
    c.request(CMD.TRIM, 5n, SIZE, 4096);
    assert.equal((await c.reply()).error, E.EINVAL);
    assert.deepEqual(await roundTrip(c, SIZE - 2, Buffer.from('ok')), Buffer.from('ok'));
    c.destroy();
  });

  it('unknown commands, unknown or misplaced flags, and flushes with a range are EINVAL', async () => {
    const { port } = await start();
    const c = await RawNbdClient.connect(port);
    await c.open('vol-0a');
    c.request(CMD.CACHE, 1n, 0, 512);
    assert.equal((await c.reply()).error, E.EINVAL);
    c.request(99, 2n, 0, 0);
    assert.equal((await c.reply()).error, E.EINVAL);
    c.request(CMD.WRITE, 3n, 0, 1, { flags: 1 << 9, data: Buffer.from('x') });
    assert.equal((await c.reply()).error, E.EINVAL);
    c.request(CMD.READ, 4n, 0, 1, { flags: 1 << 2 }); // DF without structured replies
    assert.equal((await c.reply()).error, E.EINVAL);
    c.request(CMD.FLUSH, 5n, 1, 0);
    assert.equal((await c.reply()).error, E.EINVAL);
    c.request(CMD.READ, 6n, 0, 0);
    assert.equal((await c.reply()).error, E.EINVAL);
    c.request(CMD.READ, 7n, 0, 32 * MiB + 1);
    assert.equal((await c.reply()).error, E.EINVAL, 'a read over the maximum block size');
    assert.deepEqual(await roundTrip(c, 0, Buffer.from('y')), Buffer.from('y'));
    c.destroy();
  });

  it('a write over the maximum payload closes the connection without reading it', async () => {
    const { port } = await start({ maxPayload: MiB });
    const c = await RawNbdClient.connect(port);
    await c.open('vol-0a');
    c.request(CMD.WRITE, 1n, 0, MiB + 1);
    assert.equal(await c.closed(), true);
  });

  it('FUA writes and flushes reach the device as durable writes; write-zeroes and trim make the range read as zeroes', async () => {
    const { port, exports } = await start();
    const c = await RawNbdClient.connect(port);
    await c.open('vol-0a');
    c.request(CMD.WRITE, 1n, 0, 8192, { flags: 1, data: Buffer.alloc(8192, 7) });
    assert.equal((await c.reply()).error, 0);
    assert.equal(exports.calls.fuaWrites, 1);
    c.request(CMD.FLUSH, 2n, 0, 0);
    assert.equal((await c.reply()).error, 0);
    assert.equal(exports.calls.flushes, 1);
    c.request(CMD.WRITE_ZEROES, 3n, 10, 100, { flags: 1 | 2 });
    assert.equal((await c.reply()).error, 0);
    c.request(CMD.TRIM, 4n, 4096, 4096);
    assert.equal((await c.reply()).error, 0);
    c.request(CMD.READ, 5n, 0, 8192);
    const expected = Buffer.alloc(8192, 7);
    expected.fill(0, 10, 110);
    expected.fill(0, 4096);
    assert.deepEqual((await c.reply(new Map([[5n, 8192]]))).data, expected);
    c.destroy();
  });

  it('device errors are NBD errors: shutdown (CMK disabled, detached) is ESHUTDOWN, others EIO', async () => {
    const { port, exports } = await start();
    const c = await RawNbdClient.connect(port);
    await c.open('vol-0a', { structured: true });
    const device = exports.open_.get('vol-0a') as FileBlockDevice;
    device.failWith = new VolumeIoError('the volume KMS key is disabled', 'shutdown');
    c.request(CMD.READ, 1n, 0, 10);
    const r = await c.reply();
    assert.equal(r.error, E.ESHUTDOWN);
    assert.match(r.data!.toString(), /disabled/);
    device.failWith = new VolumeIoError('block unreadable');
    c.request(CMD.WRITE, 2n, 0, 1, { data: Buffer.from('z') });
    assert.equal((await c.reply()).error, E.EIO);
    c.destroy();
  });

  it('pipelined requests: replies may come out of order, but overlapping writes and reads keep the order they were sent in', async () => {
    const { port, exports } = await start();
    const c = await RawNbdClient.connect(port);
    await c.open('vol-0a');
    const device = exports.open_.get('vol-0a') as FileBlockDevice;
    device.writeDelayMs = 100;
    // A slow write, then a read of another range: the read is answered first.
    c.request(CMD.WRITE, 1n, 0, 4, { data: Buffer.from('slow') });
    c.request(CMD.READ, 2n, MiB, 4);
    const lengths = new Map([[2n, 4], [5n, 4096 * 3]]);
    assert.equal((await c.reply(lengths)).handle, 2n);
    assert.equal((await c.reply(lengths)).handle, 1n);
    // Overlapping writes pipelined (each slow), then a read of the range: the last write wins, the read sees it.
    device.writeDelayMs = 20;
    c.request(CMD.WRITE, 3n, 100, 8192, { data: Buffer.alloc(8192, 1) });
    c.request(CMD.WRITE, 4n, 4000, 100, { data: Buffer.alloc(100, 2) });
    c.request(CMD.READ, 5n, 0, 4096 * 3);
    const got = new Map<bigint, Buffer | undefined>();
    for (let i = 0; i < 3; i++) {
      const r = await c.reply(lengths);
      assert.equal(r.error, 0);
      got.set(r.handle, r.data);
    }
    const expected = Buffer.alloc(4096 * 3);
    expected.write('slow', 0);
    expected.fill(1, 100, 8292);
    expected.fill(2, 4000, 4100);
    assert.deepEqual(got.get(5n), expected);
    c.destroy();
  });

  it('bounded memory: no more requests than the limit are read while the device is slow (TCP holds the client back)', async () => {
    const { port, exports } = await start({ maxInFlightRequests: 4, maxInFlightBytes: 64 * 1024 });
    const c = await RawNbdClient.connect(port);
    await c.open('vol-0a');
    const device = exports.open_.get('vol-0a') as FileBlockDevice;
    device.writeDelayMs = 100;
    for (let i = 0; i < 40; i++) c.request(CMD.WRITE, BigInt(i), i * 65536, 16384, { data: Buffer.alloc(16384, i) });
    await sleep(50);
    // 16 KiB each, 64 KiB budget: 4 in flight at most.
    assert.ok(exports.calls.writes.length <= 4, `${exports.calls.writes.length} writes started`);
    for (let i = 0; i < 40; i++) assert.equal((await c.reply()).error, 0);
    assert.equal(exports.calls.writes.length, 40);
    c.destroy();
  });

  it('NBD_CMD_DISC finishes the requests in flight, closes the device (flushing) and the connection', async () => {
    const { port, exports } = await start();
    const c = await RawNbdClient.connect(port);
    await c.open('vol-0a');
    const device = exports.open_.get('vol-0a') as FileBlockDevice;
    device.writeDelayMs = 100;
    c.request(CMD.WRITE, 1n, 0, 3, { data: Buffer.from('abc') });
    c.request(CMD.DISC, 2n, 0, 0);
    const r = await c.reply();
    assert.deepEqual([r.handle, r.error], [1n, 0]);
    assert.equal(await c.closed(), true);
    await sleep(20);
    assert.equal(exports.open_.size, 0);
  });

  it('server close lets in-flight requests finish, then closes devices and connections', async () => {
    const { port, exports } = await start();
    const server = servers.at(-1)!;
    const c = await RawNbdClient.connect(port);
    await c.open('vol-0a');
    (exports.open_.get('vol-0a') as FileBlockDevice).writeDelayMs = 100;
    c.request(CMD.WRITE, 1n, 0, 3, { data: Buffer.from('abc') });
    await sleep(20);
    await server.close();
    assert.equal((await c.reply()).error, 0);
    assert.equal(await c.closed(), true);
    assert.equal(exports.open_.size, 0);
  });
});

/** Structured replies, then NBD_OPT_SET_META_CONTEXT for `name` with `queries`, then NBD_OPT_GO `goName`: the contexts selected (name → id). */
async function openWithContexts(c: RawNbdClient, name: string, queries: string[], goName = name): Promise<Map<string, number>> {
  await c.greet();
  c.sendOption(OPT.STRUCTURED_REPLY);
  assert.equal((await c.optionReply()).type, REP.ACK);
  c.sendOption(OPT.SET_META_CONTEXT, RawNbdClient.metaContextRequest(name, queries));
  const replies = await c.optionReplies();
  assert.equal(replies.at(-1)!.type, REP.ACK);
  await c.go(goName);
  return new Map(replies.filter((r) => r.type === REP.META_CONTEXT).map((r) => [r.data.subarray(4).toString(), r.data.readUInt32BE(0)]));
}

/** An NBD_REPLY_TYPE_BLOCK_STATUS chunk: context id and (length, flags) descriptors. */
function blockStatus(r: { kind: number | 'simple'; flags?: number; data?: Buffer }): { context: number; extents: Array<[number, number]> } {
  assert.equal(r.kind, 5, 'NBD_REPLY_TYPE_BLOCK_STATUS');
  assert.equal(r.flags, 1, 'the only chunk: NBD_REPLY_FLAG_DONE');
  const p = r.data!;
  assert.equal((p.length - 4) % 8, 0);
  const extents: Array<[number, number]> = [];
  for (let at = 4; at < p.length; at += 8) extents.push([p.readUInt32BE(at), p.readUInt32BE(at + 4)]);
  return { context: p.readUInt32BE(0), extents };
}

const K64 = 65536;
const HOLE_ZERO = 3;

describe('NBD block status (base:allocation)', () => {
  it('NBD_OPT_LIST_META_CONTEXT lists base:allocation (for no query, the base: namespace or its name) and nothing for other queries; it needs structured replies and an attached export', async () => {
    const { port } = await start();
    const c = await RawNbdClient.connect(port);
    await c.greet();
    c.sendOption(OPT.LIST_META_CONTEXT, RawNbdClient.metaContextRequest('vol-0a', []));
    assert.equal((await c.optionReply()).type, REP.ERR_INVALID, 'before NBD_OPT_STRUCTURED_REPLY');
    c.sendOption(OPT.STRUCTURED_REPLY);
    assert.equal((await c.optionReply()).type, REP.ACK);
    for (const queries of [[], ['base:'], ['base:allocation'], ['x-other:thing', 'base:allocation']]) {
      c.sendOption(OPT.LIST_META_CONTEXT, RawNbdClient.metaContextRequest('vol-0a', queries));
      const replies = await c.optionReplies();
      assert.deepEqual(replies.map((r) => r.type), [REP.META_CONTEXT, REP.ACK], queries.join());
      // "The metadata context ID in these replies is reserved and SHOULD be set to zero."
      assert.equal(replies[0]!.data.readUInt32BE(0), 0);
      assert.equal(replies[0]!.data.subarray(4).toString(), 'base:allocation');
    }
    for (const queries of [['base:dirty'], ['qemu:dirty-bitmap:x'], ['allocation'], ['base:allocation2']]) {
      c.sendOption(OPT.LIST_META_CONTEXT, RawNbdClient.metaContextRequest('vol-0a', queries));
      assert.deepEqual((await c.optionReplies()).map((r) => r.type), [REP.ACK], queries.join());
    }
    c.sendOption(OPT.LIST_META_CONTEXT, RawNbdClient.metaContextRequest('vol-nope', []));
    assert.equal((await c.optionReply()).type, REP.ERR_UNKNOWN);
    const good = RawNbdClient.metaContextRequest('vol-0a', ['base:allocation']);
    for (const bad of [good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([0])]), Buffer.alloc(3), RawNbdClient.metaContextRequest('vol-0a', ['base:\u0000'])]) {
      c.sendOption(OPT.LIST_META_CONTEXT, bad);
      assert.equal((await c.optionReply()).type, REP.ERR_INVALID);
    }
    // Negotiation goes on.
    assert.equal((await c.go('vol-0a')).size, BigInt(SIZE));
    c.destroy();
  });

  it('NBD_CMD_BLOCK_STATUS answers one final NBD_REPLY_TYPE_BLOCK_STATUS chunk: the selected context, written chunks as data, the rest as hole and zero, clipped to the range', async () => {
    const { port } = await start();
    const c = await RawNbdClient.connect(port);
    const contexts = await openWithContexts(c, 'vol-0a', ['x-unknown:foo', 'base:allocation']);
    assert.deepEqual([...contexts.keys()], ['base:allocation'], 'unknown contexts are not selected');
    const id = contexts.get('base:allocation')!;
    c.request(CMD.BLOCK_STATUS, 1n, 0, SIZE);
    assert.deepEqual(blockStatus(await c.reply()), { context: id, extents: [[SIZE, HOLE_ZERO]] });
    // Pipelined after the writes: it sees them.
    c.request(CMD.WRITE, 2n, K64 + 7, 3, { data: Buffer.from('abc') });
    c.request(CMD.WRITE, 3n, 3 * K64, 2 * K64, { data: Buffer.alloc(2 * K64, 1) });
    c.request(CMD.BLOCK_STATUS, 4n, 0, SIZE);
    const replies = new Map<bigint, Awaited<ReturnType<RawNbdClient['reply']>>>();
    for (let i = 0; i < 3; i++) {
      const r = await c.reply();
      replies.set(r.handle, r);
    }
    assert.deepEqual(blockStatus(replies.get(4n)!).extents, [[K64, HOLE_ZERO], [K64, 0], [K64, HOLE_ZERO], [2 * K64, 0], [SIZE - 5 * K64, HOLE_ZERO]]);
    // An unaligned range: the first and last descriptors are clipped to it; the sum is the request's length.
    c.request(CMD.BLOCK_STATUS, 5n, K64 - 100, 3 * K64 + 200, { flags: 1 }); // FUA is valid on any command
    assert.deepEqual(blockStatus(await c.reply()).extents, [[100, HOLE_ZERO], [K64, 0], [K64, HOLE_ZERO], [K64 + 100, 0]]);
    // A whole chunk zeroed is a hole again.
    c.request(CMD.WRITE_ZEROES, 6n, 3 * K64, K64);
    assert.equal((await c.reply()).error, 0);
    c.request(CMD.BLOCK_STATUS, 7n, 2 * K64, 3 * K64);
    assert.deepEqual(blockStatus(await c.reply()).extents, [[2 * K64, HOLE_ZERO], [K64, 0]]);
    c.destroy();
  });

  it('NBD_CMD_FLAG_REQ_ONE gives one descriptor; past maxExtents a reply stops short of the range and asking again from there gives the rest', async () => {
    const { port } = await start({ maxExtents: 3 });
    const c = await RawNbdClient.connect(port);
    const id = (await openWithContexts(c, 'vol-0a', ['base:allocation'])).get('base:allocation')!;
    for (const k of [1, 3, 5, 7]) {
      c.request(CMD.WRITE, BigInt(k), k * K64, 1, { data: Buffer.from('w') });
      assert.equal((await c.reply()).error, 0);
    }
    const all: Array<[number, number]> = [];
    for (let at = 0, h = 10n; at < SIZE; h++) {
      c.request(CMD.BLOCK_STATUS, h, at, SIZE - at);
      const { context, extents } = blockStatus(await c.reply());
      assert.equal(context, id);
      assert.ok(extents.length >= 1 && extents.length <= 3, `${extents.length} descriptors`);
      extents.forEach((e) => all.push(e));
      at += extents.reduce((n, [l]) => n + l, 0);
    }
    const merged = all.reduce<Array<[number, number]>>((acc, [l, f]) => {
      const last = acc.at(-1);
      if (last && last[1] === f) last[0] += l;
      else acc.push([l, f]);
      return acc;
    }, []);
    assert.deepEqual(merged, [[K64, 3], [K64, 0], [K64, 3], [K64, 0], [K64, 3], [K64, 0], [K64, 3], [K64, 0], [SIZE - 8 * K64, 3]]);
    c.request(CMD.BLOCK_STATUS, 20n, K64 + 1, 4 * K64, { flags: 1 << 3 });
    assert.deepEqual(blockStatus(await c.reply()).extents, [[K64 - 1, 0]]);
    c.request(CMD.BLOCK_STATUS, 21n, 0, 10, { flags: 1 << 3 });
    assert.deepEqual(blockStatus(await c.reply()).extents, [[10, HOLE_ZERO]], 'never longer than the request');
    c.destroy();
  });

  it('NBD_CMD_BLOCK_STATUS is EINVAL without base:allocation selected for the export (none, only unknown ones, replaced by a later SET, another export, no structured replies), past the end, of 0 bytes or with other flags', async () => {
    const { port } = await start();
    const denied = async (c: RawNbdClient) => {
      c.request(CMD.BLOCK_STATUS, 1n, 0, 4096);
      const r = await c.reply();
      assert.equal(r.error, E.EINVAL);
      c.destroy();
    };
    const none = await RawNbdClient.connect(port);
    await none.open('vol-0a', { structured: true });
    await denied(none);
    const unknown = await RawNbdClient.connect(port);
    assert.equal((await openWithContexts(unknown, 'vol-0a', ['base:dirty', 'x-a:b'])).size, 0);
    await denied(unknown);
    const other = await RawNbdClient.connect(port);
    assert.equal((await openWithContexts(other, 'vol-0b', ['base:allocation'], 'vol-0a')).size, 1);
    await denied(other);
    // A later SET replaces the selection, even one that fails.
    const replaced = await RawNbdClient.connect(port);
    await replaced.greet();
    replaced.sendOption(OPT.STRUCTURED_REPLY);
    await replaced.optionReply();
    replaced.sendOption(OPT.SET_META_CONTEXT, RawNbdClient.metaContextRequest('vol-0a', ['base:allocation']));
    assert.deepEqual((await replaced.optionReplies()).map((r) => r.type), [REP.META_CONTEXT, REP.ACK]);
    replaced.sendOption(OPT.SET_META_CONTEXT, RawNbdClient.metaContextRequest('vol-nope', ['base:allocation']));
    assert.equal((await replaced.optionReply()).type, REP.ERR_UNKNOWN);
    await replaced.go('vol-0a');
    await denied(replaced);
    // Without structured replies no context can be selected (the reply would have to be structured).
    const simple = await RawNbdClient.connect(port);
    await simple.greet();
    simple.sendOption(OPT.SET_META_CONTEXT, RawNbdClient.metaContextRequest('vol-0a', ['base:allocation']));
    assert.equal((await simple.optionReply()).type, REP.ERR_INVALID);
    await simple.go('vol-0a');
    simple.request(CMD.BLOCK_STATUS, 1n, 0, 4096);
    assert.deepEqual(await simple.reply(), { handle: 1n, error: E.EINVAL, kind: 'simple' });
    simple.destroy();

    const c = await RawNbdClient.connect(port);
    await openWithContexts(c, 'vol-0a', ['base:allocation']);
    const cases: Array<[string, number, number, number]> = [['past the end', SIZE - 1, 2, 0], ['far past the end', SIZE, 1, 0], ['0 bytes', 0, 0, 0], ['DF', 0, 4096, 1 << 2], ['an unknown flag', 0, 4096, 1 << 9]];
    for (const [what, offset, length, flags] of cases) {
      c.request(CMD.BLOCK_STATUS, 2n, offset, length, { flags });
      const r = await c.reply();
      assert.equal(r.kind, 0x8001, what);
      assert.equal(r.error, E.EINVAL, what);
    }
    c.request(CMD.BLOCK_STATUS, 3n, 0, SIZE);
    assert.deepEqual(blockStatus(await c.reply()).extents, [[SIZE, HOLE_ZERO]], 'the connection stays usable');
    c.destroy();
  });
});

describe('NBD input validation (fuzz)', () => {
  it('random bytes at any stage close the connection without crashing; the server keeps serving', async () => {
    const { port, files } = await start();
    // A fixed seed would hide nothing the random one finds; the failing bytes are printed if one ever does.
    for (let round = 0; round < 60; round++) {
      const junk = randomBytes(4 + Math.floor(Math.random() * 300));
      const c = await RawNbdClient.connect(port);
      try {
        const stage = round % 3;
        if (stage >= 1) await c.greet();
        if (stage === 2) await c.go('vol-0a');
        if (stage === 2 && round % 2 === 0) junk.writeUInt32BE(0x25609513, 0); // a request magic, random fields
        c.stream.write(junk);
        await Promise.race([c.closed(300), (async () => {
          // Drain whatever the server answers.
          for (;;) await c.reader.read(1);
        })().catch(() => undefined)]);
      } finally {
        c.destroy();
      }
      await sleep(5);
    }
    const c = await RawNbdClient.connect(port);
    await c.open('vol-0a');
    assert.deepEqual(await roundTrip(c, 0, Buffer.from('alive')), Buffer.from('alive'));
    assert.equal(readFileSync(files.get('vol-0a')!).subarray(0, 5).toString(), 'alive');
    c.destroy();
  });
});

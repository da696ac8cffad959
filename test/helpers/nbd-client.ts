/**
 * A raw NBD client for the protocol's unit tests: it sends exactly the bytes a test wants (well-formed or not)
 * and reads the server's answers field by field. Real clients (nbdinfo, nbdcopy, qemu-img) are in the e2e tests.
 */
import { Socket, connect } from 'node:net';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import { Duplex } from 'node:stream';
import { ByteReader } from '../../src/protocols/nbd/byte-reader.js';

export const IHAVEOPT = 0x49484156454f5054n;

export interface OptionReply {
  option: number;
  type: number;
  data: Buffer;
}

export interface Reply {
  handle: bigint;
  error: number;
  data?: Buffer;
  /** 'simple' or 'structured' (the chunk type for structured replies). */
  kind: 'simple' | number;
  /** A structured reply chunk's flags (bit 0: NBD_REPLY_FLAG_DONE). */
  flags?: number;
}

export class RawNbdClient {
  reader: ByteReader;
  stream: Duplex;
  private closedPromise: Promise<void>;

  private constructor(readonly socket: Socket) {
    this.stream = socket;
    this.reader = new ByteReader(socket, 64 << 20);
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawNbdClient> {
    const socket = connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawNbdClient(socket);
  }

  /** Reads the greeting and answers fixed newstyle (+ NO_ZEROES). Returns the server's handshake flags. */
  async greet(clientFlags = 3): Promise<number> {
    const g = await this.reader.read(18);
    if (g.subarray(0, 8).toString() !== 'NBDMAGIC' || g.readBigUInt64BE(8) !== IHAVEOPT) throw new Error('bad greeting');
    const f = Buffer.alloc(4);
    f.writeUInt32BE(clientFlags);
    this.stream.write(f);
    return g.readUInt16BE(16);
  }

  sendOption(option: number, data: Buffer = Buffer.alloc(0)): void {
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(IHAVEOPT, 0);
    h.writeUInt32BE(option, 8);
    h.writeUInt32BE(data.length, 12);
    this.stream.write(Buffer.concat([h, data]));
  }

  async optionReply(): Promise<OptionReply> {
    const h = await this.reader.read(20);
    if (h.readBigUInt64BE(0) !== 0x3e889045565a9n) throw new Error('bad option reply magic');
    const len = h.readUInt32BE(16);
    return { option: h.readUInt32BE(8), type: h.readUInt32BE(12), data: Buffer.from(await this.reader.read(len)) };
  }

  /** Option replies until an ACK or an error (bit 31). */
  async optionReplies(): Promise<OptionReply[]> {
    const all: OptionReply[] = [];
    for (;;) {
      const r = await this.optionReply();
      all.push(r);
      if (r.type === 1 || r.type >= 0x80000000) return all;
    }
  }

  /** NBD_OPT_GO/INFO data for `name` with these info requests. */
  static infoRequest(name: string, infos: number[] = []): Buffer {
    const n = Buffer.from(name);
    const b = Buffer.alloc(4 + n.length + 2 + 2 * infos.length);
    b.writeUInt32BE(n.length, 0);
    n.copy(b, 4);
    b.writeUInt16BE(infos.length, 4 + n.length);
    infos.forEach((t, i) => b.writeUInt16BE(t, 4 + n.length + 2 + 2 * i));
    return b;
  }

  /** Greets, optionally negotiates structured replies, then NBD_OPT_GO; returns size and transmission flags. */
  async open(name: string, opts: { structured?: boolean } = {}): Promise<{ size: bigint; flags: number }> {
    await this.greet();
    if (opts.structured) {
      this.sendOption(8);
      const r = await this.optionReply();
      if (r.type !== 1) throw new Error(`structured replies refused: ${r.type}`);
    }
    return this.go(name);
  }

  async go(name: string): Promise<{ size: bigint; flags: number }> {
    this.sendOption(7, RawNbdClient.infoRequest(name, [3]));
    const replies = await this.optionReplies();
    const last = replies[replies.length - 1]!;
    if (last.type !== 1) throw Object.assign(new Error(`GO refused: 0x${last.type.toString(16)} ${last.data.toString()}`), { reply: last });
    const info = replies.find((r) => r.type === 3 && r.data.readUInt16BE(0) === 0)!;
    return { size: info.data.readBigUInt64BE(2), flags: info.data.readUInt16BE(10) };
  }

  /** NBD_OPT_LIST_META_CONTEXT/NBD_OPT_SET_META_CONTEXT data: export name, then the queries. */
  static metaContextRequest(name: string, queries: string[]): Buffer {
    const str = (v: string) => {
      const b = Buffer.from(v);
      const l = Buffer.alloc(4);
      l.writeUInt32BE(b.length);
      return Buffer.concat([l, b]);
    };
    const count = Buffer.alloc(4);
    count.writeUInt32BE(queries.length);
    return Buffer.concat([str(name), count, ...queries.map(str)]);
  }

  /** Replaces the connection with TLS after an acknowledged NBD_OPT_STARTTLS. */
  async startTls(options: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<TLSSocket> {
    this.reader.detach();
    const secure = tlsConnect({ socket: this.socket, ca: options.ca, cert: options.cert, key: options.key, servername: 'localhost' });
    secure.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
      secure.once('close', () => reject(new Error('closed during the TLS handshake')));
    });
    this.stream = secure;
    this.reader = new ByteReader(secure, 64 << 20);
    return secure;
  }

  request(type: number, handle: bigint, offset: bigint | number, length: number, opts: { flags?: number; data?: Buffer } = {}): void {
    const h = Buffer.alloc(28);
    h.writeUInt32BE(0x25609513, 0);
    h.writeUInt16BE(opts.flags ?? 0, 4);
    h.writeUInt16BE(type, 6);
    h.writeBigUInt64BE(handle, 8);
    h.writeBigUInt64BE(BigInt(offset), 16);
    h.writeUInt32BE(length, 24);
    this.stream.write(opts.data ? Buffer.concat([h, opts.data]) : h);
  }

  /**
   * Reads one reply. Simple replies to reads carry data whose length only the request knew: `readLengths` maps
   * handles of outstanding reads to their lengths.
   */
  async reply(readLengths: Map<bigint, number> = new Map()): Promise<Reply> {
    const magic = (await this.reader.read(4)).readUInt32BE(0);
    if (magic === 0x67446698) {
      const rest = await this.reader.read(12);
      const error = rest.readUInt32BE(0);
      const handle = rest.readBigUInt64BE(4);
      const len = readLengths.get(handle);
      const data = error === 0 && len !== undefined ? Buffer.from(await this.reader.read(len)) : undefined;
      return { handle, error, kind: 'simple', ...(data ? { data } : {}) };
    }
    if (magic === 0x668e33ef) {
      const rest = await this.reader.read(16);
      const flags = rest.readUInt16BE(0);
      const type = rest.readUInt16BE(2);
      const handle = rest.readBigUInt64BE(4);
      const payload = Buffer.from(await this.reader.read(rest.readUInt32BE(12)));
      if (type === 1) return { handle, error: 0, kind: type, flags, data: payload.subarray(8) };
      if (type >= 0x8000) return { handle, error: payload.readUInt32BE(0), kind: type, flags, data: payload.subarray(6, 6 + payload.readUInt16BE(4)) };
      return { handle, error: 0, kind: type, flags, data: payload };
    }
    throw new Error(`bad reply magic 0x${magic.toString(16)}`);
  }

  /** Resolves when the server has closed the connection (or after `ms`, to false). */
  closed(ms = 3000): Promise<boolean> {
    return Promise.race([this.closedPromise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  }

  destroy(): void {
    this.socket.destroy();
    this.stream.destroy();
  }
}

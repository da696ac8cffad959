import { Logger } from 'pino';
import { VolumeIoError } from '../../core/volumes/block-device.js';
import { ConnectionEnded } from './byte-reader.js';
import { Cmd, CmdFlag, Errno, REQUEST_MAGIC, ReplyFlag, ReplyType, SIMPLE_REPLY_MAGIC, STRUCTURED_REPLY_MAGIC, State } from './constants.js';
import { Negotiated, ProtocolViolation } from './handshake.js';
import { Access, OverlapOrder } from './overlap-order.js';

export interface TransmissionLimits {
  /** Largest NBD_CMD_READ/WRITE payload; a larger write closes the connection (its payload is not read). */
  readonly maxPayload: number;
  /** Bytes of payload (write data in, read data out) one connection holds at once; reading waits below it. */
  readonly maxInFlightBytes: number;
  /** Requests one connection has in flight at once. */
  readonly maxInFlightRequests: number;
  /** Requests touching the same `granularity`-aligned block run in order (OverlapOrder). */
  readonly granularity: number;
  /** Block status descriptors in one reply at most (8 bytes each); the client asks again for the rest. */
  readonly maxExtents: number;
}

interface Request {
  readonly flags: number;
  readonly type: number;
  readonly handle: Buffer;
  /** Past Number.MAX_SAFE_INTEGER reads as Infinity: past the end of any volume. */
  readonly offset: number;
  readonly length: number;
}

/** An NBD error to answer a request with (not a reason to close the connection). */
class RequestError extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The transmission phase of one connection (proto.md "Transmission"): requests are read one after the other and
 * run concurrently, replies go out as they complete. Memory is bounded: reading stops while maxInFlightRequests
 * or maxInFlightBytes are reached (TCP then holds the client back), and no payload larger than maxPayload is
 * ever buffered.
 */
export class Transmission {
  private inFlightBytes = 0;
  private inFlightRequests = 0;
  private wake: (() => void) | undefined;
  private readonly running = new Set<Promise<void>>();
  private readonly order: OverlapOrder;
  private stopping = false;
  private corked = false;

  constructor(
    private readonly session: Negotiated,
    private readonly limits: TransmissionLimits,
    private readonly log: Logger,
    /** Told as soon as no more requests are read, with the promise of the device's close (the export is free then). */
    private readonly closing: (closed: Promise<void>) => void = () => undefined,
  ) {
    this.order = new OverlapOrder(limits.granularity);
  }

  /** Serves until NBD_CMD_DISC, the client going away or stop(); then finishes in-flight requests and closes the device. */
  async run(): Promise<void> {
    try {
      await this.readRequests();
    } catch (err) {
      if (err instanceof ProtocolViolation) this.log.info({ export: this.session.name, reason: err.message }, 'nbd: closing a connection that broke the protocol');
      else if (!(err instanceof ConnectionEnded)) throw err;
    } finally {
      const closed = Promise.allSettled([...this.running]).then(() =>
        this.session.device.close().catch((err: unknown) => this.log.error({ err, export: this.session.name }, 'nbd: closing the volume failed')),
      );
      this.closing(closed);
      await closed;
    }
  }

  /** Server shutdown: no new request is read; those in flight finish (run() resolves once they have). */
  stop(): void {
    this.stopping = true;
    this.session.reader.detach();
  }

  private async readRequests(): Promise<void> {
    const { reader, device } = this.session;
    for (;;) {
      const head = await reader.read(28);
      if (head.readUInt32BE(0) !== REQUEST_MAGIC) throw new ProtocolViolation('bad request magic');
      const hi = head.readUInt32BE(16);
      const lo = head.readUInt32BE(20);
      const req: Request = {
        flags: head.readUInt16BE(4),
        type: head.readUInt16BE(6),
        handle: Buffer.from(head.subarray(8, 16)),
        offset: hi < 0x200000 ? hi * 2 ** 32 + lo : Infinity,
        length: head.readUInt32BE(24),
      };
      if (req.type === Cmd.DISC) return;
      const isWrite = req.type === Cmd.WRITE;
      if (isWrite && req.length > this.limits.maxPayload) {
        // Its payload cannot be skipped without reading it: "either side MAY initiate a hard disconnect".
        throw new ProtocolViolation(`a write of ${req.length} bytes (the maximum is ${this.limits.maxPayload})`);
      }
      const cost = isWrite || req.type === Cmd.READ ? Math.min(req.length, this.limits.maxPayload) : 0;
      await this.reserve(cost);
      let payload: Buffer[] | undefined;
      if (isWrite) {
        try {
          payload = await reader.readPieces(req.length);
        } catch (err) {
          this.release(cost);
          throw err;
        }
      }
      const task = this.serve(req, payload, device.size).finally(() => {
        this.running.delete(task);
      });
      this.running.add(task);
      if (this.stopping) return;
    }
  }

  private async reserve(bytes: number): Promise<void> {
    // A request larger than the whole budget still runs, alone.
    while (
      this.inFlightRequests >= this.limits.maxInFlightRequests ||
      (this.inFlightBytes > 0 && this.inFlightBytes + bytes > this.limits.maxInFlightBytes)
    ) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    this.inFlightBytes += bytes;
    this.inFlightRequests += 1;
  }

  private release(bytes: number): void {
    this.inFlightBytes -= bytes;
    this.inFlightRequests -= 1;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async serve(req: Request, payload: Buffer[] | undefined, size: number): Promise<void> {
    const cost = req.type === Cmd.WRITE || req.type === Cmd.READ ? Math.min(req.length, this.limits.maxPayload) : 0;
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      this.release(cost);
    };
    let data: Buffer[] | undefined;
    let failure: RequestError | undefined;
    try {
      data = await this.perform(req, payload, size);
    } catch (err) {
      failure = err instanceof RequestError ? err : this.deviceError(err, req);
    }
    try {
      this.reply(req, failure, data, done);
    } catch (err) {
      done();
      throw err;
    }
  }

  private async perform(req: Request, payload: Buffer[] | undefined, size: number): Promise<Buffer[] | undefined> {
    const { device } = this.session;
    const { offset, length } = req;
    const fua = (req.flags & CmdFlag.FUA) !== 0;
    const inRange = offset <= size && length <= size - offset;
    const allowed = (extra: number) => {
      // "The server SHOULD return EINVAL if it receives an unknown command flag", or one not valid for the command.
      if ((req.flags & ~(CmdFlag.FUA | extra)) !== 0) throw new RequestError(Errno.EINVAL, `flags 0x${req.flags.toString(16)} are not valid for this command`);
    };
    const ordered = async <T>(access: Access, fn: () => Promise<T>): Promise<T> => {
      const slot = this.order.admit(access === 'flush' ? 0 : offset, access === 'flush' ? 0 : length, access);
      try {
        await slot.ready;
        return await fn();
      } finally {
        slot.finish();
      }
    };
    switch (req.type) {
      case Cmd.READ:
        allowed(this.session.structuredReplies ? CmdFlag.DF : 0);
        if (length === 0) throw new RequestError(Errno.EINVAL, 'a read of 0 bytes');
        if (length > this.limits.maxPayload) throw new RequestError(Errno.EINVAL, `a read of ${length} bytes (the maximum is ${this.limits.maxPayload})`);
        if (!inRange) throw new RequestError(Errno.EINVAL, `a read past the end of the volume (${size} bytes)`);
        return ordered('read', async () => {
          const data = await device.read(offset, length);
          // A reply of another length would desynchronise the stream for every later reply.
          const got = data.reduce((n, piece) => n + piece.length, 0);
          if (got !== length) throw new VolumeIoError(`the volume returned ${got} bytes for a read of ${length}`);
          return data;
        });
      case Cmd.WRITE:
        allowed(0);
        if (length === 0) throw new RequestError(Errno.EINVAL, 'a write of 0 bytes');
        // "The server SHOULD return ENOSPC if it receives a write request including one or more sectors beyond the size of the device."
        if (!inRange) throw new RequestError(Errno.ENOSPC, `a write past the end of the volume (${size} bytes)`);
        await ordered('write', () => device.write(offset, payload!, fua));
        return undefined;
      case Cmd.WRITE_ZEROES:
        allowed(CmdFlag.NO_HOLE);
        if (length === 0) throw new RequestError(Errno.EINVAL, 'zeroing 0 bytes');
        if (!inRange) throw new RequestError(Errno.ENOSPC, `zeroing past the end of the volume (${size} bytes)`);
        await ordered('write', () => device.zero(offset, length, fua));
        return undefined;
      case Cmd.TRIM:
        allowed(0);
        if (length === 0) throw new RequestError(Errno.EINVAL, 'trimming 0 bytes');
        if (!inRange) throw new RequestError(Errno.EINVAL, `a trim past the end of the volume (${size} bytes)`);
        await ordered('write', () => device.zero(offset, length, fua));
        return undefined;
      case Cmd.FLUSH:
        allowed(0);
        // "For a flush request, length and offset are reserved, and MUST be set to all-zero."
        if (offset !== 0 || length !== 0) throw new RequestError(Errno.EINVAL, 'a flush with an offset or length');
        await ordered('flush', () => device.flush());
        return undefined;
      case Cmd.BLOCK_STATUS: {
        // "A client MUST NOT use NBD_CMD_BLOCK_STATUS unless it selected a nonzero number of metadata contexts
        // during negotiation. Servers SHOULD reply to clients doing so anyway with EINVAL."
        const context = this.session.allocationContext;
        if (context === undefined) throw new RequestError(Errno.EINVAL, 'block status needs the base:allocation metadata context (NBD_OPT_SET_META_CONTEXT)');
        allowed(CmdFlag.REQ_ONE);
        if (length === 0) throw new RequestError(Errno.EINVAL, 'block status of 0 bytes');
        if (!inRange) throw new RequestError(Errno.EINVAL, `block status past the end of the volume (${size} bytes)`);
        // REQ_ONE: "every reply chunk MUST NOT contain more than one descriptor". Otherwise fewer descriptors
        // than the whole range needs are allowed ("the server MAY return less data than required").
        const max = (req.flags & CmdFlag.REQ_ONE) !== 0 ? 1 : this.limits.maxExtents;
        const extents = await ordered('read', () => device.extents(offset, length, max));
        // The sum "MUST not be greater than the overall length of the request", at least one descriptor, none empty.
        const total = extents.reduce((n, e) => n + e.length, 0);
        if (extents.length === 0 || extents.length > max || total > length || extents.some((e) => !(e.length > 0) || e.length > 0xffffffff)) {
          throw new VolumeIoError(`the volume reported ${extents.length} extents of ${total} bytes for ${length} bytes`);
        }
        // NBD_REPLY_TYPE_BLOCK_STATUS payload: u32 context id, then (u32 length, u32 status flags) per extent.
        const payload = Buffer.allocUnsafe(4 + 8 * extents.length);
        payload.writeUInt32BE(context, 0);
        extents.forEach((e, k) => {
          payload.writeUInt32BE(e.length, 4 + 8 * k);
          // A hole reads as zeroes: both flags.
          payload.writeUInt32BE(e.hole ? State.HOLE | State.ZERO : 0, 8 + 8 * k);
        });
        return [payload];
      }
      default:
        // "The server SHOULD return EINVAL if it receives an unknown command" (NBD_CMD_CACHE… is not offered).
        throw new RequestError(Errno.EINVAL, `command ${req.type} is not supported`);
    }
  }

  private deviceError(err: unknown, req: Request): RequestError {
    if (err instanceof VolumeIoError) {
      // 'shutdown': the export is gone (detached, CMK unusable): "If the client receives an ESHUTDOWN error it MUST initiate a soft disconnect."
      return new RequestError(err.kind === 'shutdown' ? Errno.ESHUTDOWN : Errno.EIO, err.message);
    }
    this.log.error({ err, export: this.session.name, command: req.type }, 'nbd: the volume failed a request');
    return new RequestError(Errno.EIO, 'input/output error');
  }

  /**
   * Writes the reply; `sent` runs once it has left this process (its memory is then released). A read's data
   * goes out as the device's pieces, gathered by the cork into one writev (no copy into one buffer).
   */
  private reply(req: Request, failure: RequestError | undefined, data: Buffer[] | undefined, sent: () => void): void {
    const { stream, structuredReplies } = this.session;
    if (stream.destroyed || !stream.writable) return sent();
    // Replies completed in the same turn of the event loop leave in one write (one syscall, fewer TCP segments).
    if (!this.corked) {
      this.corked = true;
      stream.cork();
      process.nextTick(() => {
        this.corked = false;
        stream.uncork();
      });
    }
    if (structuredReplies && (failure || req.type === Cmd.READ || req.type === Cmd.BLOCK_STATUS)) {
      // A structured reply chunk: magic, flags, type, handle, payload length.
      const head = Buffer.allocUnsafe(20);
      head.writeUInt32BE(STRUCTURED_REPLY_MAGIC, 0);
      head.writeUInt16BE(ReplyFlag.DONE, 4);
      req.handle.copy(head, 8);
      if (failure) {
        // NBD_REPLY_TYPE_ERROR: u32 error, u16 message length, message (the client shows it to its user).
        const message = Buffer.from(failure.message, 'utf8').subarray(0, 1024);
        head.writeUInt16BE(ReplyType.ERROR, 6);
        head.writeUInt32BE(6 + message.length, 16);
        const body = Buffer.allocUnsafe(6);
        body.writeUInt32BE(failure.errno, 0);
        body.writeUInt16BE(message.length, 4);
        stream.write(Buffer.concat([head, body, message]), () => sent());
        return;
      }
      if (req.type === Cmd.BLOCK_STATUS) {
        // One NBD_REPLY_TYPE_BLOCK_STATUS chunk for the one context, final.
        const payload = data![0]!;
        head.writeUInt16BE(ReplyType.BLOCK_STATUS, 6);
        head.writeUInt32BE(payload.length, 16);
        stream.write(Buffer.concat([head, payload]), () => sent());
        return;
      }
      // NBD_REPLY_TYPE_OFFSET_DATA, the only chunk (so NBD_CMD_FLAG_DF is honoured too): u64 offset, data.
      head.writeUInt16BE(ReplyType.OFFSET_DATA, 6);
      head.writeUInt32BE(8 + req.length, 16);
      const at = Buffer.allocUnsafe(8);
      at.writeBigUInt64BE(BigInt(req.offset), 0);
      stream.write(Buffer.concat([head, at]));
      this.writePieces(data!, sent);
      return;
    }
    const head = Buffer.allocUnsafe(16);
    head.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
    head.writeUInt32BE(failure ? failure.errno : 0, 4);
    req.handle.copy(head, 8);
    if (failure || req.type !== Cmd.READ) {
      stream.write(head, () => sent());
      return;
    }
    stream.write(head);
    this.writePieces(data!, sent);
  }

  private writePieces(pieces: readonly Buffer[], sent: () => void): void {
    const { stream } = this.session;
    pieces.forEach((piece, k) => (k === pieces.length - 1 ? stream.write(piece, () => sent()) : stream.write(piece)));
  }
}

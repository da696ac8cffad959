import { Server, Socket, createServer } from 'node:net';
import { Duplex } from 'node:stream';
import { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlockDevice, VolumeExports, VolumeIoError } from '../../core/volumes/block-device.js';
import { ConnectionEnded } from './byte-reader.js';
import { ProtocolViolation, negotiate } from './handshake.js';
import { TlsUpgrader } from './tls-upgrade.js';
import { Transmission } from './transmission.js';

/** NBD_INFO_BLOCK_SIZE's maximum: what clients assume anyway when none is given (proto.md "Block size constraints"). */
export const DEFAULT_MAX_PAYLOAD = 32 * 1024 * 1024;
/**
 * Block status descriptors per reply: 2048 (a 16 KiB reply) covers 128 MiB even when every 64 KiB chunk
 * alternates; a 1 TiB volume's allocation is never built as one list — the client asks again from where it stops.
 */
export const DEFAULT_MAX_EXTENTS = 2048;
/** An export in use is asked for this many times, this far apart, before the client is refused (openExport). */
const OPEN_ATTEMPTS = 10;
const OPEN_RETRY_MS = 100;

export interface NbdServerOptions {
  readonly exports: VolumeExports;
  readonly log: Logger;
  /**
   * TLS with client certificates (PEM): when given, every connection must upgrade with NBD_OPT_STARTTLS and
   * present a certificate `ca` signed before any other option is answered (FORCEDTLS).
   */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly ca: Buffer };
  readonly maxPayload?: number;
  readonly preferredBlockSize?: number;
  readonly maxInFlightBytes?: number;
  readonly maxInFlightRequests?: number;
  /** Block status descriptors per NBD_CMD_BLOCK_STATUS reply at most (default DEFAULT_MAX_EXTENTS). */
  readonly maxExtents?: number;
  /** A client that has not entered the transmission phase this long after connecting is disconnected. */
  readonly handshakeTimeoutMs?: number;
}

/**
 * The NBD server (proto.md, fixed newstyle only): one export per attached volume, named by its volume id. The
 * protocol knows nothing of keys or blocks at rest: it reads and writes through the BlockDevice the volume side
 * opens (src/core/volumes/block-device.ts).
 */
export class NbdServer {
  readonly server: Server;
  /** Each connection and the promise of its end. */
  private readonly sessions = new Map<Session, Promise<void>>();
  private readonly tls: TlsUpgrader | undefined;
  private closing = false;
  /** Exports whose last client is gone but whose device is still closing (flushing), by name. */
  private readonly releasing = new Map<string, Promise<void>>();
  /** What negotiation opens exports through (see openExport). */
  private readonly exportsView: VolumeExports;

  constructor(private readonly options: NbdServerOptions) {
    this.tls = options.tls ? new TlsUpgrader(options.tls) : undefined;
    this.exportsView = { list: () => options.exports.list(), open: (name) => this.openExport(name) };
    this.server = createServer({ noDelay: true, keepAlive: true }, (socket) => {
      if (this.closing) return void socket.destroy();
      const session: Session = { socket };
      const ended = this.serve(session).finally(() => this.sessions.delete(session));
      this.sessions.set(session, ended);
    });
  }

  /** Listens; resolves to the address and port it listens on. */
  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const a = this.server.address();
        resolve(typeof a === 'object' && a ? { host: a.address, port: a.port } : { host, port });
      });
    });
  }

  /**
   * Stops accepting; connections still negotiating are cut, those transmitting finish their in-flight requests
   * and close their volume (which flushes) before their socket is closed.
   */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions.keys()) {
      if (s.transmission) s.transmission.stop();
      else s.socket.destroy();
    }
    await Promise.all(this.sessions.values());
    await closed;
  }

  /**
   * A client that disconnects and reconnects at once (`nbdcopy in; nbdcopy out`) must not find its own export
   * busy: its previous device may still be closing (flushing) here, or — with several workers — in another
   * process. So an open waits for this process's close of the same export, and an export refused as in use
   * ('shutdown') is asked again for a moment before the refusal is passed on.
   */
  private async openExport(name: string): Promise<BlockDevice | undefined> {
    await this.releasing.get(name);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.options.exports.open(name);
      } catch (err) {
        if (!(err instanceof VolumeIoError) || err.kind !== 'shutdown' || attempt >= OPEN_ATTEMPTS || this.closing) throw err;
        await sleep(OPEN_RETRY_MS);
      }
    }
  }

  /** One connection, from the greeting to the socket's end (never rejects). */
  private async serve(session: Session): Promise<void> {
    const { log } = this.options;
    const { socket } = session;
    socket.on('error', () => undefined); // reported through the reader; a reset client must not crash the server
    const timeout = setTimeout(() => socket.destroy(), this.options.handshakeTimeoutMs ?? 30_000);
    timeout.unref();
    try {
      const negotiated = await negotiate(
        socket,
        this.exportsView,
        { maxPayload: this.options.maxPayload ?? DEFAULT_MAX_PAYLOAD, preferredBlockSize: this.options.preferredBlockSize ?? 4096 },
        this.tls ? { upgrader: this.tls } : undefined,
      );
      clearTimeout(timeout);
      if (!negotiated) return await endGracefully(socket);
      negotiated.stream.on('error', () => undefined);
      if (this.closing || socket.destroyed) {
        await negotiated.device.close().catch(() => undefined);
        return void socket.destroy();
      }
      log.info({ export: negotiated.name, remote: socket.remoteAddress }, 'nbd: client connected');
      const transmission = new Transmission(
        negotiated,
        {
          maxPayload: this.options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
          maxInFlightBytes: this.options.maxInFlightBytes ?? 64 * 1024 * 1024,
          maxInFlightRequests: this.options.maxInFlightRequests ?? 64,
          granularity: this.options.preferredBlockSize ?? 4096,
          maxExtents: this.options.maxExtents ?? DEFAULT_MAX_EXTENTS,
        },
        log,
        (closed) => {
          const done = closed.finally(() => this.releasing.get(negotiated.name) === done && this.releasing.delete(negotiated.name));
          this.releasing.set(negotiated.name, done);
        },
      );
      session.transmission = transmission;
      await transmission.run();
      log.info({ export: negotiated.name }, 'nbd: client disconnected');
      await endGracefully(negotiated.stream, socket);
    } catch (err) {
      clearTimeout(timeout);
      if (err instanceof ProtocolViolation) log.info({ remote: socket.remoteAddress, reason: err.message }, 'nbd: connection refused');
      else if (!(err instanceof ConnectionEnded)) log.error({ err }, 'nbd: connection failed');
      socket.destroy();
    }
  }
}

interface Session {
  readonly socket: Socket;
  transmission?: Transmission;
}

/** Ends the stream (a TLS close_notify first, when TLS), then closes the TCP socket (at the latest after 2 s). */
function endGracefully(stream: Duplex, socket: Socket = stream as Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      stream.destroy();
      resolve();
    };
    const timer = setTimeout(done, 2_000);
    stream.end(done);
  });
}

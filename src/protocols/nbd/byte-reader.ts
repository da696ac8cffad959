import { Duplex } from 'node:stream';

/** The peer closed the connection (or it failed) before sending what a read waited for. */
export class ConnectionEnded extends Error {
  constructor(message = 'the connection ended') {
    super(message);
    this.name = 'ConnectionEnded';
  }
}

/**
 * Exact-length reads over a stream, for a binary protocol read field by field. Bytes arriving before anyone
 * asks are kept only up to `highWater`; past that the stream is paused, so a client that pipelines faster than
 * the server answers is held back by TCP (backpressure) instead of filling memory.
 */
export class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** A read waiting for `n` bytes (`peek`: readPieces, told when they are here and taking them itself). */
  private waiting: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void; peek?: boolean } | undefined;
  private failure: Error | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.serve();
    if (this.buffered >= this.highWater && (!this.waiting || this.buffered >= this.waiting.n)) this.stream.pause();
  };
  private readonly onEnd = () => this.fail(new ConnectionEnded());
  private readonly onError = (err: Error) => this.fail(new ConnectionEnded(`the connection failed: ${err.message}`));

  constructor(
    private readonly stream: Duplex,
    private readonly highWater = 1 << 20,
  ) {
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
  }

  /** Resolves with exactly `n` bytes; rejects with ConnectionEnded if the stream ends first. One read at a time. */
  read(n: number): Promise<Buffer> {
    if (this.waiting) return Promise.reject(new Error('ByteReader: a read is already pending'));
    if (n === 0) return Promise.resolve(Buffer.alloc(0));
    if (this.buffered >= n) return Promise.resolve(this.take(n));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { n, resolve, reject };
      this.stream.resume();
    });
  }

  /**
   * Resolves with exactly `n` bytes as the pieces they arrived in (views, no copy into one buffer): a large
   * write's payload arrives in many socket reads, and copying them together would allocate it all again.
   */
  async readPieces(n: number): Promise<Buffer[]> {
    if (n === 0) return [];
    if (this.waiting) throw new Error('ByteReader: a read is already pending');
    // Wait until all of it is here (read's waiting, told instead of handed the bytes).
    while (this.buffered < n) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve, reject) => {
        this.waiting = { n, resolve: () => resolve(), reject, peek: true };
        this.stream.resume();
      });
    }
    const pieces: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const first = this.chunks[0]!;
      if (first.length <= left) {
        pieces.push(first);
        this.chunks.shift();
        left -= first.length;
      } else {
        pieces.push(first.subarray(0, left));
        this.chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
    if (this.buffered < this.highWater && !this.failure) this.stream.resume();
    return pieces;
  }

  /** Bytes received and not yet read. */
  get pending(): number {
    return this.buffered;
  }

  /** Stops reading the stream (before another layer, TLS, takes it over); unread bytes are returned. */
  detach(): Buffer {
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('close', this.onEnd);
    this.stream.off('error', this.onError);
    this.stream.pause();
    const rest = this.buffered > 0 ? this.take(this.buffered) : Buffer.alloc(0);
    this.fail(new ConnectionEnded('the reader was detached'));
    return rest;
  }

  private serve(): void {
    const w = this.waiting;
    if (!w || this.buffered < w.n) return;
    this.waiting = undefined;
    w.resolve(w.peek ? Buffer.alloc(0) : this.take(w.n));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiting;
    if (!w) return;
    this.waiting = undefined;
    w.reject(this.failure);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      // The common case (headers, payloads arriving in one piece): a view, no copy.
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0]!;
        const used = Math.min(c.length, n - filled);
        c.copy(out, filled, 0, used);
        filled += used;
        if (used === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(used);
      }
    }
    this.buffered -= n;
    if (this.buffered < this.highWater && !this.failure) this.stream.resume();
    return out;
  }
}

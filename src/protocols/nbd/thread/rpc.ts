import { MessagePort, Worker } from 'node:worker_threads';
import { VolumeIoError } from '../../../core/volumes/block-device.js';
import { BlobNotFoundError } from '../../../store/blob/blob-store.js';

/** What either side of the NBD thread answers calls with. */
export type CallHandler = (method: string, args: unknown[]) => Promise<unknown>;

type Message =
  | { readonly t: 'call'; readonly id: number; readonly method: string; readonly args: unknown[] }
  | { readonly t: 'result'; readonly id: number; readonly value: unknown }
  | { readonly t: 'error'; readonly id: number; readonly error: WireError };

/** An error as it crosses the thread boundary: the kinds the other side acts on keep their class. */
interface WireError {
  readonly name: string;
  readonly message: string;
  readonly kind?: 'io' | 'shutdown';
  readonly blobId?: string;
  readonly code?: string;
}

function toWire(err: unknown): WireError {
  if (err instanceof VolumeIoError) return { name: 'VolumeIoError', message: err.message, kind: err.kind };
  if (err instanceof BlobNotFoundError) return { name: 'BlobNotFoundError', message: err.message, blobId: err.id };
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return { name: err instanceof Error ? err.name : 'Error', message: err instanceof Error ? err.message : String(err), ...(typeof code === 'string' ? { code } : {}) };
}

function fromWire(e: WireError): Error {
  if (e.name === 'VolumeIoError') return new VolumeIoError(e.message, e.kind ?? 'io');
  if (e.name === 'BlobNotFoundError') return new BlobNotFoundError(e.blobId ?? '');
  // A system error's code (EADDRINUSE…) is what callers branch on.
  const out = Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
  out.name = e.name;
  return out;
}

/**
 * Calls between the main thread and the NBD thread over one port, both ways: `call` sends a method name and
 * arguments (structured clone) and resolves with the other side's answer; incoming calls go to `handler`.
 */
export class Rpc {
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly port: MessagePort | Worker,
    handler: CallHandler,
  ) {
    port.on('message', (m: Message) => {
      if (m.t === 'call') {
        handler(m.method, m.args).then(
          (value) => this.port.postMessage({ t: 'result', id: m.id, value } satisfies Message),
          (err: unknown) => this.port.postMessage({ t: 'error', id: m.id, error: toWire(err) } satisfies Message),
        );
        return;
      }
      const w = this.#waiting.get(m.id);
      if (!w) return;
      this.#waiting.delete(m.id);
      if (m.t === 'result') w.resolve(m.value);
      else w.reject(fromWire(m.error));
    });
  }

  call<T>(method: string, ...args: unknown[]): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.postMessage({ t: 'call', id, method, args } satisfies Message);
    });
  }

  /** Fails every call still waiting (the other side is gone). */
  failAll(err: Error): void {
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }
}

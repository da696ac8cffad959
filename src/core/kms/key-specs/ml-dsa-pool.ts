import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * ML-DSA in worker threads. @noble/post-quantum is pure JavaScript: an ML-DSA-65 signature takes about 8 ms
 * of CPU on this class of machine (40 ms when its two cores are busy), a verification 1.5 ms — on the event
 * loop, every other request would wait that long per signature. Jobs go round-robin to up to
 * availableParallelism() − 1 workers (at least one), started on first use and unref'd so they never keep a
 * process alive. Keys and messages are copied into fresh buffers before they are posted (a Buffer is often a
 * view of a shared 8 KiB pool, which structured cloning would copy whole).
 */
export type DsaLevel = 44 | 65 | 87;

export type DsaJob =
  | { id: number; op: 'sign'; level: DsaLevel; key: Uint8Array; message: Uint8Array; externalMu: boolean; signature?: undefined }
  | { id: number; op: 'verify'; level: DsaLevel; key: Uint8Array; message: Uint8Array; externalMu: boolean; signature: Uint8Array };

export type DsaResult = { id: number; signature: Uint8Array } | { id: number; valid: boolean } | { id: number; failed: true };

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, (result: DsaResult) => void>;
}

const WORKER_URL = new URL('./ml-dsa-worker.js', import.meta.url);
const SIZE = Math.max(1, availableParallelism() - 1);
const slots: (Slot | undefined)[] = [];
let next = 0;
let ids = 0;

function slot(index: number): Slot {
  const existing = slots[index];
  if (existing) return existing;
  const worker = new Worker(WORKER_URL);
  worker.unref();
  const made: Slot = { worker, pending: new Map() };
  worker.on('message', (result: DsaResult) => {
    const settle = made.pending.get(result.id);
    made.pending.delete(result.id);
    settle?.(result);
  });
  const lost = () => {
    // A worker that died takes its jobs with it: they fail (KMSInternalException upstream); the next job starts a new one.
    if (slots[index] === made) slots[index] = undefined;
    for (const settle of made.pending.values()) settle({ id: -1, failed: true });
    made.pending.clear();
  };
  worker.on('error', lost);
  worker.on('exit', lost);
  slots[index] = made;
  return made;
}

function run(job: Omit<DsaJob, 'id'>): Promise<DsaResult> {
  const s = slot(next);
  next = (next + 1) % SIZE;
  const id = ++ids;
  return new Promise((resolve) => {
    s.pending.set(id, resolve);
    // Referenced while a job is out, so a process with nothing else to do still waits for its answer.
    s.worker.ref();
    s.worker.postMessage({ ...job, id }, job.op === 'sign' ? [job.key.buffer as ArrayBuffer] : []);
  }).finally(() => {
    if (s.pending.size === 0) s.worker.unref();
  }) as Promise<DsaResult>;
}

/** These bytes alone in a new ArrayBuffer (never Buffer#slice, a view of the same memory). */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

export async function dsaSign(level: DsaLevel, secretKey: Uint8Array, message: Uint8Array, externalMu: boolean): Promise<Uint8Array> {
  // The key's copy, in an ArrayBuffer of its own, is transferred (moved, not copied again) to the worker.
  const result = await run({ op: 'sign', level, key: copy(secretKey), message: copy(message), externalMu });
  if (!('signature' in result)) throw new Error('ML-DSA signing failed in its worker');
  return result.signature;
}

export async function dsaVerify(level: DsaLevel, publicKey: Uint8Array, message: Uint8Array, externalMu: boolean, signature: Uint8Array): Promise<boolean> {
  const result = await run({ op: 'verify', level, key: copy(publicKey), message: copy(message), externalMu, signature: copy(signature) });
  if (!('valid' in result)) throw new Error('ML-DSA verification failed in its worker');
  return result.valid;
}

import { Worker } from 'node:cluster';
import { RootOfTrustError } from '../core/crypto/root-of-trust/root-of-trust.js';
import { ShamirParameters, ShareCollector, ShareError, decodeShare } from '../core/crypto/root-of-trust/shamir.js';
import { SecretBytes } from '../core/crypto/secret-bytes.js';
import { SealControl, SealStatus, Sealable, WrongSharesError } from './seal-control.js';

/**
 * Sealing with several workers (node:cluster, main.ts): every worker must end up unsealed, whichever one the
 * operator's request reached. The workers' operator routes forward to the primary, which holds the one unseal
 * progress of this server; at T shares it rebuilds the key and sends it to every worker (IPC), each proving it
 * opens the keyring. If one refuses it, all are sealed again and the progress resets (a wrong combination). The
 * primary keeps the rebuilt key while unsealed, to unseal a worker that replaces one that died; `seal` seals
 * every worker and wipes it. (The key crosses the IPC pipe between processes of the same user; it is never written.)
 */
interface SealOp {
  readonly type: 'seal-op';
  readonly id: number;
  readonly op: 'unseal' | 'seal' | 'status';
  readonly share?: string;
  readonly params: ShamirParameters;
}
interface SealOpResult {
  readonly type: 'seal-op-result';
  readonly id: number;
  readonly status?: SealStatus;
  readonly error?: { readonly name: string; readonly message: string };
}
interface SealApply {
  readonly type: 'seal-apply';
  readonly id: number;
  readonly op: 'unseal' | 'seal';
  readonly key?: string;
}
interface SealApplied {
  readonly type: 'seal-applied';
  readonly id: number;
  readonly error?: { readonly name: string; readonly message: string };
}

/** An error the primary reported, rendered by the route as a refused share (400) with the primary's message. */
class RemoteSealError extends RootOfTrustError {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** In a worker: its operator routes' control forwards to the primary; the primary's orders are applied here. */
export function workerSealControl(sealing: Sealable): SealControl {
  let nextId = 1;
  const pending = new Map<number, { resolve: (s: SealStatus) => void; reject: (e: Error) => void }>();
  process.on('message', (m: SealOpResult | SealApply) => {
    if (m?.type === 'seal-op-result') {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error) p?.reject(new RemoteSealError(m.error.name, m.error.message));
      else p?.resolve(m.status!);
    } else if (m?.type === 'seal-apply') {
      const run = m.op === 'unseal' ? (sealing.sealed ? sealing.unsealWith(SecretBytes.adopt(Buffer.from(m.key!, 'base64'))) : Promise.resolve()) : sealing.seal();
      run.then(
        () => process.send!({ type: 'seal-applied', id: m.id } satisfies SealApplied),
        (err: unknown) => process.send!({ type: 'seal-applied', id: m.id, error: { name: err instanceof Error ? err.name : 'Error', message: err instanceof Error ? err.message : String(err) } } satisfies SealApplied),
      );
    }
  });
  const ask = (op: SealOp['op'], share?: string) =>
    new Promise<SealStatus>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      process.send!({ type: 'seal-op', id, op, params: sealing.params, ...(share !== undefined ? { share } : {}) } satisfies SealOp);
    });
  return { unseal: (share) => ask('unseal', share), seal: () => ask('seal'), status: () => ask('status') };
}

/** In the primary: the server's unseal progress, and the rebuilt key while unsealed. */
export class PrimarySealing {
  #collector: ShareCollector | undefined;
  #params: ShamirParameters | undefined;
  #key: Buffer | undefined;
  #nextId = 1;
  #waiting = new Map<number, (m: SealApplied) => void>();

  constructor(private readonly workers: () => Worker[]) {}

  /** A message from a worker: an operator request, or the outcome of an order. Returns whether it was one of these. */
  onMessage(w: Worker, m: SealOp | SealApplied): boolean {
    if (m?.type === 'seal-applied') {
      this.#waiting.get(m.id)?.(m);
      this.#waiting.delete(m.id);
      return true;
    }
    if (m?.type !== 'seal-op') return false;
    this.#params ??= m.params;
    this.#collector ??= new ShareCollector(m.params);
    this.#handle(m).then(
      (status) => w.send({ type: 'seal-op-result', id: m.id, status } satisfies SealOpResult),
      (err: unknown) =>
        w.send({
          type: 'seal-op-result',
          id: m.id,
          error: err instanceof RootOfTrustError ? { name: err.name, message: err.message } : { name: 'Error', message: 'internal error' },
        } satisfies SealOpResult),
    );
    return true;
  }

  /** A worker that is ready (a replacement after one died): unsealed at once if the server is. */
  onReady(w: Worker): void {
    if (this.#key) void this.#apply(w, { op: 'unseal', key: this.#key.toString('base64') });
  }

  async #handle(m: SealOp): Promise<SealStatus> {
    const collector = this.#collector!;
    if (m.op === 'seal') {
      collector.reset();
      this.#key?.fill(0);
      this.#key = undefined;
      await Promise.all(this.workers().map((w) => this.#apply(w, { op: 'seal' })));
    } else if (m.op === 'unseal') {
      if (this.#key) throw new ShareError('the server is already unsealed');
      const key = await collector.add(decodeShare(m.share ?? ''));
      if (key) {
        const raw = Buffer.from(key.reveal());
        key.wipe();
        // One worker first: the first unseal makes the account and its root credentials (as the first worker's start
        // does unsealed), then the others, which find them.
        const [first, ...rest] = this.workers();
        const order = { op: 'unseal' as const, key: raw.toString('base64') };
        const outcomes = first ? [await this.#apply(first, order)] : [];
        if (!outcomes[0]?.error) outcomes.push(...(await Promise.all(rest.map((w) => this.#apply(w, order)))));
        const failed = outcomes.find((o) => o.error);
        if (failed) {
          raw.fill(0);
          await Promise.all(this.workers().map((w) => this.#apply(w, { op: 'seal' })));
          if (failed.error!.name === 'RootOfTrustError' || failed.error!.name === 'KeyringRootMismatchError') throw new WrongSharesError(m.params.threshold);
          throw new RemoteSealError(failed.error!.name, failed.error!.message);
        }
        this.#key = raw;
      }
    }
    const p = this.#params!;
    return { sealed: this.#key === undefined, progress: collector.progress, threshold: p.threshold, shares: p.shares, setId: p.setId };
  }

  #apply(w: Worker, order: Omit<SealApply, 'type' | 'id'>): Promise<SealApplied> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve({ type: 'seal-applied', id, error: { name: 'Error', message: `worker ${w.process.pid} did not answer` } });
      }, 30_000);
      this.#waiting.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      w.send({ type: 'seal-apply', id, ...order } satisfies SealApply);
    });
  }
}

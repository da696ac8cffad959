import { Exchange } from '../http/exchange.js';
import { answerSealed } from '../http/sealed-answer.js';

/** Own routes a sealed server still serves: its health, and the operator's unseal/seal/status. */
const ALWAYS_SERVED = new Set(['/_strongroom/health', '/_strongroom/operator/unseal', '/_strongroom/operator/seal', '/_strongroom/operator/seal-status']);

/**
 * The edge's gate of a deployment with a sealed start (README "Sealed start"). Sealed, it answers every request
 * but health and the operator routes itself (http/sealed-answer.ts), before anything is read, authenticated or
 * written: the audit log is fail-closed and a sealed server has no audit key, so it must not serve. Unsealed,
 * it counts the requests in flight, so that `seal` waits for them before it wipes the keys they may be using.
 */
export class SealGate {
  #sealed: boolean;
  #inFlight = 0;
  #idle: Array<() => void> = [];

  constructor(sealed: boolean) {
    this.#sealed = sealed;
  }

  get sealed(): boolean {
    return this.#sealed;
  }

  /** Whether the gate answered `ex` (sealed); otherwise the request proceeds, counted until its response closes. */
  admit(ex: Exchange): boolean {
    if (ALWAYS_SERVED.has((ex.req.url ?? '/').split('?')[0]!)) return false;
    if (this.#sealed) {
      answerSealed(ex);
      return true;
    }
    this.#inFlight++;
    ex.res.once('close', () => {
      if (--this.#inFlight === 0) for (const done of this.#idle.splice(0)) done();
    });
    return false;
  }

  open(): void {
    this.#sealed = false;
  }

  /** Closes the gate and waits (at most `timeoutMs`) for the requests in flight to finish. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.#sealed = true;
    if (this.#inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

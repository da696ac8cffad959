import { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body is larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export class BodyAbortedError extends Error {
  constructor() {
    super('The client closed the connection before the body was received');
    this.name = 'BodyAbortedError';
  }
}

/** No byte of the body arrived for the idle timeout: the connection is cut (it held memory and a socket). */
export class BodyIdleError extends Error {
  constructor(readonly idleMs: number) {
    super(`No part of the request body arrived for ${idleMs} ms`);
    this.name = 'BodyIdleError';
  }
}

/** The process-wide budget of not-yet-authenticated body bytes is spent: the protocol answers its throttling error. */
export class BodyBudgetExceededError extends Error {
  constructor() {
    super('Too many request bodies are waiting to be authenticated');
    this.name = 'BodyBudgetExceededError';
  }
}

/**
 * How many bytes of request bodies may be held, process-wide, before their signature is verified (KMS,
 * CloudTrail, IAM and STS sign the body's hash, so it is buffered whole before the signature can be
 * checked). Without a bound, connections that send a valid-looking header and then stall mid-body hold
 * up to the per-request limit each, for as long as the connection lives.
 */
export class UnverifiedBodyBudget {
  #used = 0;
  constructor(readonly limitBytes: number) {}

  tryTake(bytes: number): boolean {
    if (this.#used + bytes > this.limitBytes) return false;
    this.#used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#used -= bytes;
  }
}

/** Bounds on a body read before its signature is verified: the shared budget and an idle timeout. */
export interface BodyGuard {
  readonly budget: UnverifiedBodyBudget;
  /** A body that sends nothing for this long is cut off. */
  readonly idleMs: number;
}

/**
 * Reads the whole body, refusing (before reading) a Content-Length over `limit` and stopping at `limit`
 * otherwise. With a `guard`, the bytes held count against its budget until the read settles, and a body
 * that stalls for `guard.idleMs` fails with BodyIdleError. On a failure the rest of the body is not read:
 * the caller answers with `Connection: close`.
 */
export function readBody(req: IncomingMessage, limit: number, guard?: BodyGuard): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const idle = guard ? setTimeout(() => finish(new BodyIdleError(guard.idleMs)), guard.idleMs) : undefined;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (idle) clearTimeout(idle);
      if (guard) guard.budget.give(size);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (err) {
        req.resume(); // discard what arrives until the response (sent with Connection: close) ends the socket
        reject(err);
      } else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limit) return finish(new BodyTooLargeError(limit));
      if (guard && !guard.budget.tryTake(chunk.length)) return finish(new BodyBudgetExceededError());
      size += chunk.length;
      chunks.push(chunk);
      idle?.refresh();
    };
    const onEnd = () => finish();
    // The request stream fails only when its socket does (client reset, "aborted"): the client went away.
    const onError = () => finish(new BodyAbortedError());
    const onClose = () => finish(new BodyAbortedError());
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

import { randomUUID } from 'node:crypto';
import { InProcessInvalidation, InvalidationHandler } from './invalidation.js';

/** Where a shared invalidation port reports trouble (pino's Logger fits). Messages carry no key material. */
export interface InvalidationLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** A log that drops everything (tests, tools). */
export const SILENT_LOG: InvalidationLog = { warn: () => undefined, info: () => undefined };

/**
 * The local half of a port shared between processes (PostgreSQL LISTEN/NOTIFY, the SQLite table): this
 * process's subscribers, called at once for its own publications (the InvalidationPort contract: a writer's
 * next read through its own cache sees its write), and again for every publication from elsewhere. `origin`
 * names this port in what it sends, so that its own publications coming back are not delivered twice.
 */
export class LocalSubscribers {
  readonly origin = randomUUID();
  readonly #bus = new InProcessInvalidation();
  /** Every topic ever subscribed here: what "invalidate everything" covers after publications may have been missed. */
  readonly #topics = new Set<string>();

  subscribe(topic: string, handler: InvalidationHandler): () => void {
    this.#topics.add(topic);
    return this.#bus.subscribe(topic, handler);
  }

  deliver(topic: string, key: string | undefined): void {
    this.#bus.deliver(topic, key);
  }

  /** Every entry of every topic changed (publications from elsewhere may have been lost). */
  deliverAll(): void {
    for (const topic of this.#topics) this.#bus.deliver(topic, undefined);
  }
}

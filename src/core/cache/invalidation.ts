/**
 * How a change made by one writer reaches every cache of it, in this process and in every other process or
 * node that shares the store (vault's physical cache + `Invalidate` callback, minio's peer notifications).
 *
 * A topic names one kind of cached thing (TOPICS); a key names one of them within it (a key id, an access key
 * id, a bucket name); no key means every entry of the topic. Writers publish after their write is committed,
 * whether it succeeded or not (a failed write may still have changed something); caches subscribe.
 *
 * Implementations: `InProcessInvalidation` (one process: every subscriber is called before `publish`
 * resolves), and one per shared backend (PostgreSQL LISTEN/NOTIFY), which must also tell this process's own
 * subscribers before `publish` resolves, so a writer's next read through its own cache sees its write.
 * Delivery to other nodes may be late or lost (a dropped connection): caches keep a TTL as a backstop.
 */
export interface InvalidationPort {
  /**
   * Tells every subscriber of `topic`, everywhere, that `key` (or, without one, everything) changed. Never
   * rejects: a publication that cannot reach other nodes is left to their TTL backstop (the port logs it).
   */
  publish(topic: string, key?: string): Promise<void>;
  /** Calls `handler` for every publication on `topic`, this process's own included; returns the unsubscribe. */
  subscribe(topic: string, handler: InvalidationHandler): () => void;
  /**
   * Optional, for ports that can do it cheaply and synchronously: delivers now whatever other processes
   * published before this call. The server calls it as each request arrives, so a request sees every change
   * whose answer was sent before it came (read-your-writes across the workers of one machine).
   */
  sync?(): void;
}

/** `key` undefined: every entry of the topic changed. */
export type InvalidationHandler = (key: string | undefined) => void;

/** The cached things a change can invalidate, one topic each. */
export const TOPICS = {
  /** KMS key records, by key id. */
  kmsKeys: 'kms.keys',
  /** KMS grants, by key id (every grantee's lookups of the key). */
  kmsGrants: 'kms.grants',
  /** Access keys and STS session credentials, by access key id. */
  credentials: 'identity.credentials',
  /** IAM identity-based policy sets: any IAM write that can change them invalidates all (no key). */
  iamPolicies: 'iam.policies',
  /** S3 bucket records (policy, encryption, versioning), by bucket name. */
  s3Buckets: 's3.buckets',
} as const;

/** One process's invalidation bus: a publication reaches every subscriber of its topic at once. */
export class InProcessInvalidation implements InvalidationPort {
  readonly #handlers = new Map<string, Set<InvalidationHandler>>();

  async publish(topic: string, key?: string): Promise<void> {
    this.deliver(topic, key);
  }

  subscribe(topic: string, handler: InvalidationHandler): () => void {
    let set = this.#handlers.get(topic);
    if (!set) this.#handlers.set(topic, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  /** Calls the topic's subscribers now (for ports that receive publications from elsewhere). */
  deliver(topic: string, key: string | undefined): void {
    // A copy: a handler may (un)subscribe while being called.
    for (const handler of [...(this.#handlers.get(topic) ?? [])]) handler(key);
  }
}

import { InvalidationPort } from '../../src/core/cache/invalidation.js';

/** What a subscriber heard, and when (performance.now()). */
export type Heard = { key: string | undefined; at: number }[];

/** Subscribes to `topic` on `port`, recording every publication heard. */
export function listen(port: InvalidationPort, topic: string): Heard {
  const heard: Heard = [];
  port.subscribe(topic, (key) => heard.push({ key, at: performance.now() }));
  return heard;
}

/** Polls `cond` every 5 ms: true once it holds, false if it still does not after `ms`. */
export async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

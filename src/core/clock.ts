/** Time as the domain sees it (deletion windows, rotation schedules). Injectable so tests can move it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that stands still until told to move; `offset` mode follows the system clock plus an offset. */
export class ManualClock implements Clock {
  #offsetMs = 0;
  now(): number {
    return Date.now() + this.#offsetMs;
  }
  advance(ms: number): void {
    this.#offsetMs += ms;
  }
}

export const DAY_MS = 24 * 60 * 60 * 1000;

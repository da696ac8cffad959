/**
 * Keeps the requests of one connection that touch the same bytes in the order the client sent them, while the
 * others run concurrently and may be answered out of order (proto.md "Ordering of messages and writes" allows
 * that; a client pipelining a write then a read of the same range still sees its write).
 *
 * A request waits for every earlier one still in flight that overlaps it where at least one of the two writes;
 * a flush waits for every earlier write (so that it covers them, acknowledged or not). Ranges are widened to
 * `granularity` so that two unaligned writes into one device block never run side by side (the device may
 * read-modify-write whole blocks).
 */
export type Access = 'read' | 'write' | 'flush';

interface Entry {
  readonly start: number;
  readonly end: number;
  readonly access: Access;
  readonly done: Promise<void>;
}

export class OverlapOrder {
  private readonly inFlight = new Set<Entry>();

  constructor(private readonly granularity: number) {}

  /** Registers a request; `ready` resolves once the earlier requests it must follow are finished. */
  admit(offset: number, length: number, access: Access): { ready: Promise<void>; finish: () => void } {
    const g = this.granularity;
    const start = Math.floor(offset / g) * g;
    const end = Math.ceil((offset + length) / g) * g;
    const before: Promise<void>[] = [];
    for (const e of this.inFlight) {
      if (access === 'flush' ? e.access === 'write' : e.access !== 'flush' && (e.access === 'write' || access === 'write') && e.start < end && start < e.end) {
        before.push(e.done);
      }
    }
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const entry: Entry = { start, end, access, done };
    this.inFlight.add(entry);
    return {
      ready: before.length === 0 ? Promise.resolve() : Promise.all(before).then(() => undefined),
      finish: () => {
        this.inFlight.delete(entry);
        finish();
      },
    };
  }
}

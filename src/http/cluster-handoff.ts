/** How long a connection handed to a worker may stay unanswered in the primary once that worker died. */
export const STRANDED_GRACE_MS = 1_000;

/** A libuv TCP handle as node:cluster's primary holds it (a TCPWrap: no net.Socket around it). */
interface RawTcpHandle {
  getpeername(out: object): number;
  close(): void;
  /** Set by node's internal linked list while the handle waits in the round-robin queue; null once handed off. */
  _idleNext?: unknown;
}

/**
 * node:cluster's round-robin primary accepts each connection and hands it to a worker, keeping its own copy
 * open until the worker answers that it took it, so that a worker shutting down can give it back
 * (lib/internal/cluster/round_robin_handle.js, `handoff`). A worker that dies (SIGKILL, the OOM killer) before
 * it answers never does: the primary keeps that connection open forever, and its client waits forever for a
 * response no process will send (nothing times it out: the primary reads nothing from it).
 *
 * Called when a worker exited, this notes the connections the primary holds that were handed off (not the ones
 * still queued for a free worker: those are served by the workers alive) and, after STRANDED_GRACE_MS, closes
 * those still held: the client sees the connection reset, as it would for any connection the dead worker had
 * taken. Closing the primary's copy of a connection a live worker did take is harmless (the worker has its own
 * descriptor; the primary closes its copy itself once answered). Node's internals are not an API: if they
 * change, nothing matches here and the old behaviour (a hung client) is back, which the multi-node tests catch
 * (test/e2e/nodes/crash.test.ts).
 */
export function closeStrandedHandoffs(graceMs = STRANDED_GRACE_MS): void {
  const held = connectionsHeld().filter((h) => h._idleNext === null);
  if (held.length === 0) return;
  setTimeout(() => {
    const still = new Set(activeHandles());
    for (const h of held) if (still.has(h)) h.close();
  }, graceMs).unref();
}

/** The connected TCP handles the primary holds (it serves none itself: they are on their way to a worker). */
function connectionsHeld(): RawTcpHandle[] {
  return activeHandles().filter((h): h is RawTcpHandle => {
    const tcp = h as Partial<RawTcpHandle> | null;
    // A listening socket has no peer (getpeername fails); stdio and IPC pipes are not TCP.
    return tcp?.constructor?.name === 'TCP' && typeof tcp.getpeername === 'function' && tcp.getpeername({}) === 0;
  });
}

function activeHandles(): unknown[] {
  const p = process as unknown as { _getActiveHandles?: () => unknown[] };
  return p._getActiveHandles?.() ?? [];
}

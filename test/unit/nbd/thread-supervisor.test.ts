import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { NbdConfig } from '../../../src/config/nbd.js';
import { NbdThread, NbdThreadDeps, superviseNbdThread } from '../../../src/protocols/nbd/thread/host.js';

/**
 * superviseNbdThread's rule, with the thread's start injected (the real one is exercised end to end by every NBD
 * test): a thread that exits other than by close() is started again on the port it had; close() ends it for good.
 */
function fakeStarts(opts: { failFirstRestarts?: number } = {}) {
  const started: Array<{ port: number; crash: () => void; closed: boolean }> = [];
  let failures = opts.failFirstRestarts ?? 0;
  const start = async (config: NbdConfig, deps: NbdThreadDeps): Promise<NbdThread> => {
    if (started.length > 0 && failures > 0) {
      failures--;
      throw new Error('EADDRINUSE');
    }
    const port = config.port === 0 ? 40000 + started.length : config.port;
    const entry = { port, crash: () => deps.onUnexpectedExit?.(), closed: false };
    started.push(entry);
    return {
      url: `nbd://127.0.0.1:${port}`,
      close: async () => void (entry.closed = true),
    };
  };
  return { started, start };
}

const deps = (lines: string[]): NbdThreadDeps => ({
  exports: {} as NbdThreadDeps['exports'],
  store: {} as NbdThreadDeps['store'],
  blobs: {} as NbdThreadDeps['blobs'],
  durable: async () => undefined,
  log: pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) }),
  logLevel: 'warn',
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(5);
  assert.ok(cond());
}

describe('the NBD thread supervisor', () => {
  it('starts a thread that exited unexpectedly again, on the port it was given (port 0 asked), and logs it', async () => {
    const lines: string[] = [];
    const { started, start } = fakeStarts();
    const nbd = await superviseNbdThread({ host: '127.0.0.1', port: 0 }, deps(lines), { start, restartDelayMs: 10 });
    assert.equal(nbd.url, 'nbd://127.0.0.1:40000');
    started[0]!.crash();
    await until(() => started.length === 2);
    assert.equal(started[1]!.port, 40000, 'the same port as before, not a new random one');
    assert.equal(nbd.url, 'nbd://127.0.0.1:40000');
    assert.ok(lines.some((l) => /started again/.test(l)));
    await nbd.close();
    assert.equal(started[1]!.closed, true, 'close() closes the thread running now');
  });

  it('a start that fails is tried again; after close() nothing is started', async () => {
    const lines: string[] = [];
    const { started, start } = fakeStarts({ failFirstRestarts: 2 });
    const nbd = await superviseNbdThread({ host: '127.0.0.1', port: 10809 }, deps(lines), { start, restartDelayMs: 10 });
    started[0]!.crash();
    await until(() => started.length === 2);
    assert.equal(lines.filter((l) => /starting the NBD thread again failed/.test(l)).length, 2);
    await nbd.close();
    started[1]!.crash();
    await sleep(60);
    assert.equal(started.length, 2, 'a thread that exits after close() is not started again');
  });
});

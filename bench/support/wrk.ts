import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LoadOptions, Run } from './load.js';
import { RawRequest } from './sigv4.js';

const run = promisify(execFile);

/** wrk (C, epoll) needs far less CPU per request than autocannon, so more of the machine is left to the server. */
export async function wrkAvailable(): Promise<boolean> {
  try {
    await run('wrk', ['--version']);
    return true;
  } catch (err) {
    // `wrk --version` prints its banner and exits 1.
    return typeof (err as { stdout?: unknown }).stdout === 'string' && String((err as { stdout: string }).stdout).includes('wrk');
  }
}

const lua = (s: string) => JSON.stringify(s); // a JSON string literal is a valid Lua string literal for ASCII

/** Replays `request` with wrk (one thread, `connections` connections) and parses its summary. */
export async function replayWrk(url: string, request: RawRequest, load: LoadOptions): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'sr-wrk-'));
  try {
    const script = join(dir, 'request.lua');
    const headers = Object.entries(request.headers)
      .filter(([name]) => name.toLowerCase() !== 'host' && name.toLowerCase() !== 'content-length')
      .map(([name, value]) => `wrk.headers[${lua(name)}] = ${lua(String(value))}`);
    writeFileSync(script, [`wrk.method = ${lua(request.method)}`, `wrk.body = ${lua(request.body)}`, ...headers, ''].join('\n'));
    const { stdout } = await run('wrk', ['-t1', `-c${load.connections}`, `-d${load.seconds}s`, '--latency', '-s', script, url], {
      maxBuffer: 1 << 20,
    });
    return parseWrk(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseWrk(out: string): Run {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
  const latencyMs = (pct: string) => {
    const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const total = num(/(\d+) requests in/);
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    rps: Math.round(num(/Requests\/sec:\s+([\d.]+)/)),
    p50Ms: latencyMs('50'),
    p99Ms: latencyMs('99'),
    total,
    non2xx,
    errors,
    mismatches: 0,
    statusCodes: { '2xx': total - non2xx, ...(non2xx > 0 ? { other: non2xx } : {}) },
  };
}

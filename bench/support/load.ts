import autocannon from 'autocannon';
import { RawRequest } from './sigv4.js';

export interface LoadOptions {
  readonly seconds: number;
  readonly connections: number;
}

/** One autocannon run, reduced to what the report needs. */
export interface Run {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly total: number;
  readonly non2xx: number;
  /** Connection errors, timeouts included. */
  readonly errors: number;
  /** 2xx responses whose body differed from the expected one (only checked where it is constant). */
  readonly mismatches: number;
  readonly statusCodes: Record<string, number>;
  /**
   * The server's CPU time (user + system, all its threads: the libuv pool's too) per request of the run, in µs,
   * from /proc/<pid>/stat; unset where /proc is not there. Steadier than rps on a shared machine: other work
   * slows the server down but does not make its requests cost more CPU.
   */
  readonly cpuUsPerRequest?: number;
}

/** The repeats of one measurement and the run that stands for them. */
export interface Measurement {
  readonly median: Run;
  readonly runs: readonly Run[];
}

/**
 * Replays `request` (the same bytes on every request) at `url` with autocannon in this process.
 * Pipelining stays at 1: AWS SDKs do not pipeline, and pipelining would flatter the bare server most.
 */
export async function replay(url: string, request: RawRequest, load: LoadOptions, expectBody?: string): Promise<Run> {
  const result = await autocannon({
    url,
    connections: load.connections,
    duration: load.seconds,
    pipelining: 1,
    method: request.method,
    headers: request.headers,
    body: request.body,
    ...(expectBody !== undefined ? { expectBody } : {}),
  });
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]));
  return {
    rps: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    mismatches: result.mismatches,
    statusCodes,
  };
}

/**
 * Keeps the run with the median throughput as the figure, so that its latencies come from the same
 * run as its rate (a 2-core machine is noisy; one run proves little). Every run stays in `runs`: an
 * error in any of them must be reported.
 */
export function summarize(runs: readonly Run[]): Measurement {
  if (runs.length === 0) throw new Error('no runs to summarize');
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)]!, runs: [...runs] };
}

/** Counts of everything that went wrong across the runs of a measurement. */
export function faults(m: Measurement): { non2xx: number; errors: number; mismatches: number; statusCodes: Record<string, number> } {
  const statusCodes: Record<string, number> = {};
  for (const r of m.runs) for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  return {
    non2xx: sum(m.runs.map((r) => r.non2xx)),
    errors: sum(m.runs.map((r) => r.errors)),
    mismatches: sum(m.runs.map((r) => r.mismatches)),
    statusCodes,
  };
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

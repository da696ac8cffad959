import autocannon from 'autocannon';
import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { LoadOptions, Run } from './load.js';
import { parseWrk } from './wrk.js';

const run = promisify(execFile);

/**
 * A pool of requests that differ only in path and signature (a distinct object key per request), with
 * the same method, other headers and ASCII body. The load generator sends them in order and starts over
 * when the pool is exhausted (then keys are overwritten).
 */
export interface RequestPool {
  readonly method: 'PUT' | 'GET';
  /** Headers every request carries (x-amz-content-sha256, SSE-C headers, …). */
  readonly headers: Readonly<Record<string, string>>;
  /** ASCII (wrk's Lua script holds it as a string literal); empty for GET. */
  readonly body: string;
  readonly size: number;
  /** The i-th request's path and the headers that change with it (x-amz-date, authorization). */
  entry(i: number): { path: string; date: string; authorization: string };
}

const lua = (s: string) => JSON.stringify(s); // a JSON string literal is a valid Lua string literal for ASCII

/** wrk, one thread, `connections` connections, walking the pool with a Lua request() function. */
export async function replayPoolWrk(url: string, pool: RequestPool, load: LoadOptions): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'sr-wrk-pool-'));
  try {
    const list = join(dir, 'requests.tsv');
    const out = createWriteStream(list);
    for (let i = 0; i < pool.size; i++) {
      const e = pool.entry(i);
      if (!out.write(`${e.path}\t${e.date}\t${e.authorization}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    out.end();
    await finished(out);
    const script = join(dir, 'pool.lua');
    const headerLines = Object.entries(pool.headers).map(([name, value]) => `headers[${lua(name)}] = ${lua(value)}`);
    writeFileSync(
      script,
      [
        'local paths, dates, auths = {}, {}, {}',
        'local n, i = 0, 0',
        'local headers = {}',
        ...headerLines,
        `local body = ${pool.body === '' ? 'nil' : lua(pool.body)}`,
        'function init(args)',
        '  for line in io.lines(args[1]) do',
        '    local p, d, a = line:match("^([^\\t]*)\\t([^\\t]*)\\t(.*)$")',
        '    n = n + 1',
        '    paths[n], dates[n], auths[n] = p, d, a',
        '  end',
        'end',
        'function request()',
        '  i = i + 1',
        '  if i > n then i = 1 end',
        '  headers["x-amz-date"] = dates[i]',
        '  headers["Authorization"] = auths[i]',
        `  return wrk.format(${lua(pool.method)}, paths[i], headers, body)`,
        'end',
        '',
      ].join('\n'),
    );
    const { stdout } = await run('wrk', ['-t1', `-c${load.connections}`, `-d${load.seconds}s`, '--latency', '-s', script, url, '--', list], {
      maxBuffer: 1 << 20,
    });
    return parseWrk(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** autocannon in this process, the same pool walked by setupRequest. */
export async function replayPoolAutocannon(url: string, pool: RequestPool, load: LoadOptions): Promise<Run> {
  let i = 0;
  const result = await autocannon({
    url,
    connections: load.connections,
    duration: load.seconds,
    pipelining: 1,
    method: pool.method,
    headers: { ...pool.headers },
    ...(pool.body !== '' ? { body: pool.body } : {}),
    requests: [
      {
        setupRequest: (req) => {
          const e = pool.entry(i++ % pool.size);
          return { ...req, path: e.path, headers: { ...pool.headers, 'x-amz-date': e.date, authorization: e.authorization } };
        },
      },
    ],
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

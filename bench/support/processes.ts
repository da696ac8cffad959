import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/** A server running in its own process, so that it does not share a CPU with the load generator. */
export interface ChildServer {
  readonly name: string;
  readonly url: string;
  /** Host and port as a client sends them in the Host header. */
  readonly host: string;
  /** Where the child's stdout and stderr go (its access log, if any). */
  readonly logFile: string;
  /** The child's process id (to read its /proc/<pid>/status), undefined if it could not be spawned. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/**
 * Last-resort cleanup for paths that skip `finally` (process.exit, a second Ctrl-C): kills every child
 * still running. Synchronous on purpose, as 'exit' handlers must be.
 */
export function killAllChildren(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/**
 * Whatever happens (an exception, Ctrl-C, process.exit), no server and no temp dir outlives the bench: on exit,
 * kills every child and removes `tmp`; SIGINT and SIGTERM exit (128 + the signal) so that the 'exit' handler runs.
 * Answers the cleanup, for the bench's `finally` to run as soon as it is done.
 */
export function cleanUpOnExit(bench: string, tmp: string): () => void {
  const cleanUp = () => {
    killAllChildren();
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`${bench}: ${signal}, stopping\n`);
      process.exit(128 + constants.signals[signal]);
    });
  }
  return cleanUp;
}

/**
 * Starts `node <args>` with stdout and stderr going to `logFile`, and waits for the line that
 * `listening` matches (its first group is the base URL). The output goes to a file rather than a pipe
 * so that reading a busy server's log costs the bench process (the load generator) nothing.
 */
export async function startChild(opts: {
  name: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  listening: RegExp;
  cwd: string;
  timeoutMs?: number;
}): Promise<ChildServer> {
  const fd = openSync(opts.logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, opts.args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd); // the child has its own copy
  }
  live.add(child);
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `exited (code ${code}, signal ${signal})`;
      live.delete(child);
      resolve();
    });
    // Could not be spawned at all: there will be no 'exit'.
    child.once('error', (err) => {
      exited ??= `failed: ${err.message}`;
      live.delete(child);
      resolve();
    });
  });

  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM'); // both servers shut down cleanly on SIGTERM (and flush --cpu-prof)
    const killed = await Promise.race([exit.then(() => false), sleep(10_000).then(() => true)]);
    if (killed) {
      child.kill('SIGKILL');
      await exit;
    }
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    const output = readFileSync(opts.logFile, 'utf8');
    const m = opts.listening.exec(output);
    if (m) {
      const url = m[1]!;
      return { name: opts.name, url, host: new URL(url).host, logFile: opts.logFile, pid: child.pid, stop };
    }
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`${opts.name} ${exited ?? 'did not start in time'}; its output:\n${output.slice(-4000)}`);
    }
    await sleep(50);
  }
}

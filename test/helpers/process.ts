import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  stdout(): string;
  stderr(): string;
  /** Sends SIGTERM and resolves to the exit code. */
  terminate(): Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Kills every serve process a test started and did not stop (call from `after`). */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Starts `strongroom serve` (bin/strongroom.js) as its own process and waits for its listening line. */
export async function spawnServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['bin/strongroom.js', 'serve', '--port', '0', ...args], {
    // One process unless the test asks for workers: a SIGKILL of the child is then a crash of the whole server.
    env: { ...process.env, STRONGROOM_LOG_LEVEL: 'warn', STRONGROOM_WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 20 s; stderr: ${err}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
  });
  return {
    child,
    url,
    stdout: () => out,
    stderr: () => err,
    async terminate() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

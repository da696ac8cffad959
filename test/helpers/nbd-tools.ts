import { execFile, spawnSync } from 'node:child_process';

/** The Debian tools the NBD end-to-end tests drive (libnbd-bin, qemu-utils, e2fsprogs; .ci/run installs them). */
const TOOLS = ['nbdinfo', 'nbdcopy', 'qemu-io', 'qemu-img', 'mke2fs', 'e2fsck', 'debugfs'];

/** Why the tools cannot run (skip reason), or undefined. Under CI a missing tool fails instead of skipping. */
export function nbdToolsMissing(): string | undefined {
  const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }).status !== 0);
  if (missing.length === 0) return undefined;
  const why = `not installed: ${missing.join(', ')} (apt-get install libnbd-bin qemu-utils e2fsprogs)`;
  if (process.env.CI) throw new Error(why);
  return why;
}

export interface ToolRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a tool to the end without blocking the event loop (the NBD server under test runs in this process).
 * Never rejects: the exit code is the result.
 */
export function runTool(cmd: string, args: string[], timeoutMs = 60_000, env: NodeJS.ProcessEnv = {}): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin`, LIBNBD_DEBUG: '0', ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** libnbd's debug output: where it prints the server's error messages, which its errors leave out. */
export const LIBNBD_DEBUG = { LIBNBD_DEBUG: '1' };

/** Like runTool, but a non-zero exit fails with the tool's stderr. */
export async function mustRun(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await runTool(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

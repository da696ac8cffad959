import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanUpOnExit } from './processes.js';

/** A line of a bench's progress, on stderr (stdout is the report). */
export function progress(text: string): void {
  process.stderr.write(`  ${text}\n`);
}

/**
 * A bench's main: reads its settings, makes its temp dir (removed, with every child server, whatever happens:
 * cleanUpOnExit) and the settings' CPU profile dir if any, runs `run` in it; exit code 1 when `run` reports
 * failures (false) or anything throws (printed as `<bench> failed: <stack>`).
 */
export function runBench<S extends object>(
  bench: string,
  tmpPrefix: string,
  settings: () => S | Promise<S>,
  run: (tmp: string, settings: S) => Promise<boolean>,
): void {
  const main = async (): Promise<void> => {
    const s = await settings();
    const tmp = mkdtempSync(join(tmpdir(), tmpPrefix));
    const cleanUp = cleanUpOnExit(bench, tmp);
    const { cpuProfDir } = s as { cpuProfDir?: string };
    if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
    progress(`servers and data in ${tmp}`);
    try {
      if (!(await run(tmp, s))) process.exitCode = 1;
    } finally {
      cleanUp();
    }
  };
  main().catch((err: unknown) => {
    process.stderr.write(`${bench} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}

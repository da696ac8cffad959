/**
 * `npm run bench:volumes`: an attached Strongroom volume used as a disk over NBD, against the same I/O on a plain
 * file on the same disk, measured in the same run (issue 12's Speed).
 *
 * Three targets, each driven by fio (Debian's fio has an `nbd` engine, through libnbd):
 *   - strongroom: `strongroom serve --nbd-listen` (its own process, SQLite data dir in the bench's temp dir),
 *     a volume made and attached with the aws CLI; fio's nbd engine on nbd://127.0.0.1:PORT/vol-….
 *   - nbdkit file (if nbdkit is installed): nbdkit's file plugin serving a plain file over the same protocol —
 *     the NBD floor (same transport and client, no encryption, no volume store).
 *   - plain file: fio's psync engine on a file (O_DIRECT off; fio drops the file's page cache before each job).
 * Before every read job the page cache of each target's files is dropped (the volume's segment files, nbdkit's
 * image, the plain file): every target reads from the disk.
 * Jobs, on the first BENCH_VOLUME_MIB MiB: sequential write (1 MiB blocks, iodepth 8, fsync/flush at the end) and
 * read (1 MiB, iodepth 8); 4 KiB random read and write (iodepth 16 over NBD; psync is one at a time) for
 * BENCH_DURATION seconds, the writes flushed at the end. Medians of BENCH_REPEATS runs; ratios to the plain file
 * and to nbdkit. Target (the issue's): sequential ≥ 0.5× the plain file.
 *
 * Environment:
 *   BENCH_VOLUME_MIB   bytes per sequential job and random range, MiB (default 256)
 *   BENCH_DURATION     seconds per random job (default 10)
 *   BENCH_REPEATS      runs per job (default 3)
 *   BENCH_CPU_PROF     a directory: run Strongroom under `node --cpu-prof`, the profile kept there
 *   BENCH_JOBS         comma-separated words: only the jobs whose name contains one (e.g. `sequential`)
 *   BENCH_TARGETS      comma-separated words: only the targets whose name contains one (the plain file always runs)
 *
 * Output: a table on stdout, then the results as one line of JSON (also written to .bench/volumes.json).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { killAllChildren } from './support/processes.js';
import { positiveNumber, startStrongroom } from './support/strongroom.js';
import { BENCH_CREDENTIALS, BENCH_REGION } from './support/sigv4.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SEQUENTIAL_TARGET = 0.5;

const MIB = positiveNumber(process.env.BENCH_VOLUME_MIB, 256, 'BENCH_VOLUME_MIB');
const DURATION = positiveNumber(process.env.BENCH_DURATION, 10, 'BENCH_DURATION');
const REPEATS = positiveNumber(process.env.BENCH_REPEATS, 3, 'BENCH_REPEATS');

interface Job {
  readonly name: string;
  readonly kind: 'MiB/s' | 'IOPS';
  readonly args: readonly string[];
}

const ALL_JOBS: readonly Job[] = [
  { name: 'sequential write 1 MiB', kind: 'MiB/s', args: ['--rw=write', '--bs=1M', '--iodepth=8', '--end_fsync=1'] },
  { name: 'sequential read 1 MiB', kind: 'MiB/s', args: ['--rw=read', '--bs=1M', '--iodepth=8'] },
  { name: 'random read 4 KiB', kind: 'IOPS', args: ['--rw=randread', '--bs=4k', '--iodepth=16', `--runtime=${DURATION}`, '--time_based'] },
  { name: 'random write 4 KiB', kind: 'IOPS', args: ['--rw=randwrite', '--bs=4k', '--iodepth=16', `--runtime=${DURATION}`, '--time_based', '--end_fsync=1'] },
];

const wanted = (name: string, list: string | undefined) => !list || list.split(',').some((w) => w.trim() !== '' && name.includes(w.trim()));
/** The sequential write always runs first when a read job runs: the reads read what it wrote. */
const JOBS = ALL_JOBS.filter((j) => wanted(j.name, process.env.BENCH_JOBS) || (j.name.startsWith('sequential write') && ALL_JOBS.some((r) => r.name.includes('read') && wanted(r.name, process.env.BENCH_JOBS))));

interface Target {
  readonly name: string;
  /** fio arguments naming the target (engine and where). */
  readonly fio: readonly string[];
  /**
   * The files holding the target's bytes, whose page cache is dropped before each read job — as fio does for the
   * plain file (invalidate=1) — so that every target reads from the disk, not from memory.
   */
  readonly files: () => string[];
}

/** Drops the page cache of `files` (GNU dd's iflag=nocache on the whole file: POSIX_FADV_DONTNEED). */
async function dropCache(files: readonly string[]): Promise<void> {
  for (const f of files) await run('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none']);
}

/** Every regular file under dir. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env, maxBuffer: 64 << 20, timeout: 15 * 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

async function have(cmd: string): Promise<boolean> {
  return run('sh', ['-c', `command -v ${cmd}`]).then(() => true, () => false);
}

/** One fio job; resolves to MiB/s or IOPS of its read or write side. */
async function fio(target: Target, job: Job): Promise<number> {
  const out = await run('fio', ['--name=bench', '--output-format=json', `--size=${MIB}M`, ...target.fio, ...job.args]);
  const j = JSON.parse(out.slice(out.indexOf('{'))) as { jobs: Array<{ error: number; read: { bw_bytes: number; iops: number }; write: { bw_bytes: number; iops: number } }> };
  const r = j.jobs[0]!;
  if (r.error !== 0) throw new Error(`fio ${job.name} on ${target.name}: error ${r.error}`);
  const side = job.args.some((a) => a.includes('write')) ? r.write : r.read;
  return job.kind === 'MiB/s' ? side.bw_bytes / (1 << 20) : side.iops;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function main(): Promise<void> {
  for (const tool of ['fio', 'aws']) if (!(await have(tool))) throw new Error(`${tool} is needed (apt-get install fio awscli)`);
  if (!(await run('fio', ['--enghelp'])).includes('nbd')) throw new Error("this fio has no nbd engine (Debian's has)");
  const dir = mkdtempSync(join(tmpdir(), 'sr-bench-volumes-'));
  const cpuProfDir = process.env.BENCH_CPU_PROF;
  const strongroom = await startStrongroom({
    name: 'strongroom',
    dataDir: join(dir, 'data'),
    logFile: join(dir, 'strongroom.log'),
    serveArgs: ['--nbd-listen', '127.0.0.1:0'],
    cpuProfDir,
  });
  const stops: Array<() => Promise<void>> = [() => strongroom.stop()];
  try {
    const nbdBase = /NBD: attached volumes exported on (nbd:\/\/\S+)\/<volume-id>/.exec(readFileSync(strongroom.logFile, 'utf8'))?.[1];
    if (!nbdBase) throw new Error('no NBD line in the banner');
    const awsEnv = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_'))),
      AWS_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
      AWS_DEFAULT_REGION: BENCH_REGION,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_PAGER: '',
    };
    const aws = (args: string[]) => run('aws', ['--endpoint-url', strongroom.url, '--output', 'text', ...args], awsEnv);
    const sizeGiB = Math.max(1, Math.ceil(MIB / 1024));
    const volumeId = (await aws(['ec2', 'create-volume', '--size', String(sizeGiB), '--availability-zone', `${BENCH_REGION}a`, '--encrypted', '--query', 'VolumeId'])).trim();
    await aws(['ec2', 'attach-volume', '--volume-id', volumeId, '--instance-id', 'i-0123456789abcdef0', '--device', '/dev/sdf']);

    const plainFile = join(dir, 'plain.img');
    const targets: Target[] = [{ name: 'strongroom', fio: ['--ioengine=nbd', `--uri=${nbdBase}/${volumeId}`], files: () => filesUnder(join(dir, 'data', 'blobs')) }];
    if (await have('nbdkit')) {
      const kitFile = join(dir, 'nbdkit.img');
      writeFileSync(kitFile, '');
      await run('truncate', ['-s', `${sizeGiB}G`, kitFile]);
      const port = await freePort();
      const kit = spawn('nbdkit', ['-f', '--exit-with-parent', '-i', '127.0.0.1', '-p', String(port), 'file', kitFile], { stdio: 'ignore' });
      stops.push(async () => void kit.kill('SIGTERM'));
      for (let i = 0; i < 50 && !(await run('nbdinfo', [`nbd://127.0.0.1:${port}`]).then(() => true, () => false)); i++) await sleep(100);
      targets.push({ name: 'nbdkit file', fio: ['--ioengine=nbd', `--uri=nbd://127.0.0.1:${port}`], files: () => [kitFile] });
    }
    // fio invalidates the plain file's cache itself; dropping it here too changes nothing.
    targets.push({ name: 'plain file', fio: ['--ioengine=psync', `--filename=${plainFile}`], files: () => [plainFile] });
    for (const t of [...targets]) if (t.name !== 'plain file' && !wanted(t.name, process.env.BENCH_TARGETS)) targets.splice(targets.indexOf(t), 1);

    const results: Record<string, Record<string, { median: number; runs: number[] }>> = {};
    for (const job of JOBS) {
      for (const t of targets) {
        const runs: number[] = [];
        // Runs of the targets alternate within each job, so that a slow moment of the machine hits all of them.
        for (let i = 0; i < REPEATS; i++) {
          if (job.name.includes('read')) await dropCache(t.files());
          runs.push(await fio(t, job));
        }
        (results[job.name] ??= {})[t.name] = { median: median(runs), runs };
        process.stderr.write(`${job.name.padEnd(24)} ${t.name.padEnd(12)} ${runs.map((r) => r.toFixed(0)).join(' ')} ${job.kind}\n`);
      }
    }

    const pad = (s: string, n: number) => s.padEnd(n);
    console.log(`\nbench:volumes — ${MIB} MiB, random jobs ${DURATION} s, median of ${REPEATS}; volume ${volumeId} (encrypted, aws/ebs)\n`);
    console.log(`${pad('job', 26)}${targets.map((t) => pad(t.name, 16)).join('')}${pad('× plain file', 14)}× nbdkit`);
    const json: Record<string, unknown> = { mib: MIB, durationSeconds: DURATION, repeats: REPEATS, jobs: {} };
    let sequentialOk = true;
    for (const job of JOBS) {
      const r = results[job.name]!;
      if (!r.strongroom) continue;
      const s = r.strongroom.median;
      const vsFile = s / r['plain file']!.median;
      const vsKit = r['nbdkit file'] ? s / r['nbdkit file'].median : undefined;
      if (job.kind === 'MiB/s' && vsFile < SEQUENTIAL_TARGET) sequentialOk = false;
      console.log(
        `${pad(job.name, 26)}${targets.map((t) => pad(`${r[t.name]!.median.toFixed(job.kind === 'IOPS' ? 0 : 1)} ${job.kind}`, 16)).join('')}` +
          `${pad(vsFile.toFixed(2), 14)}${vsKit === undefined ? '-' : vsKit.toFixed(2)}`,
      );
      (json.jobs as Record<string, unknown>)[job.name] = { unit: job.kind, ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v])), ratioToPlainFile: vsFile, ratioToNbdkit: vsKit };
    }
    console.log(`\nsequential target ≥ ${SEQUENTIAL_TARGET}× the plain file: ${sequentialOk ? 'met' : 'NOT met'}`);
    json.sequentialTargetMet = sequentialOk;
    console.log(JSON.stringify(json));
    mkdirSync(join(REPO, '.bench'), { recursive: true });
    writeFileSync(join(REPO, '.bench', 'volumes.json'), JSON.stringify(json, null, 2) + '\n');
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

process.on('exit', killAllChildren);
main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});

/**
 * `npm run bench:audit`: LookupEvents latency over a big audit log. Fills a throwaway data dir with a million
 * CloudTrail records (through the audit store's own append: hash chain and checkpoint as the server writes
 * them — see audit-fill.ts for their mix), starts `strongroom serve` on it as a child process, and makes
 * SigV4-signed LookupEvents calls with @aws-sdk/client-cloudtrail, one at a time, for every lookup attribute,
 * for time windows, for an attribute within a window, and for later pages (NextToken). Prints p50/p99 per
 * query kind against the issue's target (p99 under 50 ms), and `strongroom audit verify`'s time over the log.
 * Every answer is checked to match its query (an exit code of 1 otherwise, or when a call failed).
 *
 * Environment:
 *   BENCH_AUDIT_RECORDS   records to fill (default 1,000,000)
 *   BENCH_AUDIT_SAMPLES   calls per query kind (default 200)
 *   BENCH_AUDIT_DATA_DIR  fill this data dir and keep it (reused as is when it already holds the records)
 *
 * Output: a table on stdout, then the results as one line of JSON (also written to .bench/audit.json).
 */
import { CloudTrailClient, Event, LookupEventsCommand, LookupEventsCommandInput } from '@aws-sdk/client-cloudtrail';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SQLITE_FILE } from '../src/store/metadata/sqlite/database.js';
import { openStores } from '../src/stores.js';
import { FileRootOfTrust } from '../src/core/crypto/root-of-trust/file.js';
import { TreeHeadSigner } from '../src/core/audit/tree-head-key.js';
import { FillSpec, accessKeyIdOf, fill, keyArnOf, recordAt, userNameOf } from './audit-fill.js';
import { killAllChildren } from './support/processes.js';
import { startStrongroom } from './support/strongroom.js';
import { BENCH_ACCOUNT, BENCH_CREDENTIALS, BENCH_REGION } from './support/sigv4.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const STRONGROOM_BIN = join(REPO, 'bin', 'strongroom.js');
const TARGET_P99_MS = 50;
const DAY_MS = 86_400_000;

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got '${value}'`);
  return n;
}

interface Kind {
  readonly name: string;
  /** The i-th query of this kind, and what every returned event must satisfy. */
  query(i: number): { input: LookupEventsCommandInput; check: (e: Event) => boolean; pages?: number };
}

interface Result {
  readonly kind: string;
  readonly calls: number;
  readonly events: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<number> {
  const records = positiveInt(process.env.BENCH_AUDIT_RECORDS, 1_000_000, 'BENCH_AUDIT_RECORDS');
  const samples = positiveInt(process.env.BENCH_AUDIT_SAMPLES, 200, 'BENCH_AUDIT_SAMPLES');
  const keep = process.env.BENCH_AUDIT_DATA_DIR ? resolve(process.env.BENCH_AUDIT_DATA_DIR) : undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'strongroom-bench-audit-'));
  const dataDir = keep ?? join(tmp, 'data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const now = Date.now();
  const spec: FillSpec = { records, accountId: BENCH_ACCOUNT, otherAccountId: '444455556666', region: BENCH_REGION, endMs: now - 60_000, spanMs: 90 * DAY_MS, users: 40, roles: 10, keys: 2_000 };

  let fillSeconds: number | undefined;
  const existing = existsSync(join(dataDir, SQLITE_FILE))
    ? (() => {
        const db = new Database(join(dataDir, SQLITE_FILE), { readonly: true });
        try {
          return (db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
        } catch {
          return 0;
        } finally {
          db.close();
        }
      })()
    : 0;
  if (existing >= records) {
    process.stdout.write(`reusing ${dataDir} (${existing.toLocaleString('en-US')} records)\n`);
  } else {
    if (existing > 0) throw new Error(`${dataDir} holds ${existing} records, fewer than ${records}: use an empty dir`);
    const stores = await openStores({ dataDir });
    const t0 = process.hrtime.bigint();
    try {
      const root = FileRootOfTrust.openOrCreate(dataDir);
      const signer = await TreeHeadSigner.openOrCreate(stores.audit, root);
      await root.close();
      await fill(stores.audit, signer, spec, 20_000, (done) => {
        if (done % 100_000 === 0 || done === records) process.stdout.write(`filled ${done.toLocaleString('en-US')} records\r`);
      });
    } finally {
      await stores.close();
    }
    fillSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    process.stdout.write(`\nfilled ${records.toLocaleString('en-US')} records in ${fillSeconds.toFixed(1)} s (${Math.round(records / fillSeconds).toLocaleString('en-US')} records/s)\n`);
  }

  const server = await startStrongroom({ name: 'strongroom', dataDir, logFile: join(tmp, 'strongroom.log') });
  const client = new CloudTrailClient({ endpoint: server.url, region: BENCH_REGION, credentials: BENCH_CREDENTIALS, maxAttempts: 1 });
  const results: Result[] = [];
  let failures = 0;
  try {
    const start = spec.endMs - spec.spanMs;
    const windowAt = (i: number, width: number) => {
      const from = start + ((i * 7919) % 1000) / 1000 * (spec.spanMs - width);
      return { StartTime: new Date(from), EndTime: new Date(from + width) };
    };
    const inWindow = (e: Event, w: { StartTime: Date; EndTime: Date }) => e.EventTime!.getTime() >= Math.floor(w.StartTime.getTime() / 1000) * 1000 && e.EventTime!.getTime() <= w.EndTime.getTime();
    const names = ['Decrypt', 'DescribeKey', 'CreateKey', 'ScheduleKeyDeletion', 'AssumeRole', 'GetUser', 'CreateUser', 'LookupEvents'];
    // An event id of the bench account near the i-th position of the log.
    const eventIdAt = (i: number) => {
      let n = Math.floor(((i * 104729) % 1000) / 1000 * records);
      if (n % 10 === 9) n -= 1;
      return (recordAt(spec, n) as { eventID: string }).eventID;
    };
    const kinds: Kind[] = [
      { name: 'no attribute (newest 50)', query: () => ({ input: {}, check: () => true }) },
      ...(['EventName', 'Username', 'AccessKeyId', 'EventSource', 'ReadOnly', 'ResourceType', 'ResourceName', 'EventId'] as const).map((key): Kind => ({
        name: key,
        query: (i) => {
          const value = {
            EventName: () => names[i % names.length]!,
            Username: () => (i % 5 === 0 ? 'root' : userNameOf(i % spec.users)),
            AccessKeyId: () => accessKeyIdOf(i % spec.users),
            EventSource: () => ['kms', 'iam', 'sts', 'cloudtrail'][i % 4]! + '.amazonaws.com',
            ReadOnly: () => String(i % 2 === 0),
            ResourceType: () => 'AWS::KMS::Key',
            ResourceName: () => keyArnOf(spec, BENCH_ACCOUNT, (i * 37) % spec.keys),
            EventId: () => eventIdAt(i),
          }[key]();
          const field = { EventName: 'EventName', Username: 'Username', AccessKeyId: 'AccessKeyId', EventSource: 'EventSource', ReadOnly: 'ReadOnly', EventId: 'EventId' } as const;
          return {
            input: { LookupAttributes: [{ AttributeKey: key, AttributeValue: value }] },
            check: (e) =>
              key === 'ResourceType' || key === 'ResourceName'
                ? (e.Resources ?? []).some((r) => (key === 'ResourceType' ? r.ResourceType : r.ResourceName) === value)
                : e[field[key]] === value,
          };
        },
      })),
      {
        name: 'time window (1 h)',
        query: (i) => {
          const w = windowAt(i, 3_600_000);
          return { input: { ...w }, check: (e) => inWindow(e, w) };
        },
      },
      {
        name: 'time window (30 days)',
        query: (i) => {
          const w = windowAt(i, 30 * DAY_MS);
          return { input: { ...w }, check: (e) => inWindow(e, w) };
        },
      },
      {
        name: 'EventName + 1 day window',
        query: (i) => {
          const w = windowAt(i, DAY_MS);
          const name = names[i % names.length]!;
          return { input: { ...w, LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }] }, check: (e) => e.EventName === name && inWindow(e, w) };
        },
      },
      {
        name: 'ResourceName + 7 day window',
        query: (i) => {
          const w = windowAt(i, 7 * DAY_MS);
          const arn = keyArnOf(spec, BENCH_ACCOUNT, (i * 37) % spec.keys);
          return { input: { ...w, LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: arn }] }, check: (e) => inWindow(e, w) && (e.Resources ?? []).some((r) => r.ResourceName === arn) };
        },
      },
      {
        name: 'Username, pages 2-5 (NextToken)',
        query: (i) => {
          const user = userNameOf(i % spec.users);
          return { input: { LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: user }] }, check: (e) => e.Username === user, pages: 5 };
        },
      },
    ];

    // Warm-up: the JIT, the credential cache and SQLite's page cache for the first pages.
    for (let i = 0; i < 20; i++) await client.send(new LookupEventsCommand({}));

    for (const kind of kinds) {
      const times: number[] = [];
      let events = 0;
      for (let i = 0; i < samples; i++) {
        const { input, check, pages = 1 } = kind.query(i);
        let token: string | undefined;
        for (let page = 1; page <= pages; page++) {
          const t0 = process.hrtime.bigint();
          let out;
          try {
            out = await client.send(new LookupEventsCommand({ ...input, MaxResults: 50, ...(token ? { NextToken: token } : {}) }));
          } catch (err) {
            failures += 1;
            process.stderr.write(`${kind.name}: ${String(err)}\n`);
            break;
          }
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          // The paging kind measures the pages after the first.
          if (pages === 1 || page > 1) times.push(ms);
          for (const e of out.Events ?? []) {
            events += 1;
            if (!check(e)) {
              failures += 1;
              process.stderr.write(`${kind.name}: an event that does not match the query: ${e.EventId}\n`);
            }
          }
          token = out.NextToken;
          if (!token) break;
        }
      }
      times.sort((a, b) => a - b);
      if (times.length === 0) {
        // A data dir too small for this kind (no second page to page to): nothing to report, and no failure.
        process.stdout.write(`${kind.name.padEnd(34)} no calls measured (too few records for this query)\n`);
        continue;
      }
      const r = { kind: kind.name, calls: times.length, events, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99), maxMs: times[times.length - 1]! };
      results.push(r);
      process.stdout.write(`${r.kind.padEnd(34)} p50 ${r.p50Ms.toFixed(1).padStart(6)} ms  p99 ${r.p99Ms.toFixed(1).padStart(6)} ms  max ${r.maxMs.toFixed(1).padStart(6)} ms  (${r.calls} calls, ${r.events} events)\n`);
    }
  } finally {
    client.destroy();
    await server.stop();
  }

  const t0 = process.hrtime.bigint();
  const verify = spawnSync(process.execPath, [STRONGROOM_BIN, 'audit', 'verify', '--data-dir', dataDir], { encoding: 'utf8' });
  const verifySeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`strongroom audit verify: exit ${verify.status} in ${verifySeconds.toFixed(1)} s — ${verify.stdout.trim()}\n`);
  if (verify.status !== 0) failures += 1;

  const worst = Math.max(...results.map((r) => r.p99Ms));
  process.stdout.write(`worst p99 ${worst.toFixed(1)} ms: target p99 < ${TARGET_P99_MS} ms ${worst < TARGET_P99_MS ? 'met' : 'NOT met'}\n`);
  const summary = { records, samples, fillSeconds, verifySeconds, results, worstP99Ms: worst, targetP99Ms: TARGET_P99_MS, failures };
  mkdirSync(join(REPO, '.bench'), { recursive: true });
  writeFileSync(join(REPO, '.bench', 'audit.json'), JSON.stringify(summary));
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  if (!keep) rmSync(tmp, { recursive: true, force: true });
  return failures > 0 ? 1 : 0;
}

process.on('exit', killAllChildren);
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { keyIdOf } from '../../src/core/audit/tree-head.js';
import { StoredLink, verifyLog } from '../../src/core/audit/verify.js';
import { CRASH_BUCKET, CrashBackend, LocationStores, OpenLocation, crashVersion } from './crash-location.js';

const WRITER = fileURLToPath(new URL('./crash-writer.js', import.meta.url));
const KEY = generateKeyPairSync('ed25519');
const VERIFY_KEY = { keyId: keyIdOf(KEY.publicKey), publicKey: KEY.publicKey };

interface Run {
  readonly lines: string[];
  readonly code: number | null;
  readonly signal: string | null;
  readonly stderr: string;
}

/** Runs the writer (crash-writer.ts) on `location` until it exits or kills itself. */
async function writer(backend: CrashBackend, location: string, mode: 'crash' | 'race', count: number, tag = 'a'): Promise<Run> {
  const child = spawn(process.execPath, [WRITER, backend.module, location, mode, String(count), tag], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CRASH_SIGNING_KEY: KEY.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64') },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  const lines = out.split('\n').filter((l) => l !== '');
  assert.ok(lines.includes('ready'), `the writer did not start: ${err}`);
  return { lines, code, signal, stderr: err };
}

const acked = (run: Run) => run.lines.filter((l) => l.startsWith('acked ')).map((l) => l.split(' ') as [string, string, string]).map(([, key, versionId]) => ({ key, versionId }));

async function withStores<T>(backend: CrashBackend, location: string, fn: (s: LocationStores) => Promise<T>): Promise<T> {
  const { openLocation } = (await import(backend.module)) as { openLocation: OpenLocation };
  const stores = await openLocation(location);
  try {
    return await fn(stores);
  } finally {
    await stores.close();
  }
}

/** The whole audit log, checked by verifyLog against the writers' key; the event ids it holds. */
async function verifiedLog(s: LocationStores): Promise<Set<string>> {
  const links: StoredLink[] = [];
  for (let batch = await s.audit.links(0, 1000); batch.length > 0; batch = await s.audit.links(links[links.length - 1]!.seq, 1000)) links.push(...batch);
  const report = verifyLog({ rows: links, checkpoint: await s.audit.checkpoint(), treeHeads: await s.audit.treeHeads(), key: VERIFY_KEY });
  assert.deepEqual(report.problems, []);
  assert.equal(report.records, links.length);
  return new Set(links.map((l) => (JSON.parse(l.record) as { eventID: string }).eventID));
}

/**
 * Processes, not calls: acknowledged means kept when the process that wrote dies (SIGKILL: no close, no
 * flush) mid-burst, and two processes on one location neither refuse each other's writes nor both win a
 * conditional create. Each backend's test file runs it with a module that opens a location as the server does.
 */
export function crashContract(backend: CrashBackend): void {
  it('a process killed mid-burst loses no acknowledged S3 write or audit record, and leaves a log that verifies', async () => {
    const location = await backend.fresh();
    const run = await writer(backend, location, 'crash', 40);
    assert.equal(run.signal, 'SIGKILL', run.stderr);
    const answered = acked(run);
    assert.ok(answered.length >= 40, `only ${answered.length} writes acknowledged`);
    await withStores(backend, location, async (s) => {
      for (const { key, versionId } of answered) assert.deepEqual(await s.s3.getVersion(CRASH_BUCKET, key), crashVersion(Number(versionId.slice(1))), `acknowledged write ${key}`);
      // Whatever else is there (written but not answered) is whole.
      const listed = await s.s3.listVersions(CRASH_BUCKET, { prefix: '', keyMarker: '', versionIdMarker: '', limit: 10_000 });
      assert.ok(listed.length >= answered.length);
      for (const v of listed) assert.deepEqual(v, crashVersion(Number(v.versionId.slice(1))));
      const ids = await verifiedLog(s);
      for (const { key } of answered) assert.ok(ids.has(`a-put-${key}`), `acknowledged audit record of ${key}`);
    });
  });

  it('two processes opening one new location and writing at once: no write refused, one winner per conditional create, one log', async () => {
    const location = await backend.fresh();
    const [a, b] = await Promise.all([writer(backend, location, 'race', 12, 'a'), writer(backend, location, 'race', 12, 'b')]);
    for (const run of [a, b]) {
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.lines.filter((l) => l.startsWith('refused')), []);
    }
    const answered = [...acked(a), ...acked(b)];
    const shared = new Map<string, string[]>();
    for (const { key, versionId } of answered) if (Number(key.slice(2)) >= 2_000_000) shared.set(key, [...(shared.get(key) ?? []), versionId]);
    const lost = [...a.lines, ...b.lines].filter((l) => l.startsWith('lost ')).map((l) => l.slice(5));
    assert.equal(shared.size, 12 * 4);
    assert.ok([...shared.values()].every((winners) => winners.length === 1), 'a conditional create won by both processes');
    assert.deepEqual(lost.sort(), [...shared.keys()].sort());
    assert.equal(answered.length, 2 * 12 * 12 + 12 * 4);
    await withStores(backend, location, async (s) => {
      for (const { key, versionId } of answered) assert.equal((await s.s3.getVersion(CRASH_BUCKET, key))?.versionId, versionId, `acknowledged write ${key}`);
      const ids = await verifiedLog(s);
      assert.equal(ids.size, 2 + answered.length);
    });
  });
}

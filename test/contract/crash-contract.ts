import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { keyIdOf } from '../../src/core/audit/tree-head.js';
import { StoredLink, verifyLog } from '../../src/core/audit/verify.js';
import { CRASH_BUCKET, CrashBackend, OpenLocation, crashVersion } from './crash-location.js';

const WRITER = fileURLToPath(new URL('./crash-writer.js', import.meta.url));

/** Runs the crash writer on `location` until it kills itself; what it acknowledged, and its audit signing key. */
async function crashWriter(backend: CrashBackend, location: string, killAfter: number): Promise<{ acked: number[]; publicKeyDer: Buffer; signal: string | null }> {
  const child = spawn(process.execPath, [WRITER, backend.module, location, String(killAfter)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  const lines = out.split('\n');
  const key = lines.find((l) => l.startsWith('key '));
  assert.ok(key, `the writer did not start: ${err}`);
  return {
    acked: lines.filter((l) => l.startsWith('acked ')).map((l) => Number(l.slice(6))),
    publicKeyDer: Buffer.from(key.slice(4), 'base64'),
    signal,
  };
}

/**
 * Acknowledged means kept: a process killed (SIGKILL: no close, no flush) in the middle of concurrent S3
 * writes and audit commits, as the server makes them, leaves every write it answered, and a log that
 * verifies. Each backend's test file runs it with a module that opens a location as the server does.
 */
export function crashContract(backend: CrashBackend): void {
  it('a process killed mid-burst loses no acknowledged S3 write or audit record, and leaves a log that verifies', async () => {
    const location = await backend.fresh();
    const run = await crashWriter(backend, location, 40);
    assert.equal(run.signal, 'SIGKILL');
    assert.ok(run.acked.length >= 40, `only ${run.acked.length} writes acknowledged`);

    const { openLocation } = (await import(backend.module)) as { openLocation: OpenLocation };
    const stores = await openLocation(location);
    try {
      for (const n of run.acked) assert.deepEqual(await stores.s3.getVersion(CRASH_BUCKET, crashVersion(n).key), crashVersion(n), `acknowledged write ${n}`);
      // Whatever else is there (written but not answered) is whole.
      const listed = await stores.s3.listVersions(CRASH_BUCKET, { prefix: '', keyMarker: '', versionIdMarker: '', limit: 10_000 });
      assert.ok(listed.length >= run.acked.length);
      for (const v of listed) assert.deepEqual(v, crashVersion(Number(v.versionId.slice(1))));

      const links: StoredLink[] = [];
      for (let batch = await stores.audit.links(0, 1000); batch.length > 0; batch = await stores.audit.links(links[links.length - 1]!.seq, 1000)) links.push(...batch);
      const ids = new Set(links.map((l) => (JSON.parse(l.record) as { eventID: string }).eventID));
      for (const n of run.acked) assert.ok(ids.has(`put-${n}`), `acknowledged audit record put-${n}`);
      const publicKey = createPublicKey({ key: run.publicKeyDer, format: 'der', type: 'spki' });
      const report = verifyLog({ rows: links, checkpoint: await stores.audit.checkpoint(), treeHeads: await stores.audit.treeHeads(), key: { keyId: keyIdOf(publicKey), publicKey } });
      assert.deepEqual(report.problems, []);
      assert.equal(report.records, links.length);
    } finally {
      await stores.close();
    }
  });
}

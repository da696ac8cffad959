// A child process of the crash contract (crash-contract.ts): opens a location's stores as the server does and
// writes S3 versions and audit records in concurrent bursts the way the server does (the S3 write, then the
// call's audit record through AuditLog, the answer only after both), printing each write it answered.
//   crash N: kills itself with SIGKILL (no close, no flush) after N answers, the next burst still in flight.
//   race N:  N bursts, each also racing the other writer process for shared keys (If-None-Match: *), then exits;
//            a write refused for any reason other than its condition is printed as `refused`.
import { createPrivateKey } from 'node:crypto';
import { AuditLog } from '../../src/core/audit/audit-log.js';
import { TreeHeadSigner } from '../../src/core/audit/tree-head-key.js';
import { WriteConditionFailed } from '../../src/store/metadata/s3-types.js';
import { auditRecord } from './trail-stores.js';
import { CRASH_BUCKET, OpenLocation, crashVersion } from './crash-location.js';

const [moduleUrl, location, mode, countText, tag = 'w'] = process.argv.slice(2);
const count = Number(countText);
const { openLocation } = (await import(moduleUrl!)) as { openLocation: OpenLocation };
const stores = await openLocation(location!);
const signer = new TreeHeadSigner(createPrivateKey({ key: Buffer.from(process.env.CRASH_SIGNING_KEY!, 'base64'), format: 'der', type: 'pkcs8' }));
const log = new AuditLog(stores.audit, signer);
const say = (line: string) => process.stdout.write(`${line}\n`);

await stores.s3.createBucket({ name: CRASH_BUCKET, accountId: '111122223333', region: 'us-east-1', createdAt: 1, versioning: 'Enabled', encryption: null, policy: null });
await log.append(auditRecord(`${tag}-create-bucket`));
say('ready');

let acked = 0;
for (let round = 0; mode === 'crash' || round < count; round++) {
  const burst = Array.from({ length: 16 }, async (_, i) => {
    const n = round * 16 + i;
    // Race mode: the two writers use disjoint numbers for their own keys, and every 4th write is a create of a
    // key both of them try (versionId names the writer, so the one kept tells who won).
    const shared = mode === 'race' && i % 4 === 0;
    const own = tag === 'b' ? n + 1_000_000 : n;
    const v = shared ? { ...crashVersion(round * 4 + i / 4 + 2_000_000), versionId: `v${round * 4 + i / 4 + 2_000_000}-${tag}` } : crashVersion(own);
    try {
      await stores.s3.putVersion(v, true, shared ? { ifNoneMatch: true } : undefined);
      await log.append(auditRecord(`${tag}-put-${v.key}`));
      say(`acked ${v.key} ${v.versionId}`);
    } catch (err) {
      if (err instanceof WriteConditionFailed) say(`lost ${v.key}`);
      else if (mode === 'race') say(`refused ${String((err as { code?: string }).code ?? err)}`);
      else throw err;
    }
    if (mode === 'crash' && ++acked === count) setImmediate(() => process.kill(process.pid, 'SIGKILL'));
  });
  await Promise.all(burst);
}
await stores.close();

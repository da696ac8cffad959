// A child process of the crash contract: opens a location's stores, writes S3 versions and audit records in
// concurrent bursts the way the server does (the S3 write, then the call's audit record through AuditLog,
// the answer only after both), prints each acknowledged write, and kills itself with SIGKILL — no close, no
// flush — after `killAfter` acknowledgements, with the next burst still in flight.
import { generateKeyPairSync } from 'node:crypto';
import { AuditLog } from '../../src/core/audit/audit-log.js';
import { TreeHeadSigner } from '../../src/core/audit/tree-head-key.js';
import { auditRecord } from './trail-stores.js';
import { CRASH_BUCKET, OpenLocation, crashVersion } from './crash-location.js';

const [moduleUrl, location, killAfterText] = process.argv.slice(2);
const killAfter = Number(killAfterText);
const { openLocation } = (await import(moduleUrl!)) as { openLocation: OpenLocation };
const stores = await openLocation(location!);
const signer = new TreeHeadSigner(generateKeyPairSync('ed25519').privateKey);
const log = new AuditLog(stores.audit, signer);
process.stdout.write(`key ${signer.publicKey.export({ format: 'der', type: 'spki' }).toString('base64')}\n`);
await stores.s3.createBucket({ name: CRASH_BUCKET, accountId: '111122223333', region: 'us-east-1', createdAt: 1, versioning: 'Enabled', encryption: null, policy: null });
await log.append(auditRecord('create-bucket'));
process.stdout.write('ready\n');

let acked = 0;
for (let round = 0; ; round++) {
  const burst = Array.from({ length: 16 }, async (_, i) => {
    const n = round * 16 + i;
    await stores.s3.putVersion(crashVersion(n), true);
    await log.append(auditRecord(`put-${n}`));
    process.stdout.write(`acked ${n}\n`);
    if (++acked === killAfter) setImmediate(() => process.kill(process.pid, 'SIGKILL'));
  });
  await Promise.all(burst);
}

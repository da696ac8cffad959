/**
 * Micro benchmark of one SSE-KMS write path: N sequential 1 KiB PutObject calls with a customer managed KMS
 * key over HTTP (real S3 client), reporting wall time and how many times the audit log waited for
 * durability (each such wait is one WAL fsync: the calls are sequential, so none coalesce).
 * `node dist/bench/sse-kms-put.js [N]` after `npx tsc -p tsconfig.json` (default N = 200).
 */
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { AuditSink } from '../src/core/audit/audit-log.js';
import { startServer } from '../test/helpers/server.js';

const n = Number(process.argv[2] ?? 200);
let syncs = 0;
const server = await startServer({
  auditSink: (sink: AuditSink): AuditSink => ({
    append: (build) => sink.append(build),
    ...(sink.durable ? { durable: () => (syncs++, sink.durable!()) } : {}),
  }),
});
try {
  const s3 = server.s3();
  const { KeyMetadata } = await server.kms().send(new CreateKeyCommand({}));
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const body = Buffer.alloc(1024, 7);
  const put = (i: number) =>
    s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `o${i}`, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KeyMetadata!.KeyId! }));
  for (let i = 0; i < 20; i++) await put(-1 - i); // warm up
  syncs = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await put(i);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(JSON.stringify({ puts: n, wallMs: Math.round(ms), msPerPut: +(ms / n).toFixed(2), durabilityWaits: syncs, waitsPerPut: +(syncs / n).toFixed(2) }));
} finally {
  await server.destroy();
}

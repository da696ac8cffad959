// Conditional writes over HTTP with @aws-sdk/client-s3: If-None-Match: * creates a key only when it has no
// current object (PutObject, CopyObject, CompleteMultipartUpload), If-Match only over the ETag given. The
// condition is decided in the transaction that commits the version, so of many concurrent creates of one key
// exactly one wins and every other gets 412 (or 409 ConditionalRequestConflict, which AWS documents for races).
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, ListPartsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { s3XmlError, sendRaw, signedS3Request } from '../../helpers/raw-request.js';
import { TestServer, rejection, startServer } from '../../helpers/server.js';

const MiB = 1024 * 1024;

/** Files under <dataDir>/blobs, not counting writes in progress. */
function blobCount(dataDir: string): number {
  const root = join(dataDir, 'blobs');
  if (!existsSync(root)) return 0;
  let n = 0;
  for (const d of readdirSync(root)) if (!d.startsWith('.')) n += readdirSync(join(root, d)).length;
  return n;
}

type Outcome = { ok: true; body: Buffer } | { ok: false; name: string; status: number | undefined };

async function settle(p: Promise<unknown>, body: Buffer): Promise<Outcome> {
  try {
    await p;
    return { ok: true, body };
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { ok: false, name: e.name, status: e.$metadata?.httpStatusCode };
  }
}

/** Exactly one success; every other outcome a 412 PreconditionFailed (the server never answers 409 ConditionalRequestConflict: the commit decides). Returns the winner's body. */
function exactlyOneWinner(outcomes: Outcome[]): Buffer {
  const wins = outcomes.filter((o): o is Extract<Outcome, { ok: true }> => o.ok);
  assert.equal(wins.length, 1, `exactly one create wins: ${JSON.stringify(outcomes.map((o) => (o.ok ? 'ok' : `${o.status} ${o.name}`)))}`);
  for (const o of outcomes) {
    if (o.ok) continue;
    assert.ok(o.status === 412 && o.name === 'PreconditionFailed', `${o.status} ${o.name}`);
  }
  return wins[0]!.body;
}

const text = async (out: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) => Buffer.from(await out.Body!.transformToByteArray());

describe('conditional writes (If-None-Match: *, If-Match)', () => {
  let server: TestServer;
  let s3: S3Client;

  before(async () => {
    server = await startServer();
    s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'cond' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'cond-v' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'cond-v', VersioningConfiguration: { Status: 'Enabled' } }));
  });
  after(async () => server.destroy());

  it('PutObject If-None-Match: * creates a new key, then 412 PreconditionFailed while it exists (the object unchanged); a delete marker does not count', async () => {
    for (const Bucket of ['cond', 'cond-v']) {
      await s3.send(new PutObjectCommand({ Bucket, Key: 'once', Body: 'first', IfNoneMatch: '*' }));
      const again = await rejection(s3.send(new PutObjectCommand({ Bucket, Key: 'once', Body: 'second', IfNoneMatch: '*' })));
      assert.equal(again.name, 'PreconditionFailed');
      assert.equal(again.$metadata?.httpStatusCode, 412);
      assert.equal((await text(await s3.send(new GetObjectCommand({ Bucket, Key: 'once' })))).toString(), 'first');
      await s3.send(new DeleteObjectCommand({ Bucket, Key: 'once' }));
      await s3.send(new PutObjectCommand({ Bucket, Key: 'once', Body: 'after delete', IfNoneMatch: '*' }));
      assert.equal((await text(await s3.send(new GetObjectCommand({ Bucket, Key: 'once' })))).toString(), 'after delete');
    }
  });

  it('20 concurrent PutObject If-None-Match: * of one key over HTTP: exactly one wins, the object is the winner\'s, no loser leaves a blob', async () => {
    for (const [Key, size] of [['race-small', 1000], ['race-large', 300_000]] as const) {
      const before = blobCount(server.dataDir);
      const bodies = Array.from({ length: 20 }, () => randomBytes(size));
      // Separate clients: separate connections, so the requests really are in flight together.
      const clients = bodies.map(() => server.s3());
      const outcomes = await Promise.all(bodies.map((Body, i) => settle(clients[i]!.send(new PutObjectCommand({ Bucket: 'cond', Key, Body, IfNoneMatch: '*' })), Body)));
      const winner = exactlyOneWinner(outcomes);
      assert.ok((await text(await s3.send(new GetObjectCommand({ Bucket: 'cond', Key })))).equals(winner));
      if (size > 200_000) assert.equal(blobCount(server.dataDir), before + 1, 'only the winner\'s blob remains');
      for (const c of clients) c.destroy();
    }
  });

  it('If-Match: the current ETag writes, another ETag → 412, no object → 404 NoSuchKey; If-None-Match with an ETag → 501 NotImplemented', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'cas', Body: 'v1' }));
    const wrong = await rejection(s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'cas', Body: 'v2', IfMatch: '"00000000000000000000000000000000"' })));
    assert.equal(wrong.name, 'PreconditionFailed');
    const ok = await s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'cas', Body: 'v2', IfMatch: put.ETag }));
    assert.notEqual(ok.ETag, put.ETag);
    assert.equal((await rejection(s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'cas', Body: 'v3', IfMatch: put.ETag })))).name, 'PreconditionFailed', 'the old ETag no longer matches');
    const missing = await rejection(s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'no-such', Body: 'x', IfMatch: put.ETag })));
    assert.equal(missing.name, 'NoSuchKey');
    assert.equal(missing.$metadata?.httpStatusCode, 404);
    const req = await signedS3Request(server.url, { method: 'PUT', path: '/cond/etag-value', headers: { 'if-none-match': `${ok.ETag}` }, body: 'x' });
    const res = await sendRaw(server.url, req);
    assert.equal(res.status, 501);
    assert.equal(s3XmlError(res).code, 'NotImplemented');
    assert.equal((await rejection(s3.send(new GetObjectCommand({ Bucket: 'cond', Key: 'etag-value' })))).name, 'NoSuchKey');
  });

  it('CopyObject If-None-Match: * onto an existing key → 412; onto a new key it copies', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'copy-src', Body: 'source' }));
    await s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'copy-dst', Body: 'kept' }));
    assert.equal((await rejection(s3.send(new CopyObjectCommand({ Bucket: 'cond', Key: 'copy-dst', CopySource: 'cond/copy-src', IfNoneMatch: '*' })))).name, 'PreconditionFailed');
    assert.equal((await text(await s3.send(new GetObjectCommand({ Bucket: 'cond', Key: 'copy-dst' })))).toString(), 'kept');
    await s3.send(new CopyObjectCommand({ Bucket: 'cond', Key: 'copy-new', CopySource: 'cond/copy-src', IfNoneMatch: '*' }));
    assert.equal((await text(await s3.send(new GetObjectCommand({ Bucket: 'cond', Key: 'copy-new' })))).toString(), 'source');
  });

  it('CompleteMultipartUpload If-None-Match: * → 412 while the key exists, the upload stays and completes once the key is gone', async () => {
    const Key = 'mpu-once';
    await s3.send(new PutObjectCommand({ Bucket: 'cond', Key, Body: 'already here' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'cond', Key }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'cond', Key, UploadId, PartNumber: 1, Body: 'the parts' }));
    const complete = () => s3.send(new CompleteMultipartUploadCommand({ Bucket: 'cond', Key, UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] } }));
    const refused = await rejection(complete());
    assert.equal(refused.name, 'PreconditionFailed');
    assert.equal(refused.$metadata?.httpStatusCode, 412);
    assert.equal((await s3.send(new ListPartsCommand({ Bucket: 'cond', Key, UploadId }))).Parts?.length, 1, 'the upload is still there');
    assert.equal((await text(await s3.send(new GetObjectCommand({ Bucket: 'cond', Key })))).toString(), 'already here');
    await s3.send(new DeleteObjectCommand({ Bucket: 'cond', Key }));
    await complete();
    assert.equal((await text(await s3.send(new GetObjectCommand({ Bucket: 'cond', Key })))).toString(), 'the parts');
  });

  it('concurrent CompleteMultipartUpload If-None-Match: * of one key (and a racing PutObject): exactly one wins; a losing upload can still be aborted', async () => {
    const Key = 'mpu-race';
    const uploads = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'cond', Key }));
      const body = Buffer.concat([Buffer.from(`upload ${i} `), randomBytes(MiB)]);
      const part = await s3.send(new UploadPartCommand({ Bucket: 'cond', Key, UploadId, PartNumber: 1, Body: body }));
      return { UploadId: UploadId!, ETag: part.ETag!, body };
    }));
    const clients = uploads.map(() => server.s3());
    const putBody = Buffer.from('a racing PutObject');
    const outcomes = await Promise.all([
      ...uploads.map((u, i) => settle(clients[i]!.send(new CompleteMultipartUploadCommand({
        Bucket: 'cond', Key, UploadId: u.UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: u.ETag }] },
      })), u.body)),
      settle(s3.send(new PutObjectCommand({ Bucket: 'cond', Key, Body: putBody, IfNoneMatch: '*' })), putBody),
    ]);
    const winner = exactlyOneWinner(outcomes);
    assert.ok((await text(await s3.send(new GetObjectCommand({ Bucket: 'cond', Key })))).equals(winner));
    for (const [i, o] of outcomes.slice(0, uploads.length).entries()) {
      if (!o.ok) await s3.send(new AbortMultipartUploadCommand({ Bucket: 'cond', Key, UploadId: uploads[i]!.UploadId }));
    }
    for (const c of clients) c.destroy();
  });
});

// Versioning end to end with @aws-sdk/client-s3 (and raw signed requests where the SDK hides the wire):
// versions and delete markers as S3 keeps them (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html),
// ListObjectVersions paging, the Suspended state, and DeleteObjects with per-key authorization.
import {
  CreateBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand,
  ListObjectVersionsCommandOutput, PutBucketVersioningCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreatePolicyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Clients, allow, policyDocument } from '../../helpers/query-clients.js';
import { RawResponse, Sha256, sendRaw } from '../../helpers/raw-request.js';
import { TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

/** A SigV4-signed S3 request (path style) sent with node:http: the test sees the raw status, headers and XML. */
async function s3Raw(server: TestServer, method: string, path: string, query: Record<string, string>, body = '', headers: Record<string, string> = {}): Promise<RawResponse> {
  const url = new URL(server.url);
  const signer = new SignatureV4({ service: 's3', region: TEST_REGION, credentials: TEST_CREDENTIALS, sha256: Sha256, uriEscapePath: false });
  const req = new HttpRequest({
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query,
    headers: { host: url.host, 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'), ...headers },
    body,
  });
  const signed = await signer.sign(req);
  const qs = new URLSearchParams(query).toString().replace(/\+/g, '%20');
  return sendRaw(server.url, { method, path: path + (qs ? `?${qs}` : ''), headers: signed.headers as Record<string, string>, body });
}

/** The entries of a ListObjectVersions answer in document order: V:key:versionId or D:key:versionId (latest starred). */
function entriesInOrder(xml: string): string[] {
  return [...xml.matchAll(/<(Version|DeleteMarker)>(.*?)<\/\1>/g)].map(([, kind, inner]) => {
    const key = /<Key>(.*?)<\/Key>/.exec(inner!)![1];
    const id = /<VersionId>(.*?)<\/VersionId>/.exec(inner!)![1];
    const latest = /<IsLatest>true<\/IsLatest>/.test(inner!) ? '*' : '';
    return `${kind === 'Version' ? 'V' : 'D'}:${key}:${id}${latest}`;
  });
}

const text = async (s3: S3Client, Bucket: string, Key: string, VersionId?: string) =>
  (await s3.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body!.transformToString();

describe('S3 versioning, ListObjectVersions and DeleteObjects', () => {
  let server: TestServer;
  let s3: S3Client;
  let clients: Clients;
  before(async () => {
    server = await startServer();
    s3 = server.s3();
    clients = new Clients(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'ver' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'ver', VersioningConfiguration: { Status: 'Enabled' } }));
  });
  after(async () => {
    clients.destroy();
    await server.destroy();
  });

  it('keeps every version: each PUT answers its x-amz-version-id, GET/HEAD of a version answer it and its bytes', async () => {
    const ids: string[] = [];
    for (const body of ['one', 'two', 'three']) {
      const put = await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'doc.txt', Body: body }));
      assert.match(put.VersionId ?? '', /^[A-Za-z0-9_-]{32}$/);
      ids.push(put.VersionId!);
    }
    assert.equal(new Set(ids).size, 3);
    assert.equal(await text(s3, 'ver', 'doc.txt'), 'three');
    assert.equal(await text(s3, 'ver', 'doc.txt', ids[0]), 'one');
    const latest = await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'doc.txt' }));
    assert.equal(latest.VersionId, ids[2]);
    await latest.Body!.transformToString();
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'ver', Key: 'doc.txt', VersionId: ids[1] }));
    assert.equal(head.VersionId, ids[1]);
    assert.equal(head.ContentLength, 3);

    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: 'ver', Prefix: 'doc' }));
    assert.deepEqual(list.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size, v.StorageClass]), [
      [ids[2], true, 5, 'STANDARD'], [ids[1], false, 3, 'STANDARD'], [ids[0], false, 3, 'STANDARD'],
    ]);
    assert.equal(list.Versions?.[0]?.ETag, latest.ETag);
    assert.match(list.Versions?.[0]?.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
    assert.equal(list.DeleteMarkers, undefined);
    assert.equal(list.IsTruncated, false);

    assert.equal((await rejection(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'doc.txt', VersionId: 'not-a-version' })))).name, 'InvalidArgument');
    const missing = await rejection(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'doc.txt', VersionId: 'A'.repeat(32) })));
    assert.equal(missing.name, 'NoSuchVersion');
    assert.equal(missing.$metadata?.httpStatusCode, 404);
  });

  it('a DELETE without version id adds a delete marker: GET 404 and HEAD 404 with x-amz-delete-marker, GET of the marker 405, older versions stay', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'gone.txt', Body: 'still here' }));
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'gone.txt' }));
    assert.equal(del.DeleteMarker, true);
    assert.match(del.VersionId ?? '', /^[A-Za-z0-9_-]{32}$/);

    const get = await rejection(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'gone.txt' })));
    assert.equal(get.name, 'NoSuchKey');
    const getRaw = await s3Raw(server, 'GET', '/ver/gone.txt', {});
    assert.equal(getRaw.status, 404);
    assert.equal(getRaw.headers['x-amz-delete-marker'], 'true');
    assert.equal(getRaw.headers['x-amz-version-id'], del.VersionId);

    const head = await s3Raw(server, 'HEAD', '/ver/gone.txt', {});
    assert.equal(head.status, 404);
    assert.equal(head.headers['x-amz-delete-marker'], 'true');
    assert.equal(head.headers['x-amz-version-id'], del.VersionId);

    const byVersion = await s3Raw(server, 'GET', '/ver/gone.txt', { versionId: del.VersionId! });
    assert.equal(byVersion.status, 405);
    assert.match(byVersion.text, /<Code>MethodNotAllowed<\/Code>/);
    assert.equal(byVersion.headers['x-amz-delete-marker'], 'true');
    assert.ok(byVersion.headers['last-modified']);
    const headByVersion = await rejection(s3.send(new HeadObjectCommand({ Bucket: 'ver', Key: 'gone.txt', VersionId: del.VersionId })));
    assert.equal(headByVersion.$metadata?.httpStatusCode, 405);

    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: 'ver', Prefix: 'gone' }));
    assert.deepEqual(list.DeleteMarkers?.map((d) => [d.Key, d.VersionId, d.IsLatest]), [['gone.txt', del.VersionId, true]]);
    assert.deepEqual(list.Versions?.map((v) => [v.Key, v.IsLatest]), [['gone.txt', false]]);

    // Removing the marker (by version id) brings the object back.
    const undo = await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'gone.txt', VersionId: del.VersionId }));
    assert.equal(undo.DeleteMarker, true);
    assert.equal(undo.VersionId, del.VersionId);
    assert.equal(await text(s3, 'ver', 'gone.txt'), 'still here');
  });

  it('deleting a version by id removes it for good and the next newest becomes latest', async () => {
    const a = await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'pick.txt', Body: 'a' }));
    const b = await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'pick.txt', Body: 'b' }));
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'pick.txt', VersionId: b.VersionId }));
    assert.equal(del.VersionId, b.VersionId);
    assert.equal(del.DeleteMarker, undefined);
    assert.equal(await text(s3, 'ver', 'pick.txt'), 'a');
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: 'ver', Prefix: 'pick' }));
    assert.deepEqual(list.Versions?.map((v) => [v.VersionId, v.IsLatest]), [[a.VersionId, true]]);
    assert.equal((await rejection(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'pick.txt', VersionId: b.VersionId })))).name, 'NoSuchVersion');
    assert.equal((await rejection(s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'pick.txt', VersionId: 'bad' })))).name, 'InvalidArgument');
  });

  it('ListObjectVersions interleaves <Version> and <DeleteMarker> in key order, newest first, and pages with key and version-id markers', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pages' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'pages', VersioningConfiguration: { Status: 'Enabled' } }));
    for (const key of ['a', 'b', 'c/1', 'c/2', 'd']) {
      await s3.send(new PutObjectCommand({ Bucket: 'pages', Key: key, Body: `${key} v1` }));
      await s3.send(new PutObjectCommand({ Bucket: 'pages', Key: key, Body: `${key} v2` }));
    }
    await s3.send(new DeleteObjectCommand({ Bucket: 'pages', Key: 'b' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'pages', Key: 'b' }));

    const all = await s3Raw(server, 'GET', '/pages', { versions: '' });
    assert.equal(all.status, 200);
    assert.match(all.text, /^<\?xml[^>]*>\s*<ListVersionsResult xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/">/);
    const order = entriesInOrder(all.text);
    assert.equal(order.length, 12);
    assert.deepEqual(order.map((e) => e.replace(/:[^:]*$/, (m) => (m.endsWith('*') ? ':*' : ''))), [
      'V:a:*', 'V:a', 'D:b:*', 'D:b', 'V:b', 'V:b', 'V:c/1:*', 'V:c/1', 'V:c/2:*', 'V:c/2', 'V:d:*', 'V:d',
    ]);

    // Paging with the SDK: MaxKeys 5, NextKeyMarker/NextVersionIdMarker, gives the same entries in the same order.
    const paged: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    let pages = 0;
    for (;;) {
      const page: ListObjectVersionsCommandOutput = await s3.send(new ListObjectVersionsCommand({ Bucket: 'pages', MaxKeys: 5, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
      pages++;
      const entries = [...(page.Versions ?? []).map((v) => ({ k: 'V', ...v })), ...(page.DeleteMarkers ?? []).map((d) => ({ k: 'D', ...d }))];
      assert.ok(entries.length <= 5);
      const xml = await s3Raw(server, 'GET', '/pages', { versions: '', 'max-keys': '5', ...(keyMarker ? { 'key-marker': keyMarker } : {}), ...(versionIdMarker ? { 'version-id-marker': versionIdMarker } : {}) });
      paged.push(...entriesInOrder(xml.text));
      assert.equal(entries.length, entriesInOrder(xml.text).length);
      if (!page.IsTruncated) break;
      assert.ok(page.NextKeyMarker && page.NextVersionIdMarker);
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    assert.equal(pages, 3);
    assert.deepEqual(paged, order);

    // Prefix and delimiter: c/ rolls up into one CommonPrefixes entry, counted as one.
    const rolled = await s3.send(new ListObjectVersionsCommand({ Bucket: 'pages', Delimiter: '/' }));
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['c/']);
    assert.deepEqual(rolled.Versions?.map((v) => v.Key), ['a', 'a', 'b', 'b', 'd', 'd']);
    assert.equal(rolled.DeleteMarkers?.length, 2);
    const page1 = await s3.send(new ListObjectVersionsCommand({ Bucket: 'pages', Delimiter: '/', MaxKeys: 7 }));
    assert.equal(page1.IsTruncated, true);
    assert.deepEqual(page1.CommonPrefixes?.map((p) => p.Prefix), ['c/']);
    assert.equal(page1.NextKeyMarker, 'c/');
    const page2 = await s3.send(new ListObjectVersionsCommand({ Bucket: 'pages', Delimiter: '/', KeyMarker: page1.NextKeyMarker }));
    assert.deepEqual(page2.Versions?.map((v) => v.Key), ['d', 'd']);
    assert.equal(page2.CommonPrefixes, undefined);
    const underC = await s3.send(new ListObjectVersionsCommand({ Bucket: 'pages', Prefix: 'c/' }));
    assert.deepEqual(underC.Versions?.map((v) => v.Key), ['c/1', 'c/1', 'c/2', 'c/2']);

    const noKeyMarker = await s3Raw(server, 'GET', '/pages', { versions: '', 'version-id-marker': 'A'.repeat(32) });
    assert.equal(noKeyMarker.status, 400);
    assert.match(noKeyMarker.text, /<Code>InvalidArgument<\/Code>/);
  });

  it('Suspended: new writes and deletes replace the null version, older versions stay; GET ?versionId=null reads it', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'susp' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'susp', VersioningConfiguration: { Status: 'Enabled' } }));
    const kept = await s3.send(new PutObjectCommand({ Bucket: 'susp', Key: 'k', Body: 'versioned' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'susp', VersioningConfiguration: { Status: 'Suspended' } }));
    const p1 = await s3.send(new PutObjectCommand({ Bucket: 'susp', Key: 'k', Body: 'null one' }));
    assert.equal(p1.VersionId, undefined);
    await s3.send(new PutObjectCommand({ Bucket: 'susp', Key: 'k', Body: 'null two' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'susp', Key: 'k' }));
    assert.equal(got.VersionId, 'null');
    assert.equal(await got.Body!.transformToString(), 'null two');
    assert.equal(await text(s3, 'susp', 'k', 'null'), 'null two');
    let list = await s3.send(new ListObjectVersionsCommand({ Bucket: 'susp' }));
    assert.deepEqual(list.Versions?.map((v) => [v.VersionId, v.IsLatest]), [['null', true], [kept.VersionId, false]]);

    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'susp', Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    assert.equal(del.VersionId, 'null');
    list = await s3.send(new ListObjectVersionsCommand({ Bucket: 'susp' }));
    assert.deepEqual(list.DeleteMarkers?.map((d) => [d.VersionId, d.IsLatest]), [['null', true]]);
    assert.deepEqual(list.Versions?.map((v) => [v.VersionId, v.IsLatest]), [[kept.VersionId, false]]);
    assert.equal(await text(s3, 'susp', 'k', kept.VersionId), 'versioned');
  });

  it('DeleteObjects, verbose: Deleted entries with DeleteMarker/DeleteMarkerVersionId or the VersionId asked for', async () => {
    const v = await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'bulk/1', Body: '1' }));
    await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'bulk/2', Body: '2' }));
    const out = await s3.send(new DeleteObjectsCommand({
      Bucket: 'ver',
      Delete: { Objects: [{ Key: 'bulk/1', VersionId: v.VersionId }, { Key: 'bulk/2' }, { Key: 'bulk/never-was' }] },
    }));
    assert.equal(out.Errors, undefined);
    assert.equal(out.Deleted?.length, 3);
    assert.deepEqual(out.Deleted?.[0], { Key: 'bulk/1', VersionId: v.VersionId });
    assert.equal(out.Deleted?.[1]?.Key, 'bulk/2');
    assert.equal(out.Deleted?.[1]?.DeleteMarker, true);
    assert.match(out.Deleted?.[1]?.DeleteMarkerVersionId ?? '', /^[A-Za-z0-9_-]{32}$/);
    assert.equal(out.Deleted?.[2]?.DeleteMarker, true);
    assert.equal((await rejection(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'bulk/2' })))).name, 'NoSuchKey');
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: 'ver', Prefix: 'bulk/' }));
    assert.deepEqual(list.Versions?.map((x) => x.Key), ['bulk/2']);
    assert.deepEqual(list.DeleteMarkers?.map((x) => x.Key), ['bulk/2', 'bulk/never-was']);

    // Unversioned bucket: plain Deleted entries, the objects are gone.
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    for (const k of ['x', 'y']) await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: k, Body: k }));
    const plain = await s3.send(new DeleteObjectsCommand({ Bucket: 'plain', Delete: { Objects: [{ Key: 'x' }, { Key: 'y' }] } }));
    assert.deepEqual(plain.Deleted, [{ Key: 'x' }, { Key: 'y' }]);
    assert.equal((await s3.send(new ListObjectVersionsCommand({ Bucket: 'plain' }))).Versions, undefined);
  });

  it('DeleteObjects, quiet: only errors come back', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'q1', Body: 'q' }));
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: 'plain', Delete: { Quiet: true, Objects: [{ Key: 'q1' }, { Key: 'q2', VersionId: 'bad-version' }] } }));
    assert.equal(out.Deleted, undefined);
    assert.deepEqual(out.Errors?.map((e) => [e.Key, e.VersionId, e.Code]), [['q2', 'bad-version', 'InvalidArgument']]);
    assert.equal((await rejection(s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'q1' })))).name, 'NotFound');
  });

  it('DeleteObjects authorizes each key: an IAM user allowed only public/* gets AccessDenied entries for the rest, which stay', async () => {
    const iam = clients.iam();
    await iam.send(new CreateUserCommand({ UserName: 'cleaner' }));
    const policy = await iam.send(new CreatePolicyCommand({
      PolicyName: 'delete-public',
      PolicyDocument: policyDocument(allow('s3:DeleteObject', 'arn:aws:s3:::plain/public/*')),
    }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'cleaner', PolicyArn: policy.Policy!.Arn }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'cleaner' }))).AccessKey!;
    const user = server.s3({ credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } });
    for (const k of ['public/a', 'private/b']) await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: k, Body: k }));

    const out = await user.send(new DeleteObjectsCommand({ Bucket: 'plain', Delete: { Objects: [{ Key: 'public/a' }, { Key: 'private/b' }, { Key: 'public/c', VersionId: 'null' }] } }));
    assert.deepEqual(out.Deleted, [{ Key: 'public/a' }]);
    assert.deepEqual(out.Errors?.map((e) => [e.Key, e.Code]), [['private/b', 'AccessDenied'], ['public/c', 'AccessDenied']]);
    assert.match(out.Errors?.[0]?.Message ?? '', /is not authorized to perform: s3:DeleteObject on resource: "?arn:aws:s3:::plain\/private\/b/);
    assert.match(out.Errors?.[1]?.Message ?? '', /s3:DeleteObjectVersion/);
    assert.equal(await text(s3, 'plain', 'private/b'), 'private/b');
    assert.equal((await rejection(s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'public/a' })))).name, 'NotFound');
  });

  it('DeleteObjects needs Content-MD5 or x-amz-checksum-*, checks it, and takes 1 to 1000 keys', async () => {
    const body = '<Delete><Object><Key>z</Key></Object></Delete>';
    const bare = await s3Raw(server, 'POST', '/plain', { delete: '' }, body);
    assert.equal(bare.status, 400);
    assert.match(bare.text, /<Code>InvalidRequest<\/Code><Message>Missing required header for this request: Content-MD5 OR x-amz-checksum-\*<\/Message>/);
    const wrong = await s3Raw(server, 'POST', '/plain', { delete: '' }, body, { 'content-md5': createHash('md5').update('other').digest('base64') });
    assert.equal(wrong.status, 400);
    assert.match(wrong.text, /<Code>BadDigest<\/Code>/);
    const good = await s3Raw(server, 'POST', '/plain', { delete: '' }, body, { 'content-md5': createHash('md5').update(body).digest('base64') });
    assert.equal(good.status, 200);
    assert.match(good.text, /<DeleteResult xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/"><Deleted><Key>z<\/Key><\/Deleted><\/DeleteResult>/);
    const tooMany = `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`;
    const big = await s3Raw(server, 'POST', '/plain', { delete: '' }, tooMany, { 'content-md5': createHash('md5').update(tooMany).digest('base64') });
    assert.equal(big.status, 400);
    assert.match(big.text, /<Code>MalformedXML<\/Code>/);
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import {
  BucketRecord, ObjectVersionRecord, S3Store, StoredPart, UploadRecord, WriteConditionFailed,
} from '../../src/store/metadata/s3-types.js';
import { OpenFresh } from './reopenable.js';

const ACCOUNT = '111122223333';
const OTHER = '444455556666';

const bucket = (name: string, overrides: Partial<BucketRecord> = {}): BucketRecord => ({
  name,
  accountId: ACCOUNT,
  region: 'us-east-1',
  createdAt: 1000,
  versioning: null,
  encryption: null,
  policy: null,
  ...overrides,
});

const part = (partNumber: number, blobId = `blob-${randomUUID()}`): StoredPart => ({
  partNumber,
  blobId,
  size: 5 * 1024 * 1024 + partNumber,
  etag: `etag-${blobId}`,
  salt: 'c2FsdA==',
  checksum: { CRC32: 'AAAAAA==' },
  lastModified: 2000 + partNumber,
});

const version = (b: string, key: string, versionId: string, overrides: Partial<ObjectVersionRecord> = {}): ObjectVersionRecord => ({
  bucket: b,
  key,
  versionId,
  isLatest: true,
  deleteMarker: false,
  lastModified: 3000,
  size: 11,
  etag: `etag-${key}-${versionId}`,
  ownerAccountId: ACCOUNT,
  headers: { 'content-type': 'text/plain' },
  metadata: {},
  encryption: { algorithm: 'AES256', key: { kind: 's3', sealed: `sealed-${versionId}` } },
  parts: [part(1)],
  ...overrides,
});

const marker = (b: string, key: string, versionId: string): ObjectVersionRecord =>
  version(b, key, versionId, { deleteMarker: true, size: 0, etag: '', encryption: null, parts: [], headers: {} });

const upload = (b: string, key: string, uploadId: string, overrides: Partial<UploadRecord> = {}): UploadRecord => ({
  uploadId,
  bucket: b,
  key,
  initiated: 4000,
  ownerAccountId: ACCOUNT,
  initiatorArn: `arn:aws:iam::${ACCOUNT}:root`,
  headers: { 'content-type': 'application/octet-stream' },
  metadata: { owner: 'me' },
  checksumAlgorithm: 'CRC32',
  checksumType: 'COMPOSITE',
  encryption: { algorithm: 'aws:kms', kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k`, context: { a: 'b' }, bucketKeyEnabled: false, key: { kind: 'kms', ciphertextBlob: 'Y2lwaGVy' } },
  ...overrides,
});

const keys = (vs: readonly ObjectVersionRecord[]) => vs.map((v) => v.key);
const ids = (vs: readonly ObjectVersionRecord[]) => vs.map((v) => `${v.key}@${v.versionId}${v.isLatest ? '*' : ''}${v.deleteMarker ? '(dm)' : ''}`);

/** A fresh bucket name per test (bucket names are global). */
const fresh = () => `b-${randomUUID()}`;

/**
 * The behaviour every S3 metadata store must have (src/store/metadata/s3-types.ts), asserted only through
 * S3Store; each implementation's test file runs it with its own `open`.
 */
export function s3StoreContract(open: OpenFresh<S3Store>): void {
  // ---- buckets ----

  it('creates a bucket once: a second create of the name fails in any account, and the first record stays', async () => {
    const { store: s } = await open();
    const name = fresh();
    const rec = bucket(name, { region: 'eu-west-1', createdAt: 1234 });
    assert.equal(await s.createBucket(rec), true);
    assert.equal(await s.createBucket(bucket(name)), false);
    assert.equal(await s.createBucket(bucket(name, { accountId: OTHER })), false);
    assert.deepEqual(await s.getBucket(name), rec);
    assert.equal(await s.getBucket(fresh()), undefined);
  });

  it("lists an account's buckets by name, and only that account's", async () => {
    const { store: s } = await open();
    await s.createBucket(bucket('zeta-' + fresh()));
    await s.createBucket(bucket('alpha-' + fresh()));
    await s.createBucket(bucket('mid-' + fresh(), { accountId: OTHER }));
    const mine = await s.listBuckets(ACCOUNT);
    assert.deepEqual(mine.map((b) => b.name.split('-')[0]), ['alpha', 'zeta']);
    assert.deepEqual((await s.listBuckets(OTHER)).map((b) => b.name.split('-')[0]), ['mid']);
    assert.deepEqual(await s.listBuckets('999999999999'), []);
  });

  it('updates versioning, default encryption and policy (null clears), and every later read sees the change', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name));
    assert.equal((await s.getBucket(name))?.versioning, null); // read once before: a cached read must not survive the update
    const encryption = { algorithm: 'aws:kms' as const, kmsMasterKeyId: 'alias/x', bucketKeyEnabled: true, blockedTypes: ['SSE-C' as const] };
    const updated = await s.updateBucket(name, { versioning: 'Enabled', encryption, policy: '{"Statement":[]}' });
    assert.deepEqual(updated, { ...bucket(name), versioning: 'Enabled', encryption, policy: '{"Statement":[]}' });
    assert.deepEqual(await s.getBucket(name), updated);
    // A patch changes only what it names.
    assert.deepEqual(await s.updateBucket(name, { versioning: 'Suspended' }), { ...updated, versioning: 'Suspended' });
    assert.deepEqual(await s.updateBucket(name, { encryption: null, policy: null }), { ...bucket(name), versioning: 'Suspended' });
    assert.deepEqual(await s.getBucket(name), { ...bucket(name), versioning: 'Suspended' });
    assert.deepEqual((await s.listBuckets(ACCOUNT)).find((b) => b.name === name), { ...bucket(name), versioning: 'Suspended' });
    assert.equal(await s.updateBucket(fresh(), { policy: '{}' }), undefined);
  });

  it('deletes only an empty bucket: any version or delete marker keeps it; the name is free again after', async () => {
    const { store: s } = await open();
    const name = fresh();
    assert.equal(await s.deleteBucket(name), 'missing');
    await s.createBucket(bucket(name, { versioning: 'Enabled' }));
    await s.getBucket(name);
    await s.putVersion(version(name, 'k', 'v1'), true);
    assert.equal(await s.deleteBucket(name), 'not-empty');
    await s.putVersion(marker(name, 'k', 'v2'), true);
    await s.deleteVersion(name, 'k', 'v1');
    assert.equal(await s.deleteBucket(name), 'not-empty'); // only a delete marker left
    await s.deleteVersion(name, 'k', 'v2');
    assert.deepEqual(await s.deleteBucket(name), { abortedParts: [] });
    assert.equal(await s.getBucket(name), undefined);
    assert.equal(await s.deleteBucket(name), 'missing');
    assert.equal(await s.createBucket(bucket(name, { accountId: OTHER })), true);
    assert.equal((await s.getBucket(name))?.accountId, OTHER);
  });

  it('deleting a bucket aborts its multipart uploads with it and returns their parts', async () => {
    const { store: s } = await open();
    const name = fresh();
    const other = fresh();
    await s.createBucket(bucket(name));
    await s.createBucket(bucket(other));
    await s.createUpload(upload(name, 'a', 'u1'));
    await s.createUpload(upload(name, 'b', 'u2'));
    await s.createUpload(upload(other, 'a', 'u3'));
    const p1 = part(1);
    const p2 = part(2);
    const p3 = part(1);
    const kept = part(1);
    await s.putPart('u1', p1);
    await s.putPart('u1', p2);
    await s.putPart('u2', p3);
    await s.putPart('u3', kept);
    const res = await s.deleteBucket(name);
    assert.ok(typeof res === 'object');
    assert.deepEqual(res.abortedParts.map((p) => p.blobId).sort(), [p1.blobId, p2.blobId, p3.blobId].sort());
    assert.equal(await s.getUpload(name, 'a', 'u1'), undefined);
    assert.equal(await s.abortUpload('u2'), undefined);
    assert.deepEqual(await s.listParts('u1', 0, 100), []);
    // Another bucket's upload is untouched.
    assert.deepEqual(await s.listParts('u3', 0, 100), [kept]);
    const refs = await s.referencedBlobs();
    assert.equal(refs.has(p1.blobId), false);
    assert.equal(refs.has(kept.blobId), true);
  });

  // ---- objects and versions ----

  it('reads back every field of a version exactly as written', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name, { versioning: 'Enabled' }));
    const v = version(name, 'dir/ü é/😀.txt', 'v1', {
      size: 10_485_770,
      headers: { 'content-type': 'text/plain', 'cache-control': 'no-cache', expires: 'Thu, 01 Dec 2094 16:00:00 GMT' },
      metadata: { color: 'blue', 'empty': '' },
      checksum: { algorithm: 'SHA256', value: 'abc=', type: 'COMPOSITE' },
      encryption: {
        algorithm: 'aws:kms',
        kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k1`,
        context: { department: 'x' },
        bucketKeyEnabled: true,
        key: { kind: 'bucket-key', bucketKeyBlob: 'YmxvYg==', sealed: 'c2VhbGVk' },
      },
      parts: [part(1), part(2), part(3)],
    });
    assert.deepEqual(await s.putVersion(v, true), []);
    assert.deepEqual(await s.getVersion(name, v.key), v);
    assert.deepEqual(await s.getVersion(name, v.key, 'v1'), v);
    const ssec = version(name, 'c', 'v2', { encryption: { algorithm: 'SSE-C', customerKeyMd5: 'bWQ1', key: { kind: 'sse-c', salt: 's', keyHmac: 'h', sealed: 'x' } } });
    await s.putVersion(ssec, true);
    assert.deepEqual(await s.getVersion(name, 'c'), ssec);
    assert.equal(await s.getVersion(name, 'missing'), undefined);
    assert.equal(await s.getVersion(name, v.key, 'v-none'), undefined);
    assert.equal(await s.getVersion(fresh(), v.key), undefined);
  });

  it('an unversioned bucket keeps one (null) version per key: a put replaces it and returns the one replaced', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name));
    const first = version(name, 'k', 'null', { etag: 'e1' });
    assert.deepEqual(await s.putVersion(first, false), []);
    const second = version(name, 'k', 'null', { etag: 'e2' });
    assert.deepEqual(await s.putVersion(second, false), [first]);
    assert.deepEqual(await s.getVersion(name, 'k'), second);
    assert.deepEqual(await s.getVersion(name, 'k', 'null'), second);
    assert.deepEqual(ids(await s.listVersions(name, { prefix: '', keyMarker: '', versionIdMarker: '', limit: 10 })), ['k@null*']);
  });

  it('a versioned bucket keeps every version, newest latest; a delete marker hides the key from listings but not its versions', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name, { versioning: 'Enabled' }));
    await s.putVersion(version(name, 'k', 'v1'), true);
    await s.putVersion(version(name, 'k', 'v2'), true);
    assert.equal((await s.getVersion(name, 'k'))?.versionId, 'v2');
    assert.equal((await s.getVersion(name, 'k', 'v1'))?.isLatest, false);
    assert.equal((await s.getVersion(name, 'k', 'v2'))?.isLatest, true);
    assert.deepEqual(await s.putVersion(marker(name, 'k', 'v3'), true), []);
    const latest = await s.getVersion(name, 'k');
    assert.equal(latest?.versionId, 'v3');
    assert.equal(latest?.deleteMarker, true);
    assert.deepEqual(await s.listLatest(name, { prefix: '', after: '', limit: 10 }), []);
    assert.deepEqual(ids(await s.listVersions(name, { prefix: '', keyMarker: '', versionIdMarker: '', limit: 10 })), ['k@v3*(dm)', 'k@v2', 'k@v1']);
    assert.equal((await s.getVersion(name, 'k', 'v1'))?.etag, 'etag-k-v1');
  });

  it('a suspended bucket replaces only the null version and keeps the versioned ones', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name, { versioning: 'Enabled' }));
    await s.putVersion(version(name, 'k', 'v1'), true);
    const n1 = version(name, 'k', 'null', { etag: 'n1' });
    assert.deepEqual(await s.putVersion(n1, true), []);
    await s.putVersion(version(name, 'k', 'v2'), true);
    const n2 = version(name, 'k', 'null', { etag: 'n2' });
    assert.deepEqual(await s.putVersion(n2, true), [{ ...n1, isLatest: false }]);
    assert.deepEqual(ids(await s.listVersions(name, { prefix: '', keyMarker: '', versionIdMarker: '', limit: 10 })), ['k@null*', 'k@v2', 'k@v1']);
    assert.equal((await s.getVersion(name, 'k'))?.etag, 'n2');
  });

  it('deleting the latest version makes the next newest latest; deleting an older one leaves the latest', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name, { versioning: 'Enabled' }));
    for (const v of ['v1', 'v2', 'v3', 'v4']) await s.putVersion(version(name, 'k', v), true);
    const removed = await s.deleteVersion(name, 'k', 'v2');
    assert.equal(removed?.versionId, 'v2');
    assert.equal(removed?.etag, 'etag-k-v2');
    assert.equal((await s.getVersion(name, 'k'))?.versionId, 'v4');
    assert.equal((await s.deleteVersion(name, 'k', 'v4'))?.isLatest, true);
    const now = await s.getVersion(name, 'k');
    assert.equal(now?.versionId, 'v3');
    assert.equal(now?.isLatest, true);
    assert.deepEqual(ids(await s.listVersions(name, { prefix: '', keyMarker: '', versionIdMarker: '', limit: 10 })), ['k@v3*', 'k@v1']);
    assert.equal(await s.deleteVersion(name, 'k', 'v2'), undefined);
    await s.deleteVersion(name, 'k', 'v3');
    await s.deleteVersion(name, 'k', 'v1');
    assert.equal(await s.getVersion(name, 'k'), undefined);
    assert.deepEqual(await s.listVersions(name, { prefix: '', keyMarker: '', versionIdMarker: '', limit: 10 }), []);
  });

  it('lists latest objects in UTF-8 byte order (not UTF-16), after a key, with a prefix, a page at a time', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name));
    // UTF-16 order would put '😀' (D83D…) before '\uffff'; UTF-8 puts EF BF BF before F0 9F 98 80.
    const all = ['a', 'a/b', 'a/c', 'ab', 'b', 'é', '\uffff', '😀'];
    for (const k of [...all].reverse()) await s.putVersion(version(name, k, 'null'), false);
    await s.createBucket(bucket(fresh()));
    assert.deepEqual(keys(await s.listLatest(name, { prefix: '', after: '', limit: 100 })), all);
    assert.deepEqual(keys(await s.listLatest(name, { prefix: '', after: 'a/b', limit: 100 })), ['a/c', 'ab', 'b', 'é', '\uffff', '😀']);
    assert.deepEqual(keys(await s.listLatest(name, { prefix: 'a', after: '', limit: 100 })), ['a', 'a/b', 'a/c', 'ab']);
    assert.deepEqual(keys(await s.listLatest(name, { prefix: 'a/', after: 'a/b', limit: 100 })), ['a/c']);
    assert.deepEqual(keys(await s.listLatest(name, { prefix: '\uffff', after: '', limit: 100 })), ['\uffff']);
    assert.deepEqual(keys(await s.listLatest(name, { prefix: 'z', after: '', limit: 100 })), []);
    const seen: string[] = [];
    let after = '';
    for (;;) {
      const page = await s.listLatest(name, { prefix: '', after, limit: 3 });
      assert.ok(page.length <= 3);
      if (page.length === 0) break;
      seen.push(...keys(page));
      after = page[page.length - 1]!.key;
    }
    assert.deepEqual(seen, all);
  });

  it('lists versions by key, newest first, and pages by (key, version) markers through every version once', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name, { versioning: 'Enabled' }));
    await s.putVersion(version(name, 'b', 'b1'), true);
    await s.putVersion(version(name, 'a', 'a1'), true);
    await s.putVersion(version(name, 'b', 'b2'), true);
    await s.putVersion(marker(name, 'a', 'a2'), true);
    await s.putVersion(version(name, 'b', 'b3'), true);
    await s.putVersion(version(name, 'c/x', 'c1'), true);
    const every = ['a@a2*(dm)', 'a@a1', 'b@b3*', 'b@b2', 'b@b1', 'c/x@c1*'];
    assert.deepEqual(ids(await s.listVersions(name, { prefix: '', keyMarker: '', versionIdMarker: '', limit: 100 })), every);
    assert.deepEqual(ids(await s.listVersions(name, { prefix: 'c/', keyMarker: '', versionIdMarker: '', limit: 100 })), ['c/x@c1*']);
    // key-marker alone: strictly after the key, all its versions skipped.
    assert.deepEqual(ids(await s.listVersions(name, { prefix: '', keyMarker: 'a', versionIdMarker: '', limit: 100 })), every.slice(2));
    // key-marker and version-id-marker: the versions of that key older than the marker, then later keys.
    assert.deepEqual(ids(await s.listVersions(name, { prefix: '', keyMarker: 'b', versionIdMarker: 'b3', limit: 100 })), ['b@b2', 'b@b1', 'c/x@c1*']);
    const seen: string[] = [];
    let cursor = { key: '', versionId: '' };
    for (;;) {
      const page = await s.listVersions(name, { prefix: '', keyMarker: cursor.key, versionIdMarker: cursor.versionId, limit: 2 });
      assert.ok(page.length <= 2);
      if (page.length === 0) break;
      seen.push(...ids(page));
      const last = page[page.length - 1]!;
      cursor = { key: last.key, versionId: last.versionId };
    }
    assert.deepEqual(seen, every);
  });

  // ---- conditional writes ----

  it('If-None-Match: * fails on a current object (nothing written), passes on a missing key or a delete marker', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name, { versioning: 'Enabled' }));
    await s.putVersion(version(name, 'k', 'v1'), true, { ifNoneMatch: true });
    await assert.rejects(s.putVersion(version(name, 'k', 'v2'), true, { ifNoneMatch: true }), (e: unknown) => e instanceof WriteConditionFailed && e.reason === 'exists');
    assert.equal((await s.getVersion(name, 'k'))?.versionId, 'v1');
    assert.equal(await s.getVersion(name, 'k', 'v2'), undefined);
    await s.putVersion(marker(name, 'k', 'v3'), true);
    await s.putVersion(version(name, 'k', 'v4'), true, { ifNoneMatch: true });
    assert.equal((await s.getVersion(name, 'k'))?.versionId, 'v4');
  });

  it("If-Match fails on a missing key, a delete marker or another ETag (nothing written), passes on the current ETag", async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name, { versioning: 'Enabled' }));
    const reason = (r: string) => (e: unknown) => e instanceof WriteConditionFailed && e.reason === r;
    await assert.rejects(s.putVersion(version(name, 'k', 'v1'), true, { ifMatch: 'x' }), reason('missing'));
    assert.equal(await s.getVersion(name, 'k'), undefined);
    await s.putVersion(version(name, 'k', 'v1', { etag: 'e1' }), true);
    await assert.rejects(s.putVersion(version(name, 'k', 'v2'), true, { ifMatch: 'e0' }), reason('etag'));
    assert.equal((await s.getVersion(name, 'k'))?.versionId, 'v1');
    await s.putVersion(version(name, 'k', 'v2', { etag: 'e2' }), true, { ifMatch: 'e1' });
    assert.equal((await s.getVersion(name, 'k'))?.versionId, 'v2');
    await s.putVersion(marker(name, 'k', 'v3'), true);
    await assert.rejects(s.putVersion(version(name, 'k', 'v4'), true, { ifMatch: '' }), reason('missing'));
    assert.equal((await s.getVersion(name, 'k'))?.versionId, 'v3');
  });

  it('of concurrent creates with If-None-Match: * of one key, exactly one succeeds', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name, { versioning: 'Enabled' }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => s.putVersion(version(name, 'k', `v${i}`), true, { ifNoneMatch: true })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof WriteConditionFailed);
    assert.equal((await s.listVersions(name, { prefix: '', keyMarker: '', versionIdMarker: '', limit: 100 })).length, 1);
  });

  it('of concurrent creates with If-None-Match: * of one key on two stores of one location (two nodes), exactly one succeeds', async () => {
    const opened = await open();
    const [a, b] = [opened.store, await opened.another()];
    const name = fresh();
    await a.createBucket(bucket(name, { versioning: 'Enabled' }));
    for (let round = 0; round < 3; round++) {
      const key = `k${round}`;
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).putVersion(version(name, key, `v${i}`), true, { ifNoneMatch: true })));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}`);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof WriteConditionFailed, String(r.reason));
      const versions = await b.listVersions(name, { prefix: key, keyMarker: '', versionIdMarker: '', limit: 100 });
      assert.deepEqual(versions.map((v) => v.isLatest), [true]);
    }
  });

  it('a bucket deleted on one store while another writes into it: either the bucket stays with the object, or it goes and the write is refused', async () => {
    const opened = await open();
    const [a, b] = [opened.store, await opened.another()];
    for (let round = 0; round < 4; round++) {
      const name = fresh();
      await a.createBucket(bucket(name));
      const [deleted, put, upl] = await Promise.allSettled([
        a.deleteBucket(name),
        b.putVersion(version(name, 'k', 'null'), false),
        b.createUpload(upload(name, 'k', `u-${name}`)),
      ]);
      assert.equal(deleted.status, 'fulfilled');
      const gone = (deleted as PromiseFulfilledResult<unknown>).value !== 'not-empty';
      if (gone) {
        // Gone: nothing of the bucket remains, and the version was refused (an upload may have been aborted with it).
        assert.equal(put.status, 'rejected', `round ${round}`);
        assert.equal(await b.getBucket(name), undefined);
        assert.equal(await a.getVersion(name, 'k'), undefined);
        assert.equal(await a.getUpload(name, 'k', `u-${name}`), undefined);
      } else {
        assert.equal(put.status, 'fulfilled', `round ${round}`);
        assert.equal((await b.getVersion(name, 'k'))?.versionId, 'null');
        if (upl.status === 'fulfilled') assert.ok(await a.getUpload(name, 'k', `u-${name}`));
      }
    }
  });

  it('keeps keys, version ids, upload ids and metadata holding U+0000 as written, in UTF-8 byte order; such names find nothing else', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name, { versioning: 'Enabled' }));
    const v = version(name, 'a\u0000b', 'v\u00001', { metadata: { 'n\u0000ul': 'x\u0000y' }, headers: { 'content-type': 'a\u0000' } });
    await s.putVersion(v, true);
    for (const k of ['a', '\u0000', 'a/', 'a\u0000']) await s.putVersion(version(name, k, 'v1'), true);
    assert.deepEqual(await s.getVersion(name, 'a\u0000b'), v);
    assert.deepEqual(await s.getVersion(name, 'a\u0000b', 'v\u00001'), v);
    assert.equal((await s.getVersion(name, 'a'))?.key, 'a');
    assert.deepEqual(keys(await s.listLatest(name, { prefix: '', after: '', limit: 100 })), ['\u0000', 'a', 'a\u0000', 'a\u0000b', 'a/']);
    assert.deepEqual(keys(await s.listLatest(name, { prefix: 'a\u0000', after: '', limit: 100 })), ['a\u0000', 'a\u0000b']);
    assert.deepEqual(keys(await s.listLatest(name, { prefix: '', after: 'a\u0000', limit: 100 })), ['a\u0000b', 'a/']);
    // A name with U+0000 that nothing has: found missing, not an error.
    assert.equal(await s.getBucket(`${name}\u0000`), undefined);
    assert.equal(await s.getVersion(name, 'a\u0000b', 'v1\u0000'), undefined);
    assert.equal(await s.getUpload(name, 'a', 'u\u0000'), undefined);
    assert.equal(await s.abortUpload('u\u0000'), undefined);
    await s.createUpload(upload(name, 'a\u0000b', 'u\u00001', { metadata: { k: '\u0000' } }));
    assert.deepEqual(await s.getUpload(name, 'a\u0000b', 'u\u00001'), upload(name, 'a\u0000b', 'u\u00001', { metadata: { k: '\u0000' } }));
    assert.deepEqual((await s.listUploads(name, 'a\u0000', '', '', 10)).map((u) => u.uploadId), ['u\u00001']);
    assert.equal((await s.deleteVersion(name, 'a\u0000b', 'v\u00001'))?.key, 'a\u0000b');
  });

  it('of two concurrent completions of one upload on two stores of one location, one writes the object and the other finds no upload', async () => {
    const opened = await open();
    const [a, b] = [opened.store, await opened.another()];
    const name = fresh();
    await a.createBucket(bucket(name));
    await a.createUpload(upload(name, 'k', 'u1'));
    const p1 = part(1);
    await a.putPart('u1', p1);
    const results = await Promise.all([a, b].map((s, i) => s.completeUpload('u1', version(name, 'k', 'null', { etag: `e${i}`, parts: [p1] }), false)));
    assert.deepEqual(results.map((r) => r === undefined).sort(), [false, true]);
    assert.deepEqual(await b.listVersions(name, { prefix: '', keyMarker: '', versionIdMarker: '', limit: 10 }).then((vs) => vs.length), 1);
    assert.equal(await a.getUpload(name, 'k', 'u1'), undefined);
  });

  // ---- multipart uploads ----

  it('keeps an upload exactly as created, found only under its own bucket and key', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name));
    const u = upload(name, 'k/ü', 'u1');
    await s.createUpload(u);
    assert.deepEqual(await s.getUpload(name, 'k/ü', 'u1'), u);
    assert.equal(await s.getUpload(name, 'other', 'u1'), undefined);
    assert.equal(await s.getUpload(fresh(), 'k/ü', 'u1'), undefined);
    assert.equal(await s.getUpload(name, 'k/ü', 'u2'), undefined);
  });

  it('a part of the same number replaces the old one (returned); parts list in number order, a page after a number', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name));
    await s.createUpload(upload(name, 'k', 'u1'));
    await s.createUpload(upload(name, 'k', 'u2'));
    const p3 = part(3);
    const p1 = part(1);
    const p2 = part(2);
    assert.equal(await s.putPart('u1', p3), undefined);
    assert.equal(await s.putPart('u1', p1), undefined);
    assert.equal(await s.putPart('u1', p2), undefined);
    await s.putPart('u2', part(1));
    const p2b = part(2);
    assert.deepEqual(await s.putPart('u1', p2b), p2);
    assert.deepEqual(await s.listParts('u1', 0, 100), [p1, p2b, p3]);
    assert.deepEqual(await s.listParts('u1', 0, 2), [p1, p2b]);
    assert.deepEqual(await s.listParts('u1', 2, 2), [p3]);
    assert.deepEqual(await s.listParts('u1', 3, 2), []);
    assert.deepEqual(await s.listParts('none', 0, 2), []);
  });

  it('a part of an upload that no longer exists is refused', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name));
    await s.createUpload(upload(name, 'k', 'u1'));
    await s.abortUpload('u1');
    const late = part(1);
    await assert.rejects(s.putPart('u1', late));
    await assert.rejects(s.putPart('never', part(1)));
    assert.equal((await s.referencedBlobs()).has(late.blobId), false);
  });

  it('lists uploads by key then upload id, with a prefix, after a (key, upload id) marker', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name));
    for (const [k, u] of [['b', 'u2'], ['a', 'u9'], ['b', 'u1'], ['c/x', 'u3'], ['é', 'u4']] as const) await s.createUpload(upload(name, k, u));
    const other = fresh();
    await s.createBucket(bucket(other));
    await s.createUpload(upload(other, 'a', 'u5'));
    const list = async (prefix: string, keyMarker: string, uploadIdMarker: string, limit = 100) =>
      (await s.listUploads(name, prefix, keyMarker, uploadIdMarker, limit)).map((u) => `${u.key}:${u.uploadId}`);
    assert.deepEqual(await list('', '', ''), ['a:u9', 'b:u1', 'b:u2', 'c/x:u3', 'é:u4']);
    assert.deepEqual(await list('', '', '', 2), ['a:u9', 'b:u1']);
    assert.deepEqual(await list('', 'b', 'u1'), ['b:u2', 'c/x:u3', 'é:u4']);
    assert.deepEqual(await list('', 'b', ''), ['c/x:u3', 'é:u4']);
    assert.deepEqual(await list('c/', '', ''), ['c/x:u3']);
    assert.deepEqual((await s.listUploads(name, '', '', '', 1))[0], upload(name, 'a', 'u9'));
  });

  it('completing an upload writes the version and removes the upload in one step; unused parts and replaced versions are returned', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name));
    const old = version(name, 'k', 'null', { etag: 'old' });
    await s.putVersion(old, false);
    await s.createUpload(upload(name, 'k', 'u1'));
    const [p1, p2, p3] = [part(1), part(2), part(3)];
    for (const p of [p1, p2, p3]) await s.putPart('u1', p);
    const v = version(name, 'k', 'null', { etag: 'new-2', parts: [p1, p3] });
    const res = await s.completeUpload('u1', v, false);
    assert.deepEqual(res, { replaced: [old], unused: [p2] });
    assert.deepEqual(await s.getVersion(name, 'k'), v);
    assert.equal(await s.getUpload(name, 'k', 'u1'), undefined);
    assert.deepEqual(await s.listParts('u1', 0, 100), []);
    assert.equal(await s.completeUpload('u1', v, false), undefined);
    assert.equal(await s.abortUpload('u1'), undefined);
    const refs = await s.referencedBlobs();
    assert.deepEqual([p1.blobId, p2.blobId, p3.blobId].map((id) => refs.has(id)), [true, false, true]);
  });

  it('a completion whose condition fails, or that names a part replaced meanwhile, writes nothing and leaves the upload', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name, { versioning: 'Enabled' }));
    await s.putVersion(version(name, 'k', 'v0', { etag: 'cur' }), true);
    await s.createUpload(upload(name, 'k', 'u1'));
    const p1 = part(1);
    await s.putPart('u1', p1);
    const v = version(name, 'k', 'v1', { parts: [p1] });
    await assert.rejects(s.completeUpload('u1', v, true, { ifNoneMatch: true }), (e: unknown) => e instanceof WriteConditionFailed && e.reason === 'exists');
    await assert.rejects(s.completeUpload('u1', v, true, { ifMatch: 'other' }), (e: unknown) => e instanceof WriteConditionFailed && e.reason === 'etag');
    assert.equal((await s.getVersion(name, 'k'))?.versionId, 'v0');
    assert.deepEqual(await s.listParts('u1', 0, 10), [p1]);
    // Part 1 uploaded again after the caller read the parts: its first blob is gone, the object would be broken.
    const p1b = part(1);
    await s.putPart('u1', p1b);
    await assert.rejects(s.completeUpload('u1', v, true));
    assert.equal((await s.getVersion(name, 'k'))?.versionId, 'v0');
    assert.deepEqual(await s.listParts('u1', 0, 10), [p1b]);
    const ok = await s.completeUpload('u1', version(name, 'k', 'v1', { parts: [p1b] }), true, { ifMatch: 'cur' });
    assert.deepEqual(ok, { replaced: [], unused: [] });
    assert.equal((await s.getVersion(name, 'k'))?.versionId, 'v1');
    assert.equal((await s.getVersion(name, 'k', 'v0'))?.isLatest, false);
  });

  it('aborting an upload removes it and returns its parts, once', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name));
    await s.createUpload(upload(name, 'k', 'u1'));
    const parts = [part(1), part(2)];
    for (const p of parts) await s.putPart('u1', p);
    assert.deepEqual((await s.abortUpload('u1'))?.map((p) => p.blobId).sort(), parts.map((p) => p.blobId).sort());
    assert.equal(await s.getUpload(name, 'k', 'u1'), undefined);
    assert.deepEqual(await s.listUploads(name, '', '', '', 10), []);
    assert.equal(await s.abortUpload('u1'), undefined);
  });

  // ---- service key, garbage collection ----

  it('keeps the first SSE-S3 service key written; later writers get it back', async () => {
    const { store: s } = await open();
    assert.equal(await s.getServiceKey(), undefined);
    assert.deepEqual(await s.putServiceKey(Buffer.from('first')), Buffer.from('first'));
    assert.deepEqual(await s.putServiceKey(Buffer.from('second')), Buffer.from('first'));
    assert.deepEqual(await s.getServiceKey(), Buffer.from('first'));
  });

  it('names every blob the metadata refers to (versions, delete-marker-free, and upload parts), and no other', async () => {
    const { store: s } = await open();
    const name = fresh();
    await s.createBucket(bucket(name, { versioning: 'Enabled' }));
    const v1 = version(name, 'k', 'v1', { parts: [part(1, 'obj-1'), part(2, 'obj-2')] });
    await s.putVersion(v1, true);
    await s.putVersion(version(name, 'k', 'v2', { parts: [part(1, 'obj-3')] }), true);
    await s.createUpload(upload(name, 'k', 'u1'));
    await s.putPart('u1', part(1, 'upl-1'));
    assert.deepEqual([...(await s.referencedBlobs())].sort(), ['obj-1', 'obj-2', 'obj-3', 'upl-1']);
    await s.deleteVersion(name, 'k', 'v1');
    await s.abortUpload('u1');
    assert.deepEqual([...(await s.referencedBlobs())].sort(), ['obj-3']);
  });

  // ---- durability and visibility ----

  it('every acknowledged write is seen by another store on the same location, and after reopening it', async () => {
    const opened = await open();
    const s = opened.store;
    const name = fresh();
    const gone = fresh();
    await s.createBucket(bucket(name));
    await s.createBucket(bucket(gone));
    await s.updateBucket(name, { versioning: 'Enabled', policy: '{"p":1}' });
    const v1 = version(name, 'k', 'v1');
    await s.putVersion(v1, true);
    await s.putVersion(version(name, 'k', 'v2'), true);
    await s.deleteVersion(name, 'k', 'v2');
    await s.putVersion(marker(name, 'm', 'v3'), true);
    await s.createUpload(upload(name, 'big', 'u1'));
    const p = part(1);
    await s.putPart('u1', p);
    await s.createUpload(upload(name, 'big', 'u2'));
    await s.putPart('u2', part(1));
    await s.abortUpload('u2');
    await s.createUpload(upload(name, 'done', 'u3'));
    const p3 = part(1);
    await s.putPart('u3', p3);
    const done = version(name, 'done', 'v4', { parts: [p3] });
    await s.completeUpload('u3', done, true);
    await s.deleteBucket(gone);
    await s.putServiceKey(Buffer.from('sk'));
    await s.durable();

    const check = async (t: S3Store) => {
      assert.deepEqual(await t.getBucket(name), { ...bucket(name), versioning: 'Enabled', policy: '{"p":1}' });
      assert.equal(await t.getBucket(gone), undefined);
      assert.deepEqual(await t.getVersion(name, 'k'), v1);
      assert.equal(await t.getVersion(name, 'k', 'v2'), undefined);
      assert.equal((await t.getVersion(name, 'm'))?.deleteMarker, true);
      assert.deepEqual(await t.getVersion(name, 'done'), done);
      assert.deepEqual(await t.getUpload(name, 'big', 'u1'), upload(name, 'big', 'u1'));
      assert.deepEqual(await t.listParts('u1', 0, 10), [p]);
      assert.equal(await t.getUpload(name, 'big', 'u2'), undefined);
      assert.equal(await t.getUpload(name, 'done', 'u3'), undefined);
      assert.deepEqual(await t.getServiceKey(), Buffer.from('sk'));
      assert.deepEqual(keys(await t.listLatest(name, { prefix: '', after: '', limit: 10 })), ['done', 'k']);
    };
    await check(await opened.another());
    await check(await opened.reopen());
  });

  // Todo until issue 10's cache layer: SqliteS3Store keeps a per-process bucket cache that only its own writes
  // invalidate, so another process's (node's) bucket change is not seen. The test is the rule it must meet.
  it('a change made through one store is seen by another store on the same location (no stale bucket read)', async () => {
    const opened = await open();
    const a = opened.store;
    const name = fresh();
    await a.createBucket(bucket(name));
    const b = await opened.another();
    assert.equal((await b.getBucket(name))?.versioning, null);
    assert.equal((await a.getBucket(name))?.policy, null);
    await b.updateBucket(name, { versioning: 'Enabled', policy: '{"from":"b"}' });
    assert.deepEqual(await a.getBucket(name), { ...bucket(name), versioning: 'Enabled', policy: '{"from":"b"}' });
    await b.putVersion(version(name, 'k', 'v1'), true);
    assert.equal(await a.deleteBucket(name), 'not-empty');
    await b.deleteVersion(name, 'k', 'v1');
    assert.deepEqual(await b.deleteBucket(name), { abortedParts: [] });
    assert.equal(await a.getBucket(name), undefined);
  });
}

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { PendingObject, PlannedObject } from '../../src/core/audit/trail-delivery.js';
import { canonicalJson } from '../../src/core/audit/record.js';
import { TrailRecord } from '../../src/store/metadata/trail-types.js';
import { OpenFresh } from './reopenable.js';
import { ACCOUNT, OTHER, T0, TrailStores, auditRecord, commitRecords } from './trail-stores.js';

const ARN = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/t`;
const ARN2 = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/u`;

const arnOf = (name: string) => `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${name}`;

const trail = (name: string): TrailRecord => ({
  accountId: ACCOUNT, region: 'us-east-1', name, arn: arnOf(name), s3BucketName: 'logs', s3KeyPrefix: null, snsTopicName: null, includeGlobalServiceEvents: true,
  isMultiRegionTrail: false, logFileValidationEnabled: true, cloudWatchLogsLogGroupArn: null, cloudWatchLogsRoleArn: null, kmsKeyId: null, eventSelectors: null,
  advancedEventSelectors: null, isLogging: true, startLoggingTime: 1, stopLoggingTime: null, createdAt: 1,
});

const log = (key: string, overrides: Partial<PlannedObject> = {}): PlannedObject => ({
  kind: 'log',
  region: 'us-east-1',
  bucket: 'logs',
  key,
  body: Buffer.from(`gzip-bytes-of-${key}\u0000\u00ff`, 'latin1'),
  metadata: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
  sha256: `sha-${key}`,
  oldestEventTime: T0,
  newestEventTime: T0 + 1000,
  ...overrides,
});

const digest = (key: string, region = 'us-east-1'): PlannedObject => ({ ...log(key, { region }), kind: 'digest', oldestEventTime: null, newestEventTime: null, metadata: { signature: 'aa', 'signature-algorithm': 'SHA256withRSA' } });

/** What pending() returns, without the store-chosen id. */
const planned = (p: PendingObject) => {
  const { id: _id, trailArn: _t, ...rest } = p;
  return rest;
};

/**
 * The behaviour every trail-delivery store must have (src/core/audit/trail-delivery.ts, TrailDeliveryStore),
 * asserted only through the stores' interfaces; each implementation's test file runs it with its own `open`.
 * The plan… calls are the crash-safety of delivery: the files' exact bytes are kept in the same step that
 * moves the trail's position, so a restart writes them again, identical, and makes none twice.
 */
export function trailDeliveryStoreContract(open: OpenFresh<TrailStores>): void {
  it('reads the audit log after a sequence number, in order, every account and data event included, the exact bytes', async () => {
    const { store: s } = await open();
    assert.deepEqual(await s.delivery.recordsAfter(0, 10), []);
    const records = [auditRecord('a'), auditRecord('b', OTHER), { ...auditRecord('c'), managementEvent: false, eventCategory: 'Data' as const }, auditRecord('d')];
    await commitRecords(s.audit, records);
    assert.deepEqual(await s.delivery.recordsAfter(0, 10), records.map((r, i) => ({ seq: i + 1, record: canonicalJson(r) })));
    assert.deepEqual((await s.delivery.recordsAfter(1, 2)).map((e) => e.seq), [2, 3]);
    assert.deepEqual(await s.delivery.recordsAfter(4, 10), []);
  });

  it('planning log files keeps their bytes as pending, in order, and moves the position in the same step', async () => {
    const { store: s } = await open();
    assert.equal(await s.delivery.deliveredSeq(ARN), 0);
    assert.deepEqual(await s.delivery.pending(ARN), []);
    const files = [log('k/1.json.gz'), log('k/2.json.gz', { region: 'eu-west-1', oldestEventTime: T0 + 5, newestEventTime: T0 + 6 })];
    await s.delivery.planLogs(ARN, files, 0, 7, 100);
    assert.equal(await s.delivery.deliveredSeq(ARN), 7);
    const pending = await s.delivery.pending(ARN);
    assert.deepEqual(pending.map(planned), files);
    assert.ok(pending.every((p) => p.trailArn === ARN));
    assert.ok(pending[0]!.id < pending[1]!.id);
    await s.delivery.planLogs(ARN, [log('k/3.json.gz')], 7, 9, 101);
    assert.equal(await s.delivery.deliveredSeq(ARN), 9);
    assert.deepEqual((await s.delivery.pending(ARN)).map((p) => p.key), ['k/1.json.gz', 'k/2.json.gz', 'k/3.json.gz']);
    // Another trail has its own position and files.
    assert.equal(await s.delivery.deliveredSeq(ARN2), 0);
    assert.deepEqual(await s.delivery.pending(ARN2), []);
  });

  it('a plan from a position another process already moved is refused and writes nothing (no record planned twice)', async () => {
    const s = (await open()).store;
    assert.equal(await s.delivery.planLogs(ARN, [log('first')], 0, 5, 100), true);
    // A second planner that read position 0 before the first one moved it.
    assert.equal(await s.delivery.planLogs(ARN, [log('again')], 0, 5, 101), false);
    assert.equal(await s.delivery.planLogs(ARN, [log('stale')], 3, 7, 102), false);
    assert.deepEqual((await s.delivery.pending(ARN)).map((p) => p.key), ['first']);
    assert.equal(await s.delivery.deliveredSeq(ARN), 5);
    assert.equal(await s.delivery.planLogs(ARN, [log('next')], 5, 9, 103), true);
    assert.deepEqual((await s.delivery.pending(ARN)).map((p) => p.key), ['first', 'next']);
  });

  it('a plan the store cannot take moves nothing: no file pending, the position where it was', async () => {
    const { store: s } = await open();
    await s.delivery.planLogs(ARN, [log('a')], 0, 3, 100);
    const broken = { ...log('c'), kind: 'neither' } as unknown as PlannedObject;
    await assert.rejects(async () => s.delivery.planLogs(ARN, [log('b'), broken], 3, 5, 101));
    assert.equal(await s.delivery.deliveredSeq(ARN), 3);
    assert.deepEqual((await s.delivery.pending(ARN)).map((p) => p.key), ['a']);
  });

  it('a delivered log file leaves the pending list and, when validated, joins its Region\'s undigested list once; the delivery time is recorded', async () => {
    const { store: s } = await open();
    await s.delivery.planLogs(ARN, [log('a'), log('b', { region: 'eu-west-1' }), log('c')], 0, 3, 100);
    const [a, b, c] = await s.delivery.pending(ARN);
    await s.delivery.delivered(a!, true, 200);
    await s.delivery.delivered(b!, true, 201);
    await s.delivery.delivered(c!, false, 202);
    // Reported again (a second writer, a retry): it is no longer pending, so nothing changes.
    await s.delivery.delivered(a!, true, 203);
    assert.deepEqual(await s.delivery.pending(ARN), []);
    assert.deepEqual(await s.delivery.undigested(ARN, 'us-east-1'), [{ bucket: 'logs', key: 'a', sha256: 'sha-a', oldestEventTime: T0, newestEventTime: T0 + 1000 }]);
    assert.deepEqual((await s.delivery.undigested(ARN, 'eu-west-1')).map((f) => f.key), ['b']);
    assert.deepEqual(await s.delivery.undigested(ARN2, 'us-east-1'), []);
    const state = await s.trails.delivery(ARN);
    assert.equal(state?.deliveredSeq, 3);
    assert.equal(state?.lastLogDeliveryTime, 202);
    assert.equal(state?.lastLogDeliveryError, null);
  });

  it('a file reported delivered after its trail was deleted changes nothing: not the pending file that took its number, not a new trail of the same name', async () => {
    const { store: s } = await open();
    await s.trails.createTrail(trail('old'));
    await s.trails.startDelivery(arnOf('old'));
    await s.delivery.planLogs(arnOf('old'), [log('old/1.json.gz')], 0, 0, 100);
    const [inFlight] = await s.delivery.pending(arnOf('old'));
    // DeleteTrail while the file is being written; another trail plans a file meanwhile.
    await s.trails.deleteTrail(arnOf('old'));
    await s.trails.createTrail(trail('other'));
    await s.delivery.planLogs(arnOf('other'), [log('other/1.json.gz')], 0, 0, 101);
    await s.delivery.delivered(inFlight!, true, 200);
    await s.delivery.failed(arnOf('old'), 'log', 'AccessDenied');
    assert.deepEqual((await s.delivery.pending(arnOf('other'))).map((p) => p.key), ['other/1.json.gz']);
    // A new trail of the old name starts with no memory of the old one.
    await s.trails.createTrail(trail('old'));
    assert.equal(await s.trails.delivery(arnOf('old')), undefined);
    assert.deepEqual(await s.delivery.undigested(arnOf('old'), 'us-east-1'), []);
    assert.deepEqual(await s.delivery.pending(arnOf('old')), []);
  });

  it('a failure is recorded beside the last successful delivery time, and the next delivery clears it', async () => {
    const { store: s } = await open();
    await s.trails.createTrail(trail('t'));
    await s.delivery.failed(ARN, 'log', 'AccessDenied');
    let state = await s.trails.delivery(ARN);
    assert.equal(state?.lastLogDeliveryError, 'AccessDenied');
    assert.equal(state?.lastLogDeliveryTime, null);
    assert.equal(state?.deliveredSeq, 0);
    await s.delivery.planLogs(ARN, [log('a'), log('b')], 0, 4, 100);
    const [a, b] = await s.delivery.pending(ARN);
    await s.delivery.delivered(a!, false, 300);
    await s.delivery.failed(ARN, 'log', 'NoSuchBucket');
    await s.delivery.failed(ARN, 'digest', 'KMS.DisabledException');
    state = await s.trails.delivery(ARN);
    assert.equal(state?.lastLogDeliveryTime, 300);
    assert.equal(state?.lastLogDeliveryError, 'NoSuchBucket');
    assert.equal(state?.lastDigestDeliveryError, 'KMS.DisabledException');
    assert.equal(state?.deliveredSeq, 4);
    await s.delivery.delivered(b!, false, 301);
    state = await s.trails.delivery(ARN);
    assert.equal(state?.lastLogDeliveryError, null);
    assert.equal(state?.lastLogDeliveryTime, 301);
    assert.equal(state?.lastDigestDeliveryError, 'KMS.DisabledException');
  });

  it("planning a digest keeps it pending, moves that Region's chain to it and takes the files it lists off the undigested list, in one step", async () => {
    const { store: s } = await open();
    assert.deepEqual(await s.delivery.chains(ARN), []);
    await s.delivery.planLogs(ARN, [log('a'), log('b'), log('c')], 0, 3, 100);
    for (const p of await s.delivery.pending(ARN)) await s.delivery.delivered(p, true, 200);
    const d1 = digest('d/1.json.gz');
    await s.delivery.planDigest(ARN, d1, 5000, 'sig1', ['a', 'b'], 300);
    assert.deepEqual((await s.delivery.pending(ARN)).map(planned), [d1]);
    assert.deepEqual((await s.delivery.undigested(ARN, 'us-east-1')).map((f) => f.key), ['c']);
    assert.deepEqual(await s.delivery.chains(ARN), [{ region: 'us-east-1', lastEndTime: 5000, previous: { bucket: 'logs', key: 'd/1.json.gz', sha256: 'sha-d/1.json.gz', signature: 'sig1' } }]);
    await s.delivery.planDigest(ARN, digest('d/eu.json.gz', 'eu-west-1'), 5100, 'sig-eu', [], 301);
    await s.delivery.planDigest(ARN, digest('d/2.json.gz'), 6000, 'sig2', ['c'], 302);
    assert.deepEqual(await s.delivery.chains(ARN), [
      { region: 'eu-west-1', lastEndTime: 5100, previous: { bucket: 'logs', key: 'd/eu.json.gz', sha256: 'sha-d/eu.json.gz', signature: 'sig-eu' } },
      { region: 'us-east-1', lastEndTime: 6000, previous: { bucket: 'logs', key: 'd/2.json.gz', sha256: 'sha-d/2.json.gz', signature: 'sig2' } },
    ]);
    assert.deepEqual(await s.delivery.undigested(ARN, 'us-east-1'), []);
    const pending = await s.delivery.pending(ARN);
    assert.deepEqual(pending.map((p) => p.key), ['d/1.json.gz', 'd/eu.json.gz', 'd/2.json.gz']);
    await s.delivery.delivered(pending[0]!, true, 400);
    const state = await s.trails.delivery(ARN);
    assert.equal(state?.lastDigestDeliveryTime, 400);
    assert.equal(state?.lastLogDeliveryTime, 200);
    // A delivered digest never joins the undigested list.
    assert.deepEqual(await s.delivery.undigested(ARN, 'us-east-1'), []);
    assert.deepEqual(await s.delivery.chains(ARN2), []);
  });

  it('keeps object keys byte for byte, U+0000 included (a trail\'s key prefix may hold it): pending, delivered, undigested in byte order, listed, chained', async () => {
    const { store: s } = await open();
    const keys = ['p\u0000/é/2.json.gz', 'p\u0000/Z.json.gz', 'p\u0000/1.json.gz', 'p/1.json.gz'];
    await s.delivery.planLogs(ARN, keys.map((k) => log(k, { sha256: 'ab'.repeat(32) })), 0, 4, 100);
    const pending = await s.delivery.pending(ARN);
    assert.deepEqual(pending.map((p) => p.key), keys);
    for (const p of pending) await s.delivery.delivered(p, true, 200);
    assert.deepEqual(await s.delivery.pending(ARN), []);
    // Delivered at the same time: by key, byte for byte (U+0000 before everything, then '/', digits, capitals, UTF-8).
    assert.deepEqual((await s.delivery.undigested(ARN, 'us-east-1')).map((f) => f.key), ['p\u0000/1.json.gz', 'p\u0000/Z.json.gz', 'p\u0000/é/2.json.gz', 'p/1.json.gz']);
    await s.delivery.planDigest(ARN, { ...digest('d\u0000/1.json.gz'), sha256: 'cd'.repeat(32) }, 5000, 'sig', ['p\u0000/1.json.gz', 'p\u0000/é/2.json.gz'], 300);
    assert.deepEqual((await s.delivery.undigested(ARN, 'us-east-1')).map((f) => f.key), ['p\u0000/Z.json.gz', 'p/1.json.gz']);
    assert.equal((await s.delivery.chains(ARN))[0]?.previous?.key, 'd\u0000/1.json.gz');
    const [d] = await s.delivery.pending(ARN);
    assert.equal(d?.key, 'd\u0000/1.json.gz');
    // A report naming another key (the same id) is not this file.
    await s.delivery.delivered({ ...d!, key: 'd/1.json.gz' }, true, 400);
    assert.deepEqual((await s.delivery.pending(ARN)).map((p) => p.key), ['d\u0000/1.json.gz']);
    await s.delivery.delivered(d!, true, 401);
    assert.deepEqual(await s.delivery.pending(ARN), []);
  });

  it('planned files, positions, undigested files and chains are all there after reopening (a restart resumes exactly there)', async () => {
    const opened = await open();
    const s = opened.store;
    await s.delivery.planLogs(ARN, [log('a'), log('b')], 0, 6, 100);
    await s.delivery.delivered((await s.delivery.pending(ARN))[0]!, true, 200);
    await s.trails.createTrail(trail('u'));
    await s.delivery.planDigest(ARN2, digest('d'), 700, 'sig', [], 300);
    await s.delivery.failed(ARN2, 'digest', 'AccessDenied');
    const before = {
      pending: await s.delivery.pending(ARN),
      pending2: await s.delivery.pending(ARN2),
      undigested: await s.delivery.undigested(ARN, 'us-east-1'),
      chains: await s.delivery.chains(ARN2),
      state: await s.trails.delivery(ARN),
      state2: await s.trails.delivery(ARN2),
    };
    assert.equal(before.pending.length, 1);
    assert.equal(before.state2?.lastDigestDeliveryError, 'AccessDenied');
    assert.deepEqual(before.pending[0]!.body, log('b').body);
    const check = async (x: TrailStores) => {
      assert.equal(await x.delivery.deliveredSeq(ARN), 6);
      assert.deepEqual(await x.delivery.pending(ARN), before.pending);
      assert.deepEqual(await x.delivery.pending(ARN2), before.pending2);
      assert.deepEqual(await x.delivery.undigested(ARN, 'us-east-1'), before.undigested);
      assert.deepEqual(await x.delivery.chains(ARN2), before.chains);
      assert.deepEqual(await x.trails.delivery(ARN), before.state);
      assert.deepEqual(await x.trails.delivery(ARN2), before.state2);
    };
    await check(await opened.another());
    const r = await opened.reopen();
    await check(r);
    // The reopened store goes on from there: the pending file is delivered once, the next plan comes after it.
    await r.delivery.delivered(before.pending[0]!, true, 500);
    await r.delivery.planLogs(ARN, [log('c')], 6, 8, 501);
    assert.deepEqual((await r.delivery.pending(ARN)).map((p) => p.key), ['c']);
    assert.deepEqual((await r.delivery.undigested(ARN, 'us-east-1')).map((f) => f.key), ['a', 'b']);
  });
}

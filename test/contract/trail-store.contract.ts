import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SigningKeyRecord, TrailRecord } from '../../src/store/metadata/trail-types.js';
import { OpenFresh } from './reopenable.js';
import { ACCOUNT, OTHER, TrailStores, auditRecord, commitRecords } from './trail-stores.js';

function trail(name: string, overrides: Partial<TrailRecord> = {}): TrailRecord {
  const accountId = overrides.accountId ?? ACCOUNT;
  const region = overrides.region ?? 'us-east-1';
  return {
    accountId,
    region,
    name,
    arn: `arn:aws:cloudtrail:${region}:${accountId}:trail/${name}`,
    s3BucketName: 'logs',
    s3KeyPrefix: null,
    snsTopicName: null,
    includeGlobalServiceEvents: true,
    isMultiRegionTrail: false,
    logFileValidationEnabled: false,
    cloudWatchLogsLogGroupArn: null,
    cloudWatchLogsRoleArn: null,
    kmsKeyId: null,
    eventSelectors: null,
    advancedEventSelectors: null,
    isLogging: false,
    startLoggingTime: null,
    stopLoggingTime: null,
    createdAt: 1000,
    ...overrides,
  };
}

const names = (ts: readonly TrailRecord[]) => ts.map((t) => `${t.name}@${t.region}`);

/**
 * The behaviour every trail store must have (src/store/metadata/trail-types.ts), asserted only through the
 * stores' interfaces; each implementation's test file runs it with its own `open`.
 */
export function trailStoreContract(open: OpenFresh<TrailStores>): void {
  it('creates a trail once per account, region and name, and reads every field back', async () => {
    const { store: s } = await open();
    const t = trail('main', {
      s3KeyPrefix: 'p/', snsTopicName: 'topic', includeGlobalServiceEvents: false, isMultiRegionTrail: true, logFileValidationEnabled: true,
      cloudWatchLogsLogGroupArn: 'arn:aws:logs:us-east-1:111122223333:log-group:g:*', cloudWatchLogsRoleArn: 'arn:aws:iam::111122223333:role/r',
      kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/k', eventSelectors: '[{"ReadWriteType":"All"}]', advancedEventSelectors: '[]',
      isLogging: true, startLoggingTime: 5, stopLoggingTime: 4, createdAt: 1234,
    });
    assert.equal(await s.trails.createTrail(t), true);
    assert.equal(await s.trails.createTrail(trail('main', { s3BucketName: 'other' })), false);
    assert.deepEqual(await s.trails.getTrail(ACCOUNT, 'us-east-1', 'main'), t);
    // The same name is another trail in another region or account.
    assert.equal(await s.trails.createTrail(trail('main', { region: 'eu-west-1' })), true);
    assert.equal(await s.trails.createTrail(trail('main', { accountId: OTHER })), true);
    assert.equal((await s.trails.getTrail(ACCOUNT, 'eu-west-1', 'main'))?.region, 'eu-west-1');
    assert.equal(await s.trails.getTrail(ACCOUNT, 'us-west-2', 'main'), undefined);
    assert.equal(await s.trails.getTrail(ACCOUNT, 'us-east-1', 'none'), undefined);
  });

  it("lists a region's trails with every multi-Region trail of the account, and all the account's trails, by name then region", async () => {
    const { store: s } = await open();
    await s.trails.createTrail(trail('b-home'));
    await s.trails.createTrail(trail('a-multi', { region: 'eu-west-1', isMultiRegionTrail: true }));
    await s.trails.createTrail(trail('c-away', { region: 'eu-west-1' }));
    await s.trails.createTrail(trail('a-multi', { region: 'ap-south-1', isMultiRegionTrail: true }));
    await s.trails.createTrail(trail('z-other', { accountId: OTHER, isMultiRegionTrail: true }));
    assert.deepEqual(names(await s.trails.listTrails(ACCOUNT, 'us-east-1')), ['a-multi@ap-south-1', 'a-multi@eu-west-1', 'b-home@us-east-1']);
    assert.deepEqual(names(await s.trails.listTrails(ACCOUNT, 'eu-west-1')), ['a-multi@ap-south-1', 'a-multi@eu-west-1', 'c-away@eu-west-1']);
    assert.deepEqual(names(await s.trails.listAccountTrails(ACCOUNT)), ['a-multi@ap-south-1', 'a-multi@eu-west-1', 'b-home@us-east-1', 'c-away@eu-west-1']);
    assert.deepEqual(names(await s.trails.listAccountTrails(OTHER)), ['z-other@us-east-1']);
    assert.deepEqual(await s.trails.listTrails('999999999999', 'us-east-1'), []);
  });

  it('updates only the fields a patch names (false and null are values), by ARN', async () => {
    const { store: s } = await open();
    const t = trail('t', { s3KeyPrefix: 'old/', kmsKeyId: 'k1', eventSelectors: '[1]' });
    const other = trail('u');
    await s.trails.createTrail(t);
    await s.trails.createTrail(other);
    await s.trails.updateTrail(t.arn, { s3BucketName: 'new', s3KeyPrefix: null, includeGlobalServiceEvents: false, isMultiRegionTrail: true, logFileValidationEnabled: true, isLogging: true, startLoggingTime: 77 });
    const after = { ...t, s3BucketName: 'new', s3KeyPrefix: null, includeGlobalServiceEvents: false, isMultiRegionTrail: true, logFileValidationEnabled: true, isLogging: true, startLoggingTime: 77 };
    assert.deepEqual(await s.trails.getTrail(ACCOUNT, 'us-east-1', 't'), after);
    await s.trails.updateTrail(t.arn, { eventSelectors: null, advancedEventSelectors: '[{"x":1}]', kmsKeyId: undefined });
    assert.deepEqual(await s.trails.getTrail(ACCOUNT, 'us-east-1', 't'), { ...after, eventSelectors: null, advancedEventSelectors: '[{"x":1}]' });
    await s.trails.updateTrail(t.arn, { isLogging: false, stopLoggingTime: 88 });
    assert.equal((await s.trails.getTrail(ACCOUNT, 'us-east-1', 't'))?.isLogging, false);
    assert.deepEqual(await s.trails.getTrail(ACCOUNT, 'us-east-1', 'u'), other);
    await s.trails.updateTrail('arn:aws:cloudtrail:us-east-1:111122223333:trail/none', { s3BucketName: 'x' });
    assert.equal(await s.trails.getTrail(ACCOUNT, 'us-east-1', 'none'), undefined);
  });

  it('lists the logging trails of every account, by ARN', async () => {
    const { store: s } = await open();
    await s.trails.createTrail(trail('b', { isLogging: true }));
    await s.trails.createTrail(trail('a', { isLogging: false }));
    await s.trails.createTrail(trail('c', { accountId: OTHER, isLogging: true }));
    const x = trail('x', { isLogging: false });
    await s.trails.createTrail(x);
    await s.trails.updateTrail(x.arn, { isLogging: true });
    assert.deepEqual((await s.trails.loggingTrails()).map((t) => t.arn), [trail('b').arn, trail('x').arn, trail('c', { accountId: OTHER }).arn]);
  });

  it('StartLogging positions delivery after the last committed record; starting again skips what happened while stopped', async () => {
    const { store: s } = await open();
    const t = trail('t');
    await s.trails.createTrail(t);
    assert.equal(await s.trails.delivery(t.arn), undefined);
    await s.trails.startDelivery(t.arn);
    assert.equal((await s.trails.delivery(t.arn))?.deliveredSeq, 0);
    await commitRecords(s.audit, [auditRecord('e1'), auditRecord('e2'), auditRecord('e3')]);
    assert.equal(await s.delivery.deliveredSeq(t.arn), 0);
    await s.trails.startDelivery(t.arn);
    assert.equal(await s.delivery.deliveredSeq(t.arn), 3);
    const state = await s.trails.delivery(t.arn);
    assert.deepEqual(state, {
      trailArn: t.arn, deliveredSeq: 3, lastLogDeliveryTime: null, lastLogDeliveryError: null, lastDigestDeliveryTime: null,
      lastDigestDeliveryError: null,
    });
    // Started again later: after the newest record, whatever was delivered before.
    await commitRecords(s.audit, [auditRecord('e4')]);
    await s.trails.startDelivery(t.arn);
    assert.equal(await s.delivery.deliveredSeq(t.arn), 4);
    await s.trails.startDelivery(t.arn);
    assert.equal(await s.delivery.deliveredSeq(t.arn), 4);
  });

  it('deleting a trail forgets it with its delivery position, planned files, undigested files and digest chains; other trails keep theirs', async () => {
    const { store: s } = await open();
    const gone = trail('gone', { logFileValidationEnabled: true });
    const kept = trail('kept');
    for (const t of [gone, kept]) {
      await s.trails.createTrail(t);
      await commitRecords(s.audit, [auditRecord(`r-${t.name}`)]);
      const file = { kind: 'log' as const, region: 'us-east-1', bucket: 'logs', key: `${t.name}/1.json.gz`, body: Buffer.from('x'), metadata: {}, sha256: 'aa', oldestEventTime: 1, newestEventTime: 2 };
      await s.delivery.planLogs(t.arn, [file, { ...file, key: `${t.name}/2.json.gz` }], 0, 1, 10);
      await s.delivery.delivered((await s.delivery.pending(t.arn))[0]!, true, 11);
      await s.delivery.planDigest(t.arn, { ...file, kind: 'digest', key: `${t.name}/d.json.gz` }, 100, 'sig', [], 12);
    }
    await s.trails.deleteTrail(gone.arn);
    assert.equal(await s.trails.getTrail(ACCOUNT, 'us-east-1', 'gone'), undefined);
    assert.equal(await s.trails.delivery(gone.arn), undefined);
    assert.equal(await s.delivery.deliveredSeq(gone.arn), 0);
    assert.deepEqual(await s.delivery.pending(gone.arn), []);
    assert.deepEqual(await s.delivery.undigested(gone.arn, 'us-east-1'), []);
    assert.deepEqual(await s.delivery.chains(gone.arn), []);
    assert.deepEqual(await s.trails.getTrail(ACCOUNT, 'us-east-1', 'kept'), kept);
    assert.equal(await s.delivery.deliveredSeq(kept.arn), 1);
    assert.deepEqual((await s.delivery.pending(kept.arn)).map((p) => p.key), ['kept/2.json.gz', 'kept/d.json.gz']);
    assert.deepEqual((await s.delivery.chains(kept.arn)).map((c) => c.region), ['us-east-1']);
    // The name is free again, and the new trail starts with no memory of the old one.
    assert.equal(await s.trails.createTrail(gone), true);
    assert.deepEqual(await s.delivery.pending(gone.arn), []);
  });

  it('keeps any Unicode in the S3 key prefix, U+0000 included (CloudTrail limits only its length)', async () => {
    const { store: s } = await open();
    const prefix = 'logs\u0000/é/😀/\u0001';
    const t = trail('t', { s3KeyPrefix: prefix });
    await s.trails.createTrail(t);
    assert.equal((await s.trails.getTrail(ACCOUNT, 'us-east-1', 't'))?.s3KeyPrefix, prefix);
    await s.trails.updateTrail(t.arn, { s3KeyPrefix: '\u0000' });
    assert.equal((await s.trails.listTrails(ACCOUNT, 'us-east-1'))[0]?.s3KeyPrefix, '\u0000');
    await s.trails.updateTrail(t.arn, { s3KeyPrefix: null });
    assert.equal((await s.trails.listAccountTrails(ACCOUNT))[0]?.s3KeyPrefix, null);
  });

  it("lists trails by name byte for byte (case and punctuation count), whatever the database's collation", async () => {
    const { store: s } = await open();
    for (const name of ['alpha', 'a_b', 'Zeta', 'a1b', 'a-b']) await s.trails.createTrail(trail(name, { isLogging: true }));
    const expected = ['Zeta', 'a-b', 'a1b', 'a_b', 'alpha'];
    assert.deepEqual((await s.trails.listTrails(ACCOUNT, 'us-east-1')).map((t) => t.name), expected);
    assert.deepEqual((await s.trails.listAccountTrails(ACCOUNT)).map((t) => t.name), expected);
    assert.deepEqual((await s.trails.loggingTrails()).map((t) => t.name), expected);
  });

  it("keeps each Region's digest signing keys, oldest first, apart from other Regions'", async () => {
    const { store: s } = await open();
    const k = (region: string, fingerprint: string, validFrom: number): SigningKeyRecord => ({
      region, fingerprint, publicKey: Buffer.from(`pub-${fingerprint}`), wrappedPrivateKey: Buffer.from(`wrapped-${fingerprint}`), validFrom, validTo: validFrom + 1000,
    });
    await s.trails.addSigningKey(k('us-east-1', 'f2', 2000));
    await s.trails.addSigningKey(k('us-east-1', 'f1', 1000));
    await s.trails.addSigningKey(k('eu-west-1', 'f3', 1500));
    assert.deepEqual(await s.trails.signingKeys('us-east-1'), [k('us-east-1', 'f1', 1000), k('us-east-1', 'f2', 2000)]);
    assert.deepEqual(await s.trails.signingKeys('eu-west-1'), [k('eu-west-1', 'f3', 1500)]);
    assert.deepEqual(await s.trails.signingKeys('ap-south-1'), []);
    await assert.rejects(async () => s.trails.addSigningKey(k('us-east-1', 'f1', 3000)));
    assert.deepEqual((await s.trails.signingKeys('us-east-1')).map((x) => x.validFrom), [1000, 2000]);
  });

  it('trails, their delivery positions and signing keys are all there after reopening, and seen by another store', async () => {
    const opened = await open();
    const s = opened.store;
    const t = trail('t', { isLogging: true, startLoggingTime: 9 });
    await s.trails.createTrail(t);
    await s.trails.updateTrail(t.arn, { s3KeyPrefix: 'pre' });
    await commitRecords(s.audit, [auditRecord('e1'), auditRecord('e2')]);
    await s.trails.startDelivery(t.arn);
    const key = { region: 'us-east-1', fingerprint: 'f', publicKey: Buffer.from('p'), wrappedPrivateKey: Buffer.from('w'), validFrom: 1, validTo: 2 };
    await s.trails.addSigningKey(key);
    const check = async (x: TrailStores) => {
      assert.deepEqual(await x.trails.getTrail(ACCOUNT, 'us-east-1', 't'), { ...t, s3KeyPrefix: 'pre' });
      assert.deepEqual((await x.trails.loggingTrails()).map((y) => y.arn), [t.arn]);
      assert.equal((await x.trails.delivery(t.arn))?.deliveredSeq, 2);
      assert.deepEqual(await x.trails.signingKeys('us-east-1'), [key]);
    };
    await check(await opened.another());
    await check(await opened.reopen());
  });
}

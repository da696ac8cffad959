// The pure pieces of trail delivery: file names, log file hashes, digest JSON and signature (checked with the
// public key the way validate-logs checks them), and which records a trail's selectors take.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { buildLogFile, compactTime, digestFileKey, digestSigningString, logFileKey, signDigest } from '../../src/core/audit/trail-files.js';
import { SelectableRecord, trailWants } from '../../src/core/audit/trail-selectors.js';
import { TrailRecord } from '../../src/store/metadata/trail-types.js';

const T = Date.UTC(2015, 7, 17, 15, 1, 31);

describe('trail files', () => {
  it('log file keys: AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 alnum>.json.gz, under the prefix', () => {
    assert.equal(logFileKey(null, '111122223333', 'us-east-2', T, 'abcdEFGH12345678'), 'AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1501Z_abcdEFGH12345678.json.gz');
    assert.match(logFileKey('p/q', '111122223333', 'us-east-2', T), /^p\/q\/AWSLogs\/.*_20150817T1501Z_[A-Za-z0-9]{16}\.json\.gz$/);
  });

  it('digest keys match the documented sample, and validation.py reads their end time as key[-24:-8]', () => {
    const key = digestFileKey(null, '111122223333', 'us-east-2', 'your-trail-name', 'us-east-2', T);
    assert.equal(key, 'AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz');
    assert.equal(key.slice(-24, -8), compactTime(T, true));
  });

  it('a log file is gzip of {"Records":[…]}; its hash is the SHA-256 of the uncompressed bytes; its times bound its events', () => {
    const records = ['{"eventTime":"2015-08-17T14:52:27Z","a":1}', '{"eventTime":"2015-08-17T14:42:27Z","a":2}'];
    const f = buildLogFile(records);
    const json = gunzipSync(f.body).toString('utf8');
    assert.deepEqual(JSON.parse(json).Records.map((r: { a: number }) => r.a), [1, 2]);
    assert.equal(f.sha256, createHash('sha256').update(json).digest('hex'));
    assert.equal(f.oldestEventTime, Date.parse('2015-08-17T14:42:27Z'));
    assert.equal(f.newestEventTime, Date.parse('2015-08-17T14:52:27Z'));
  });

  it('a digest is signed SHA256withRSA over endTime\\nbucket/key\\nsha256(uncompressed)\\nprevious signature ("null" first)', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = 'AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/x_20150817T150131Z.json.gz';
    const logFiles = [{ bucket: 'b', key: 'AWSLogs/l.json.gz', sha256: 'ab'.repeat(32), oldestEventTime: T - 60_000, newestEventTime: T - 1_000 }];
    const first = signDigest({ accountId: '111122223333', bucket: 'b', key, startTime: T - 3_600_000, endTime: T, fingerprint: 'f', previous: undefined, logFiles }, privateKey);
    const json = gunzipSync(first.body).toString('utf8');
    const d = JSON.parse(json);
    assert.equal(d.digestStartTime, '2015-08-17T14:01:31Z');
    assert.equal(d.digestEndTime, '2015-08-17T15:01:31Z');
    assert.equal(d.digestSignatureAlgorithm, 'SHA256withRSA');
    assert.equal(d.previousDigestSignature, null);
    assert.equal(d.previousDigestS3Object, null);
    assert.equal(d.newestEventTime, '2015-08-17T15:01:30Z');
    assert.deepEqual(d.logFiles[0], { s3Bucket: 'b', s3Object: 'AWSLogs/l.json.gz', hashValue: 'ab'.repeat(32), hashAlgorithm: 'SHA-256', newestEventTime: '2015-08-17T15:01:30Z', oldestEventTime: '2015-08-17T15:00:31Z' });
    assert.deepEqual(first.metadata, { signature: first.signature, 'signature-algorithm': 'SHA256withRSA' });
    const signed = digestSigningString('2015-08-17T15:01:31Z', 'b', key, createHash('sha256').update(json).digest('hex'), null);
    assert.ok(signed.endsWith('\nnull'));
    assert.ok(verify('sha256', Buffer.from(signed), publicKey, Buffer.from(first.signature, 'hex')));

    const next = signDigest(
      { accountId: '111122223333', bucket: 'b', key: `${key}2`, startTime: T, endTime: T + 3_600_000, fingerprint: 'f', previous: { bucket: 'b', key, sha256: first.sha256, signature: first.signature }, logFiles: [] },
      privateKey,
    );
    const n = JSON.parse(gunzipSync(next.body).toString('utf8'));
    assert.equal(n.previousDigestSignature, first.signature);
    assert.equal(n.previousDigestHashValue, createHash('sha256').update(json).digest('hex'));
    assert.equal(n.previousDigestHashAlgorithm, 'SHA-256');
    assert.equal(n.newestEventTime, null);
    assert.deepEqual(n.logFiles, []);
    const nextSigned = digestSigningString(n.digestEndTime, 'b', `${key}2`, next.sha256, first.signature);
    assert.ok(verify('sha256', Buffer.from(nextSigned), publicKey, Buffer.from(next.signature, 'hex')));
  });
});

describe('trail selectors', () => {
  const trail = (patch: Partial<TrailRecord> = {}): TrailRecord => ({
    accountId: '111122223333', region: 'us-east-1', name: 't', arn: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/t', s3BucketName: 'b', s3KeyPrefix: null,
    snsTopicName: null, includeGlobalServiceEvents: true, isMultiRegionTrail: false, logFileValidationEnabled: true, cloudWatchLogsLogGroupArn: null,
    cloudWatchLogsRoleArn: null, kmsKeyId: null, eventSelectors: null, advancedEventSelectors: null, isLogging: true, startLoggingTime: 0, stopLoggingTime: null, createdAt: 0,
    ...patch,
  });
  const rec = (patch: Partial<SelectableRecord> = {}): SelectableRecord => ({
    eventSource: 'kms.amazonaws.com', awsRegion: 'us-east-1', readOnly: false, managementEvent: true, recipientAccountId: '111122223333', ...patch,
  });
  const object = (arn: string, readOnly = false) => rec({ eventSource: 's3.amazonaws.com', managementEvent: false, readOnly, resources: [{ type: 'AWS::S3::Object', ARN: arn }] });

  it('default: every management event of the account and region, no data event', () => {
    assert.ok(trailWants(trail(), rec()));
    assert.ok(trailWants(trail(), rec({ readOnly: true })));
    assert.ok(!trailWants(trail(), rec({ recipientAccountId: '999988887777' })));
    assert.ok(!trailWants(trail(), rec({ awsRegion: 'us-west-2' })));
    assert.ok(trailWants(trail({ isMultiRegionTrail: true }), rec({ awsRegion: 'us-west-2' })));
    assert.ok(!trailWants(trail(), object('arn:aws:s3:::data/k')));
  });

  it('global service events only with IncludeGlobalServiceEvents', () => {
    assert.ok(trailWants(trail(), rec({ eventSource: 'iam.amazonaws.com' })));
    assert.ok(!trailWants(trail({ includeGlobalServiceEvents: false }), rec({ eventSource: 'iam.amazonaws.com' })));
  });

  it('selectors: read/write type, excluded sources, S3 object data resources by ARN prefix', () => {
    const sel = (s: object[]) => trail({ eventSelectors: JSON.stringify(s) });
    const writes = sel([{ ReadWriteType: 'WriteOnly', IncludeManagementEvents: true, DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::data/logs/'] }], ExcludeManagementEventSources: ['kms.amazonaws.com'] }]);
    assert.ok(!trailWants(writes, rec()));
    assert.ok(trailWants(writes, rec({ eventSource: 'iam.amazonaws.com' })));
    assert.ok(!trailWants(writes, rec({ eventSource: 'iam.amazonaws.com', readOnly: true })));
    assert.ok(trailWants(writes, object('arn:aws:s3:::data/logs/x')));
    assert.ok(!trailWants(writes, object('arn:aws:s3:::data/other')));
    assert.ok(!trailWants(writes, object('arn:aws:s3:::data/logs/x', true)));
    const all = sel([{ ReadWriteType: 'All', IncludeManagementEvents: false, DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3'] }], ExcludeManagementEventSources: [] }]);
    assert.ok(trailWants(all, object('arn:aws:s3:::any/k', true)));
    assert.ok(!trailWants(all, rec()));
  });
});

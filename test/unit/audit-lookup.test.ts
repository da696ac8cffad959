// The SQLite LookupEvents index (migration 007) on its own: newest first by event time (sequence numbers break
// ties and do not decide the order when the clock stepped back), paging strictly after the marker's (time, seq),
// and a record naming two keys listed once under ResourceType even when its duplicate straddles a batch.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { buildCommit } from '../../src/core/audit/audit-log.js';
import { ApiCallRecord, EVENT_VERSION, trailTime } from '../../src/core/audit/record.js';
import { TreeHeadSigner } from '../../src/core/audit/tree-head-key.js';
import { SqliteAuditStore } from '../../src/store/metadata/sqlite/audit-store.js';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';

const ACCOUNT = '111122223333';
const T0 = Date.parse('2026-01-01T00:00:00Z');
const arn = (k: number) => `arn:aws:kms:us-east-1:${ACCOUNT}:key/k${k}`;

function record(n: number, time: number, keys: number[]): ApiCallRecord {
  return {
    eventVersion: EVENT_VERSION,
    userIdentity: { type: 'Root', principalId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT, accessKeyId: 'AKIA' },
    eventTime: trailTime(time),
    eventSource: 'kms.amazonaws.com',
    eventName: `E${n}`,
    awsRegion: 'us-east-1',
    sourceIPAddress: '127.0.0.1',
    userAgent: 'test',
    requestParameters: null,
    responseElements: null,
    requestID: `r${n}`,
    eventID: `e${n}`,
    readOnly: true,
    ...(keys.length > 0 ? { resources: keys.map((k) => ({ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: arn(k) })) } : {}),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
  };
}

describe('audit store: LookupEvents order, paging and resource lookups', () => {
  let dir: string;
  let db: SqliteDatabase;
  let store: SqliteAuditStore;
  const ids = (rows: { record: string }[]) => rows.map((r) => (JSON.parse(r.record) as { eventID: string }).eventID);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-lookup-'));
    db = new SqliteDatabase(join(dir, 'db'));
    store = new SqliteAuditStore(db);
    // e1..e6 one second apart, except e4 whose clock stepped back before e2's time; e3 and e5 name two keys.
    const specs: [number, number, number[]][] = [[1, 0, [1]], [2, 10, [1]], [3, 20, [1, 2]], [4, 5, [1]], [5, 30, [1, 2]], [6, 40, []]];
    const signer = new TreeHeadSigner(generateKeyPairSync('ed25519').privateKey);
    await store.append((head) => buildCommit(head, specs.map(([n, s, keys]) => record(n, T0 + s * 1000, keys)), signer, Date.now()));
  });
  after(() => {
    db.db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('newest first by event time, not by sequence number', async () => {
    assert.deepEqual(ids(await store.lookup({ accountId: ACCOUNT, limit: 10 })), ['e6', 'e5', 'e3', 'e2', 'e4', 'e1']);
  });

  it('pages continue strictly after the marker, through the out-of-order record', async () => {
    const p1 = await store.lookup({ accountId: ACCOUNT, limit: 3 });
    assert.deepEqual(ids(p1), ['e6', 'e5', 'e3']);
    const p2 = await store.lookup({ accountId: ACCOUNT, limit: 3, beforeSeq: p1[2]!.seq });
    assert.deepEqual(ids(p2), ['e2', 'e4', 'e1']);
    assert.deepEqual(await store.lookup({ accountId: ACCOUNT, limit: 3, beforeSeq: 999 }), []);
  });

  it('a time window, alone and with an attribute', async () => {
    assert.deepEqual(ids(await store.lookup({ accountId: ACCOUNT, startTime: T0 + 5000, endTime: T0 + 20_000, limit: 10 })), ['e3', 'e2', 'e4']);
    assert.deepEqual(ids(await store.lookup({ accountId: ACCOUNT, attribute: { key: 'EventName', value: 'E4' }, startTime: T0, endTime: T0 + 5000, limit: 10 })), ['e4']);
  });

  it('ResourceType lists a record naming two keys once, whatever the batch size', async () => {
    const all = ['e5', 'e3', 'e2', 'e4', 'e1'];
    assert.deepEqual(ids(await store.lookup({ accountId: ACCOUNT, attribute: { key: 'ResourceType', value: 'AWS::KMS::Key' }, limit: 10 })), all);
    for (const limit of [1, 2, 3]) {
      const seen: string[] = [];
      let beforeSeq: number | undefined;
      for (;;) {
        const page = await store.lookup({ accountId: ACCOUNT, attribute: { key: 'ResourceType', value: 'AWS::KMS::Key' }, limit, ...(beforeSeq !== undefined ? { beforeSeq } : {}) });
        seen.push(...ids(page));
        if (page.length < limit) break;
        beforeSeq = page[page.length - 1]!.seq;
      }
      assert.deepEqual(seen, all, `pages of ${limit}`);
    }
    assert.deepEqual(ids(await store.lookup({ accountId: ACCOUNT, attribute: { key: 'ResourceName', value: arn(2) }, limit: 10 })), ['e5', 'e3']);
    assert.deepEqual(await store.lookup({ accountId: '444455556666', attribute: { key: 'ResourceName', value: arn(2) }, limit: 10 }), []);
  });
});

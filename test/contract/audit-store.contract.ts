import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { AuditCommit, LogHead, buildCommit } from '../../src/core/audit/audit-log.js';
import { LookupQuery } from '../../src/core/audit/lookup.js';
import { MerkleFrontier, leafHash } from '../../src/core/audit/merkle.js';
import { ApiCallRecord, CloudTrailRecord, EVENT_VERSION, GENESIS_HASH, canonicalJson, chainHash, trailTime } from '../../src/core/audit/record.js';
import { TreeHeadSigner } from '../../src/core/audit/tree-head-key.js';
import { treeHeadSignatureValid } from '../../src/core/audit/tree-head.js';
import { StoredLink, verifyLog } from '../../src/core/audit/verify.js';
import { AuditLogView, AuditStore } from '../../src/store/metadata/audit-types.js';
import { OpenFresh } from './reopenable.js';

const ACCOUNT = '111122223333';
const OTHER = '444455556666';
const T0 = Date.parse('2026-03-01T00:00:00Z');
const MINUTE = 60_000;

interface Spec {
  readonly id: string;
  readonly time?: number;
  readonly account?: string;
  readonly name?: string;
  readonly source?: string;
  readonly readOnly?: boolean;
  readonly user?: string;
  readonly accessKeyId?: string;
  readonly resources?: readonly { type: string; arn: string }[];
  /** A data event (S3 object-level): in the chain, never in LookupEvents. */
  readonly data?: boolean;
}

function record(s: Spec): ApiCallRecord {
  const account = s.account ?? ACCOUNT;
  const user = s.user ?? 'alice';
  return {
    eventVersion: EVENT_VERSION,
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${account}:user/${user}`, accountId: account, accessKeyId: s.accessKeyId ?? 'AKIADEFAULT', userName: user },
    eventTime: trailTime(s.time ?? T0),
    eventSource: s.source ?? 'kms.amazonaws.com',
    eventName: s.name ?? 'Decrypt',
    awsRegion: 'us-east-1',
    sourceIPAddress: '127.0.0.1',
    userAgent: 'contract',
    requestParameters: { n: s.id },
    responseElements: null,
    requestID: `req-${s.id}`,
    eventID: s.id,
    readOnly: s.readOnly ?? true,
    ...(s.resources ? { resources: s.resources.map((r) => ({ accountId: account, type: r.type, ARN: r.arn })) } : {}),
    eventType: 'AwsApiCall',
    managementEvent: !s.data,
    recipientAccountId: account,
    eventCategory: s.data ? 'Data' : 'Management',
  };
}

/** Every record of the store, read through `links` a page at a time. */
async function allLinks(s: AuditLogView, page = 3): Promise<StoredLink[]> {
  const out: StoredLink[] = [];
  for (;;) {
    const batch = await s.links(out.length === 0 ? 0 : out[out.length - 1]!.seq, page);
    assert.ok(batch.length <= page);
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

/** The head the store hands to `build`, read with a commit of nothing. */
async function headOf(s: AuditStore): Promise<LogHead> {
  let seen: LogHead | undefined;
  await s.append((head) => {
    seen = head;
    return { rows: [], head, treeHead: { treeSize: head.seq, rootHash: head.tree.root(), timestamp: 0, keyId: '', signature: Buffer.alloc(0) } };
  });
  assert.ok(seen);
  return seen;
}

/**
 * The behaviour every audit store must have (src/store/metadata/audit-types.ts), asserted only through
 * AuditStore; each implementation's test file runs it with its own `open`. Records are committed the way
 * AuditLog commits them (buildCommit, a signed tree head per commit), then made durable if the store says so.
 */
export function auditStoreContract(open: OpenFresh<AuditStore>): void {
  const signer = new TreeHeadSigner(generateKeyPairSync('ed25519').privateKey);
  const key = { keyId: signer.keyId, publicKey: signer.publicKey };

  const commit = async (s: AuditStore, records: readonly CloudTrailRecord[], timestamp = Date.now()): Promise<AuditCommit> => {
    let made: AuditCommit | undefined;
    await s.append((head) => (made = buildCommit(head, records, signer, timestamp)));
    await s.durable?.();
    assert.ok(made);
    return made;
  };
  const specs = (n: number, from = 0): CloudTrailRecord[] => Array.from({ length: n }, (_, i) => record({ id: `e${from + i}`, time: T0 + (from + i) * 1000 }));

  it('an empty log: the genesis head, no checkpoint, no records, no tree heads, nothing to look up', async () => {
    const { store: s } = await open();
    const head = await headOf(s);
    assert.equal(head.seq, 0);
    assert.equal(head.hash, GENESIS_HASH);
    assert.equal(head.tree.size, 0);
    assert.equal(await s.checkpoint(), undefined);
    assert.deepEqual(await s.links(0, 10), []);
    assert.deepEqual(await s.treeHeads(), []);
    assert.equal(await s.recordCount(), 0);
    assert.deepEqual(await s.lookup({ accountId: ACCOUNT, limit: 10 }), []);
    assert.equal(verifyLog({ rows: [], checkpoint: await s.checkpoint(), treeHeads: await s.treeHeads(), key }).ok, true);
  });

  it('commits append in order with gap-free sequence numbers, each hash chained to the one before, the exact bytes kept', async () => {
    const { store: s } = await open();
    const first = await commit(s, specs(3));
    const head = await headOf(s);
    assert.equal(head.seq, 3);
    assert.equal(head.hash, first.rows[2]!.hash);
    await commit(s, specs(2, 3));
    const links = await allLinks(s, 2);
    assert.deepEqual(links.map((l) => l.seq), [1, 2, 3, 4, 5]);
    let prev = GENESIS_HASH;
    for (const [i, l] of links.entries()) {
      assert.equal(l.record, canonicalJson(record({ id: `e${i}`, time: T0 + i * 1000 })));
      prev = chainHash(prev, l.record);
      assert.equal(l.hash, prev);
    }
    assert.deepEqual((await s.links(3, 10)).map((l) => l.seq), [4, 5]);
    assert.deepEqual(await s.links(5, 10), []);
    const cp = await s.checkpoint();
    assert.equal(cp?.seq, 5);
    assert.equal(cp?.hash, prev);
  });

  it('the checkpoint keeps the Merkle frontier of exactly the committed records', async () => {
    const { store: s } = await open();
    const all = specs(7);
    await commit(s, all.slice(0, 4));
    await commit(s, all.slice(4));
    const expected = MerkleFrontier.empty();
    for (const r of all) expected.append(leafHash(canonicalJson(r)));
    const head = await headOf(s);
    assert.equal(head.tree.size, 7);
    assert.deepEqual(head.tree.root(), expected.root());
    const cp = await s.checkpoint();
    assert.ok(cp?.frontier);
    assert.deepEqual(MerkleFrontier.fromBytes(cp.seq, cp.frontier).root(), expected.root());
  });

  it('keeps a signed tree head per commit: the newest covers every record; heads of earlier minutes stay', async () => {
    const { store: s } = await open();
    const now = Date.now();
    await commit(s, specs(2), now - 3 * MINUTE);
    await commit(s, specs(3, 2), now - 2 * MINUTE);
    await commit(s, specs(1, 5), now - MINUTE);
    await commit(s, specs(2, 6), now);
    const heads = await s.treeHeads();
    assert.deepEqual(heads.map((h) => h.treeSize), [2, 5, 6, 8]);
    for (const h of heads) {
      assert.equal(h.keyId, signer.keyId);
      assert.equal(treeHeadSignatureValid(h, signer.publicKey), true);
    }
    const report = verifyLog({ rows: await allLinks(s), checkpoint: await s.checkpoint(), treeHeads: heads, key });
    assert.deepEqual(report.problems, []);
    assert.equal(report.validTreeHeads, 4);
    assert.equal(report.latestTreeHead?.treeSize, 8);
  });

  it('several commits within one minute still leave the newest head covering the last record', async () => {
    const { store: s } = await open();
    const t = Date.now();
    for (let i = 0; i < 5; i++) await commit(s, specs(1, i), t + i);
    const heads = await s.treeHeads();
    assert.ok(heads.length >= 1 && heads.length <= 5);
    assert.equal(heads[heads.length - 1]!.treeSize, 5);
    assert.equal(heads[heads.length - 1]!.timestamp, t + 4);
    const report = verifyLog({ rows: await allLinks(s), checkpoint: await s.checkpoint(), treeHeads: heads, key });
    assert.deepEqual(report.problems, []);
  });

  it('a snapshot reads the log as it was when it began: commits made meanwhile, by this store or another on the location, are not in it', async () => {
    const opened = await open();
    const s = opened.store;
    const other = await opened.another();
    await commit(s, specs(3), Date.now() - MINUTE);
    const read = async (log: AuditLogView) => ({ cp: await log.checkpoint(), heads: await log.treeHeads(), links: await allLinks(log, 2), count: await log.recordCount() });
    const before = await read(s);
    assert.equal(before.count, 3);
    const seen = await s.readSnapshot(async (log) => {
      const cp = await log.checkpoint(); // the first read: the snapshot is taken here at the latest
      await commit(other, specs(2, 3)); // another process or node
      await commit(s, specs(1, 5)); // this process, through the store the snapshot was taken on
      const rest = await read(log);
      assert.deepEqual(rest.cp, cp);
      return rest;
    });
    assert.deepEqual(seen, before);
    const after = await read(s);
    assert.equal(after.count, 6);
    assert.deepEqual(after.links.map((l) => l.seq), [1, 2, 3, 4, 5, 6]);
    assert.equal(after.heads[after.heads.length - 1]!.treeSize, 6);
    assert.deepEqual(verifyLog({ rows: seen.links, checkpoint: seen.cp, treeHeads: seen.heads, key }).problems, []);
    assert.deepEqual(verifyLog({ rows: after.links, checkpoint: after.cp, treeHeads: after.heads, key }).problems, []);
    // A read that fails ends its snapshot: the error is the caller's, and commits go on.
    await assert.rejects(s.readSnapshot(async (log) => {
      await log.recordCount();
      throw new Error('reader failed');
    }), /reader failed/);
    await commit(s, specs(1, 6));
    assert.equal(await s.readSnapshot((log) => log.recordCount()), 7);
  });

  it('a commit that fails to build, or does not follow the head, writes nothing', async () => {
    const { store: s } = await open();
    await commit(s, specs(2));
    const before = { cp: await s.checkpoint(), heads: await s.treeHeads(), links: await allLinks(s) };
    await assert.rejects(async () => s.append(() => {
      throw new Error('signing failed');
    }));
    // Rows numbered after a head the store does not have (another writer moved it): refused.
    await assert.rejects(async () => s.append((head) => {
      const c = buildCommit({ ...head, seq: head.seq + 1, tree: head.tree.clone() }, specs(1, 9), signer, Date.now());
      return c;
    }));
    assert.deepEqual(await s.checkpoint(), before.cp);
    assert.deepEqual(await s.treeHeads(), before.heads);
    assert.deepEqual(await allLinks(s), before.links);
    assert.deepEqual((await s.lookup({ accountId: ACCOUNT, limit: 10 })).map((e) => e.seq), [2, 1]);
  });

  it('LookupEvents shows only the asking account\'s management events, newest first, paged by sequence number', async () => {
    const { store: s } = await open();
    await commit(s, [
      record({ id: 'a1', time: T0 + 1000 }),
      record({ id: 'o1', time: T0 + 2000, account: OTHER }),
      record({ id: 'd1', time: T0 + 3000, data: true, source: 's3.amazonaws.com', name: 'GetObject' }),
      record({ id: 'a2', time: T0 + 4000 }),
      record({ id: 'a3', time: T0 + 500 }), // clock stepped back: listed by event time, not sequence
      record({ id: 'a4', time: T0 + 5000 }),
    ]);
    const ids = async (q: Omit<LookupQuery, 'accountId'>, account = ACCOUNT) => (await s.lookup({ accountId: account, ...q })).map((e) => (JSON.parse(e.record) as { eventID: string }).eventID);
    assert.deepEqual(await ids({ limit: 10 }), ['a4', 'a2', 'a1', 'a3']);
    assert.deepEqual(await ids({ limit: 10 }, OTHER), ['o1']);
    assert.deepEqual(await ids({ limit: 10 }, '999999999999'), []);
    // The stored record is the exact bytes hashed.
    const [newest] = await s.lookup({ accountId: ACCOUNT, limit: 1 });
    assert.equal(newest?.record, canonicalJson(record({ id: 'a4', time: T0 + 5000 })));
    assert.equal(newest?.seq, 6);
    const p1 = await s.lookup({ accountId: ACCOUNT, limit: 2 });
    assert.deepEqual(p1.map((e) => e.seq), [6, 4]);
    const p2 = await s.lookup({ accountId: ACCOUNT, limit: 2, beforeSeq: p1[1]!.seq });
    assert.deepEqual(p2.map((e) => e.seq), [1, 5]);
    assert.deepEqual(await s.lookup({ accountId: ACCOUNT, limit: 2, beforeSeq: p2[1]!.seq }), []);
    // Time windows are inclusive at both ends.
    assert.deepEqual(await ids({ limit: 10, startTime: T0 + 1000, endTime: T0 + 4000 }), ['a2', 'a1']);
    assert.deepEqual(await ids({ limit: 10, startTime: T0 + 4001 }), ['a4']);
    assert.deepEqual(await ids({ limit: 10, endTime: T0 + 999 }), ['a3']);
  });

  it('LookupEvents filters on each attribute, in the asking account only, with a time window and pages', async () => {
    const { store: s } = await open();
    const key1 = `arn:aws:kms:us-east-1:${ACCOUNT}:key/k1`;
    const key2 = `arn:aws:kms:us-east-1:${ACCOUNT}:key/k2`;
    await commit(s, [
      record({ id: 'x1', time: T0 + 1000, name: 'Encrypt', readOnly: false, user: 'bob', accessKeyId: 'AKIABOB', resources: [{ type: 'AWS::KMS::Key', arn: key1 }] }),
      record({ id: 'x2', time: T0 + 2000, name: 'CreateUser', source: 'iam.amazonaws.com', readOnly: false }),
      record({ id: 'x3', time: T0 + 3000, resources: [{ type: 'AWS::KMS::Key', arn: key1 }, { type: 'AWS::KMS::Key', arn: key2 }] }),
      record({ id: 'x4', time: T0 + 4000, name: 'Encrypt', account: OTHER, user: 'bob', accessKeyId: 'AKIABOB', resources: [{ type: 'AWS::KMS::Key', arn: key1 }] }),
      record({ id: 'x5', time: T0 + 5000, name: 'PutObject', source: 's3.amazonaws.com', data: true, user: 'bob', accessKeyId: 'AKIABOB', resources: [{ type: 'AWS::S3::Object', arn: 'arn:aws:s3:::b/k' }] }),
    ]);
    const by = async (key: NonNullable<LookupQuery['attribute']>['key'], value: string, extra: Partial<LookupQuery> = {}) =>
      (await s.lookup({ accountId: ACCOUNT, attribute: { key, value }, limit: 10, ...extra })).map((e) => (JSON.parse(e.record) as { eventID: string }).eventID);
    assert.deepEqual(await by('EventId', 'x2'), ['x2']);
    assert.deepEqual(await by('EventId', 'x4'), []);
    assert.deepEqual(await by('EventName', 'Encrypt'), ['x1']);
    assert.deepEqual(await by('ReadOnly', 'false'), ['x2', 'x1']);
    assert.deepEqual(await by('ReadOnly', 'true'), ['x3']);
    assert.deepEqual(await by('Username', 'bob'), ['x1']);
    assert.deepEqual(await by('AccessKeyId', 'AKIABOB'), ['x1']);
    assert.deepEqual(await by('EventSource', 'iam.amazonaws.com'), ['x2']);
    assert.deepEqual(await by('EventSource', 's3.amazonaws.com'), []);
    // A record naming two keys is listed once under their type.
    assert.deepEqual(await by('ResourceType', 'AWS::KMS::Key'), ['x3', 'x1']);
    assert.deepEqual(await by('ResourceType', 'AWS::S3::Object'), []);
    assert.deepEqual(await by('ResourceName', key2), ['x3']);
    assert.deepEqual(await by('ResourceName', key1, { startTime: T0 + 2000 }), ['x3']);
    assert.deepEqual(await by('ResourceName', key1, { endTime: T0 + 2000 }), ['x1']);
    const page = await s.lookup({ accountId: ACCOUNT, attribute: { key: 'ResourceType', value: 'AWS::KMS::Key' }, limit: 1 });
    assert.equal(page.length, 1);
    assert.deepEqual(await by('ResourceType', 'AWS::KMS::Key', { beforeSeq: page[0]!.seq }), ['x1']);
    assert.deepEqual((await s.lookup({ accountId: OTHER, attribute: { key: 'ResourceName', value: key1 }, limit: 10 })).map((e) => e.seq), [4]);
  });

  it('keeps one audit signing key: a second is refused and the first stays', async () => {
    const { store: s } = await open();
    assert.equal(await s.treeHeadKey(), undefined);
    const k = { keyId: 'kid-1', publicKey: Buffer.from('pub'), wrappedPrivateKey: Buffer.from('wrapped'), createdAt: 123 };
    await s.addTreeHeadKey(k);
    assert.deepEqual(await s.treeHeadKey(), k);
    await assert.rejects(async () => s.addTreeHeadKey({ ...k, keyId: 'kid-2', publicKey: Buffer.from('other') }));
    assert.deepEqual(await s.treeHeadKey(), k);
  });

  it('everything committed is there after reopening, and the chain continues from it', async () => {
    const opened = await open();
    const k = { keyId: signer.keyId, publicKey: Buffer.from('pub'), wrappedPrivateKey: Buffer.from('w'), createdAt: 1 };
    await opened.store.addTreeHeadKey(k);
    const all = [...specs(4), record({ id: 'other', account: OTHER, time: T0 + 99_000 }), ...specs(3, 4)];
    await commit(opened.store, all.slice(0, 4), Date.now() - MINUTE);
    await commit(opened.store, all.slice(4), Date.now());
    const before = { cp: await opened.store.checkpoint(), heads: await opened.store.treeHeads(), links: await allLinks(opened.store) };

    const check = async (t: AuditStore) => {
      assert.deepEqual(await t.checkpoint(), before.cp);
      assert.deepEqual(await t.treeHeads(), before.heads);
      assert.deepEqual(await allLinks(t), before.links);
      assert.deepEqual(await t.treeHeadKey(), k);
      assert.deepEqual((await t.lookup({ accountId: OTHER, limit: 10 })).map((e) => e.seq), [5]);
      assert.deepEqual((await t.lookup({ accountId: ACCOUNT, attribute: { key: 'EventId', value: 'e6' }, limit: 10 })).map((e) => e.seq), [8]);
    };
    await check(await opened.another());
    const s = await opened.reopen();
    await check(s);
    const head = await headOf(s);
    assert.equal(head.seq, 8);
    assert.equal(head.hash, before.cp?.hash);
    await commit(s, specs(2, 20));
    const report = verifyLog({ rows: await allLinks(s), checkpoint: await s.checkpoint(), treeHeads: await s.treeHeads(), key });
    assert.deepEqual(report.problems, []);
    assert.equal(report.records, 10);
  });

  it('two stores on one location appending in turn form one gap-free chain (each sees the other\'s head)', async () => {
    const opened = await open();
    const a = opened.store;
    const b = await opened.another();
    for (let i = 0; i < 6; i++) await commit(i % 2 === 0 ? a : b, [record({ id: `t${i}-${randomUUID()}`, time: T0 + i })]);
    for (const t of [a, b]) {
      const report = verifyLog({ rows: await allLinks(t), checkpoint: await t.checkpoint(), treeHeads: await t.treeHeads(), key });
      assert.deepEqual(report.problems, []);
      assert.equal(report.records, 6);
    }
  });
}

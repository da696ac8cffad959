import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { IamStoreError, IamUserRecord } from '../../src/store/metadata/iam-types.js';
import { PostgresDatabase } from '../../src/store/metadata/postgres/database.js';
import { PostgresIamStore } from '../../src/store/metadata/postgres/iam-store.js';
import { PostgresMetadataStore } from '../../src/store/metadata/postgres/postgres-store.js';
import { postgresCluster, postgresSkip } from '../helpers/postgres.js';
import { iamStoreContract } from './iam-store.contract.js';

const skip = postgresSkip();
const opened: PostgresDatabase[] = [];
after(async () => {
  for (const d of opened) await d.close();
});

async function openDatabase(url?: string): Promise<PostgresDatabase> {
  const db = await PostgresDatabase.open(url ?? (await (await postgresCluster()).createDatabase()));
  opened.push(db);
  return db;
}

describe('PostgreSQL IAM store', { skip }, () => {
  iamStoreContract(async () => {
    const db = await openDatabase();
    return { iam: new PostgresIamStore(db), metadata: new PostgresMetadataStore(db) };
  });
});

describe('PostgreSQL IAM store and the metadata store on one database', { skip }, () => {
  it('putAccessKey replaces a key whole, as SQLite does: an IAM user’s key id put as a root key is no longer the user’s', async () => {
    const db = await openDatabase();
    const [iam, metadata] = [new PostgresIamStore(db), new PostgresMetadataStore(db)];
    const account = '111122223333';
    await metadata.createAccount({ accountId: account, createdAt: 1 });
    await iam.createUser({ accountId: account, userId: 'AIDA00000000000000001', userName: 'ivy', path: '/', arn: `arn:aws:iam::${account}:user/ivy`, createdAt: 1, tags: [] });
    const k = { accessKeyId: 'AKIA0000000000000001', accountId: account, principalArn: `arn:aws:iam::${account}:user/ivy`, principalType: 'IAMUser' as const, principalId: 'AIDA00000000000000001', secretWrapped: Buffer.from('w'), status: 'Active' as const, createdAt: 1 };
    await iam.createAccessKey({ ...k, userName: 'ivy' }, 2);
    await metadata.putAccessKey({ ...k, principalArn: `arn:aws:iam::${account}:root`, principalType: 'Root', principalId: account });
    assert.deepEqual(await iam.listAccessKeys(account, 'ivy'), []);
    assert.deepEqual((await iam.listAccessKeys(account, null)).map((x) => [x.accessKeyId, x.userName]), [[k.accessKeyId, null]]);
  });
});

describe('PostgreSQL IAM store on several nodes at once', { skip }, () => {
  const ACCOUNT = '111122223333';
  let n = 0;
  const user = (name: string): IamUserRecord => ({
    accountId: ACCOUNT, userId: `AIDA${String(++n).padStart(17, '0')}`, userName: name, path: '/', arn: `arn:aws:iam::${ACCOUNT}:user/${name}`, createdAt: 1, tags: [],
  });

  /** Two nodes (two pools) on one fresh database holding the account. */
  async function twoNodes() {
    const url = await (await postgresCluster()).createDatabase();
    const [a, b] = [await openDatabase(url), await openDatabase(url)];
    await new PostgresMetadataStore(a).createAccount({ accountId: ACCOUNT, createdAt: 1 });
    return [new PostgresIamStore(a), new PostgresIamStore(b)] as const;
  }

  const outcomes = (results: PromiseSettledResult<unknown>[]) =>
    results.map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason instanceof IamStoreError ? r.reason.failure : String(r.reason))).sort();

  it('concurrent CreateAccessKey calls for one user never pass the per-user quota', async () => {
    const [a, b] = await twoNodes();
    for (let round = 0; round < 5; round++) {
      const u = user(`erin${round}`);
      await a.createUser(u);
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).createAccessKey(
            { accessKeyId: `AKIA${round}${String(i).padStart(15, '0')}`, accountId: ACCOUNT, principalArn: u.arn, principalType: 'IAMUser', principalId: u.userId, secretWrapped: Buffer.from('w'), status: 'Active', createdAt: i, userName: u.userName },
            2,
          ),
        ),
      );
      assert.deepEqual(outcomes(results), [...Array(8).fill('limit'), 'ok', 'ok']);
      assert.equal((await b.listAccessKeys(ACCOUNT, u.userName.toUpperCase())).length, 2);
    }
  });

  it('the same user name in two cases created on two nodes at once: one user, the other call refused as existing', async () => {
    const [a, b] = await twoNodes();
    const results = await Promise.allSettled([a.createUser(user('Dana')), b.createUser(user('dana'))]);
    assert.deepEqual(outcomes(results), ['exists', 'ok']);
  });

  it('concurrent inline policies of one owner stay within the quota on their sum', async () => {
    const [a, b] = await twoNodes();
    const u = user('frank');
    await a.createUser(u);
    const quota = { name: 'PolicySize', max: 100, length: (d: string) => d.length };
    const doc = 'x'.repeat(30);
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).putInlinePolicy({ kind: 'user', id: u.userId }, `p${i}`, doc, quota)),
    );
    assert.deepEqual(outcomes(results), ['limit', 'limit', 'limit', 'ok', 'ok', 'ok']);
    assert.equal((await a.listInlinePolicies({ kind: 'user', id: u.userId })).length, 3);
  });

  it('a user deleted on one node while another adds it to a group: one of the two is refused with IAM’s reason, nothing dangles', async () => {
    for (let round = 0; round < 3; round++) {
      const [a, b] = await twoNodes();
      const u = user(`gina${round}`);
      await a.createUser(u);
      await a.createGroup({ accountId: ACCOUNT, groupId: `AGPA${round}`, groupName: `g${round}`, path: '/', arn: `arn:aws:iam::${ACCOUNT}:group/g${round}`, createdAt: 1 });
      const results = await Promise.allSettled([a.deleteUser(ACCOUNT, u.userName), b.addUserToGroup(`AGPA${round}`, u.userId, 10)]);
      const [deleted, added] = results.map((r) => r.status === 'fulfilled');
      assert.notEqual(deleted, added, `exactly one succeeds (round ${round}): ${outcomes(results)}`);
      // …and the other is refused as IAM refuses it (DeleteConflict / NoSuchEntity), not by a database error.
      const refusal = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
      assert.ok(refusal instanceof IamStoreError, String(refusal));
      const members = (await a.listGroupMembers(`AGPA${round}`, { limit: 10 })).items;
      assert.equal(members.length, added ? 1 : 0);
    }
  });

  it('names order and page regardless of case, as SQLite’s NOCASE does', async () => {
    const [a] = await twoNodes();
    for (const name of ['carol', 'Bob', 'alice', 'Dave', '_x']) await a.createUser(user(name));
    const first = await a.listUsers(ACCOUNT, { limit: 2 });
    assert.deepEqual(first.items.map((u) => u.userName), ['_x', 'alice']);
    const rest = await a.listUsers(ACCOUNT, { limit: 10, after: first.next! });
    assert.deepEqual(rest.items.map((u) => u.userName), ['Bob', 'carol', 'Dave']);
  });
});

import {
  CreateAliasCommand, CreateGrantCommand, CreateKeyCommand, DisableKeyCommand, EncryptCommand, KMSClient, ListGrantsCommand,
  ListRetirableGrantsCommand, RetireGrantCommand, RevokeGrantCommand, ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DAY_MS, ManualClock } from '../../../src/core/clock.js';
import { SecretBytes } from '../../../src/core/crypto/secret-bytes.js';
import { CredentialStore } from '../../../src/core/identity/credentials.js';
import { SQLITE_FILE } from '../../../src/store/metadata/sqlite/database.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

const OTHER_ACCOUNT = '444455556666';
const userArn = (account: string, name: string) => `arn:aws:iam::${account}:user/${name}`;
const ALICE = userArn(TEST_ACCOUNT, 'alice');
const ADMIN_ROLE = `arn:aws:iam::${TEST_ACCOUNT}:role/adminRole`;

describe('KMS grants over HTTP with @aws-sdk/client-kms', () => {
  let server: TestServer;
  let kms: KMSClient;
  const clock = new ManualClock();

  /** An access key for an IAM user (of this or another account), installed straight in the store. */
  async function clientAs(account: string, name: string): Promise<KMSClient> {
    const { store, root, clock: c } = server.app.kms.deps;
    if (!(await store.getAccount(account))) await store.createAccount({ accountId: account, createdAt: c.now() });
    const accessKeyId = `AKIA${account.slice(0, 6)}${name.toUpperCase().padEnd(10, 'X')}`.slice(0, 20);
    const secretAccessKey = `secret-of-${name}-in-${account}-0000000000000000`;
    await new CredentialStore(store, root).put(
      { accessKeyId, accountId: account, principalArn: userArn(account, name), principalType: 'IAMUser', principalId: `AIDA${name.toUpperCase()}`, status: 'Active', createdAt: c.now() },
      SecretBytes.adopt(Buffer.from(secretAccessKey, 'utf8')),
    );
    return server.kms({ credentials: { accessKeyId, secretAccessKey } });
  }

  before(async () => {
    server = await startServer({ clock });
    kms = server.kms();
  });
  after(() => server.destroy());

  const newKey = async () => (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
  const grantRows = (keyId: string): number => {
    const db = new Database(join(server.dataDir, SQLITE_FILE), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM kms_grants WHERE key_id = ?').get(keyId) as { n: number }).n;
    } finally {
      db.close();
    }
  };

  it('CreateGrant returns a 64-hex GrantId and a token; ListGrants shows the grant as AWS does', async () => {
    const key = await newKey();
    const created = await kms.send(
      new CreateGrantCommand({
        KeyId: key.KeyId,
        GranteePrincipal: ALICE,
        RetiringPrincipal: ADMIN_ROLE,
        Operations: ['Decrypt', 'GenerateDataKey'],
        Constraints: { EncryptionContextSubset: { Department: 'IT' } },
        Name: 'payroll-app',
      }),
    );
    assert.match(created.GrantId!, /^[0-9a-f]{64}$/);
    assert.match(created.GrantToken!, /^[A-Za-z0-9+/]+=*$/);
    const { Grants, Truncated, NextMarker } = await kms.send(new ListGrantsCommand({ KeyId: key.Arn }));
    assert.equal(Truncated, false);
    assert.equal(NextMarker, undefined);
    assert.equal(Grants!.length, 1);
    const g = Grants![0]!;
    assert.ok(g.CreationDate instanceof Date && Math.abs(g.CreationDate.getTime() - clock.now()) < 60_000);
    assert.deepEqual({ ...g, CreationDate: undefined }, {
      KeyId: key.Arn,
      GrantId: created.GrantId,
      Name: 'payroll-app',
      CreationDate: undefined,
      GranteePrincipal: ALICE,
      RetiringPrincipal: ADMIN_ROLE,
      IssuingAccount: `arn:aws:iam::${TEST_ACCOUNT}:root`,
      Operations: ['Decrypt', 'GenerateDataKey'],
      Constraints: { EncryptionContextSubset: { Department: 'IT' } },
    });
  });

  it('Name idempotence: a retry with the same name and parameters returns the same grant (with a new token); other parameters make a new grant', async () => {
    const key = await newKey();
    const params = { KeyId: key.KeyId, GranteePrincipal: ALICE, Operations: ['Encrypt' as const, 'Decrypt' as const], Name: 'retry-me' };
    const first = await kms.send(new CreateGrantCommand(params));
    const again = await kms.send(new CreateGrantCommand({ ...params, Operations: ['Decrypt', 'Encrypt'] }));
    assert.equal(again.GrantId, first.GrantId);
    assert.notEqual(again.GrantToken, first.GrantToken);
    const changed = await kms.send(new CreateGrantCommand({ ...params, Operations: ['Decrypt'] }));
    assert.notEqual(changed.GrantId, first.GrantId);
    const unnamed1 = await kms.send(new CreateGrantCommand({ ...params, Name: undefined }));
    const unnamed2 = await kms.send(new CreateGrantCommand({ ...params, Name: undefined }));
    assert.notEqual(unnamed1.GrantId, unnamed2.GrantId);
    assert.equal((await kms.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants!.length, 4);
  });

  it('stores and returns an EncryptionContextEquals constraint, and a grant without one has no Constraints', async () => {
    const key = await newKey();
    const eq = await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ALICE, Operations: ['Encrypt'], Constraints: { EncryptionContextEquals: { a: '1', B: '2' } } }));
    const plain = await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ALICE, Operations: ['DescribeKey', 'RetireGrant'] }));
    const byId = async (GrantId: string) => (await kms.send(new ListGrantsCommand({ KeyId: key.KeyId, GrantId }))).Grants!;
    assert.deepEqual((await byId(eq.GrantId!)).map((g) => g.Constraints), [{ EncryptionContextEquals: { a: '1', B: '2' } }]);
    const [p] = await byId(plain.GrantId!);
    assert.equal(p!.Constraints, undefined);
    assert.equal(p!.Name, undefined);
    assert.equal(p!.RetiringPrincipal, undefined);
  });

  it('ListGrants pages with Limit and Marker, and filters by GrantId and GranteePrincipal', async () => {
    const key = await newKey();
    const bob = userArn(TEST_ACCOUNT, 'bob');
    const ids: string[] = [];
    for (const grantee of [ALICE, bob, ALICE]) {
      ids.push((await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: grantee, Operations: ['Encrypt'] }))).GrantId!);
    }
    const seen: string[] = [];
    let Marker: string | undefined;
    do {
      const page = await kms.send(new ListGrantsCommand({ KeyId: key.KeyId, Limit: 1, Marker }));
      assert.equal(page.Grants!.length, 1);
      seen.push(page.Grants![0]!.GrantId!);
      Marker = page.NextMarker;
      assert.equal(page.Truncated, Marker !== undefined);
    } while (Marker !== undefined);
    assert.deepEqual(seen, ids);
    assert.deepEqual((await kms.send(new ListGrantsCommand({ KeyId: key.KeyId, GranteePrincipal: bob }))).Grants!.map((g) => g.GrantId), [ids[1]]);
    assert.deepEqual((await kms.send(new ListGrantsCommand({ KeyId: key.KeyId, GrantId: ids[2] }))).Grants!.map((g) => g.GrantId), [ids[2]]);
    assert.equal((await rejection(kms.send(new ListGrantsCommand({ KeyId: key.KeyId, GrantId: 'not-a-grant-id' })))).name, 'InvalidGrantIdException');
    assert.equal((await rejection(kms.send(new ListGrantsCommand({ KeyId: key.KeyId, Marker: 'bogus' })))).name, 'InvalidMarkerException');
    assert.equal((await rejection(kms.send(new ListGrantsCommand({ KeyId: 'alias/nope' })))).name, 'NotFoundException', 'key ID or key ARN only');
  });

  it('RevokeGrant deletes the grant; unknown and malformed grant ids are NotFoundException and InvalidGrantIdException', async () => {
    const key = await newKey();
    const other = await newKey();
    const { GrantId } = await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ALICE, Operations: ['Encrypt'] }));
    assert.equal((await rejection(kms.send(new RevokeGrantCommand({ KeyId: other.KeyId, GrantId })))).name, 'NotFoundException', 'the grant of another key');
    await kms.send(new RevokeGrantCommand({ KeyId: key.Arn, GrantId }));
    assert.deepEqual((await kms.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants, []);
    assert.equal((await rejection(kms.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId })))).name, 'NotFoundException');
    assert.equal((await rejection(kms.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: 'x'.repeat(64) })))).name, 'InvalidGrantIdException');
  });

  it('RetireGrant by grant token or by key and grant id; malformed tokens and missing identifiers are refused', async () => {
    const key = await newKey();
    const a = await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ALICE, Operations: ['Encrypt'] }));
    const b = await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ALICE, Operations: ['Decrypt'] }));
    await kms.send(new RetireGrantCommand({ GrantToken: a.GrantToken }));
    await kms.send(new RetireGrantCommand({ KeyId: key.Arn, GrantId: b.GrantId }));
    assert.deepEqual((await kms.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants, []);
    assert.equal((await rejection(kms.send(new RetireGrantCommand({ GrantToken: a.GrantToken })))).name, 'NotFoundException');
    assert.equal((await rejection(kms.send(new RetireGrantCommand({ GrantToken: 'bm90IGEgdG9rZW4=' })))).name, 'InvalidGrantTokenException');
    assert.equal((await rejection(kms.send(new RetireGrantCommand({ GrantId: b.GrantId })))).name, 'ValidationException');
    assert.equal((await rejection(kms.send(new RetireGrantCommand({ KeyId: key.KeyId, GrantId: 'nope' })))).name, 'InvalidGrantIdException');
  });

  it('the grant decides who else may retire it: its retiring principal and, when it lists RetireGrant, its grantee — even from another account', async () => {
    const key = await newKey();
    const [carol, dave, erin] = [await clientAs(OTHER_ACCOUNT, 'carol'), await clientAs(OTHER_ACCOUNT, 'dave'), await clientAs(OTHER_ACCOUNT, 'erin')];
    const retirable = await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: userArn(OTHER_ACCOUNT, 'erin'), RetiringPrincipal: userArn(OTHER_ACCOUNT, 'carol'), Operations: ['Encrypt'] }));
    const selfRetiring = await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: userArn(OTHER_ACCOUNT, 'erin'), Operations: ['Encrypt', 'RetireGrant'] }));
    const denied = await rejection(dave.send(new RetireGrantCommand({ GrantToken: retirable.GrantToken })));
    assert.equal(denied.name, 'AccessDeniedException');
    assert.equal((await rejection(erin.send(new RetireGrantCommand({ GrantToken: retirable.GrantToken })))).name, 'AccessDeniedException', 'a grantee without RetireGrant');
    await carol.send(new RetireGrantCommand({ GrantToken: retirable.GrantToken }));
    await erin.send(new RetireGrantCommand({ KeyId: key.Arn, GrantId: selfRetiring.GrantId }));
    assert.deepEqual((await kms.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants, []);
  });

  it('ListRetirableGrants lists the grants of a retiring principal of the caller’s account across keys; another account’s principal is refused', async () => {
    const [k1, k2] = [await newKey(), await newKey()];
    const retiring = userArn(TEST_ACCOUNT, 'janitor');
    const ids = [];
    for (const k of [k1, k2]) {
      ids.push((await kms.send(new CreateGrantCommand({ KeyId: k.KeyId, GranteePrincipal: ALICE, RetiringPrincipal: retiring, Operations: ['Encrypt'] }))).GrantId);
    }
    const first = await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: retiring, Limit: 1 }));
    assert.equal(first.Truncated, true);
    const second = await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: retiring, Marker: first.NextMarker }));
    const all = [...first.Grants!, ...second.Grants!];
    assert.deepEqual(all.map((g) => [g.GrantId, g.KeyId, g.RetiringPrincipal]), [[ids[0], k1.Arn, retiring], [ids[1], k2.Arn, retiring]]);
    assert.equal((await rejection(kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: userArn(OTHER_ACCOUNT, 'x') })))).name, 'AccessDeniedException');
  });

  it('CreateGrant errors: unsupported operations, CreateGrant alone, two constraints, bad principals, bad keys and tokens', async () => {
    const key = await newKey();
    const create = (p: Partial<ConstructorParameters<typeof CreateGrantCommand>[0]>) =>
      rejection(kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ALICE, Operations: ['Decrypt'], ...p })));
    assert.equal((await create({ Operations: ['Decrypt', 'Sign'] })).name, 'ValidationException');
    assert.equal((await create({ Operations: ['GenerateMac'] })).name, 'ValidationException');
    assert.equal((await create({ Operations: ['CreateGrant'] })).name, 'ValidationException');
    assert.equal((await create({ Operations: ['Nope' as 'Decrypt'] })).name, 'ValidationException');
    assert.equal((await create({ Constraints: { EncryptionContextEquals: { a: 'b' }, EncryptionContextSubset: { a: 'b' } } })).name, 'ValidationException');
    assert.equal((await create({ GranteePrincipal: `arn:aws:iam::${TEST_ACCOUNT}:group/admins` })).name, 'InvalidArnException');
    assert.equal((await create({ RetiringPrincipal: 'nobody' })).name, 'InvalidArnException');
    assert.equal((await create({ GrantTokens: ['garbage'] })).name, 'InvalidGrantTokenException');
    assert.equal((await create({ KeyId: '00000000-0000-4000-8000-000000000000' })).name, 'NotFoundException');
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/grants-test', TargetKeyId: key.KeyId }));
    assert.equal((await create({ KeyId: 'alias/grants-test' })).name, 'NotFoundException', 'key ID or key ARN only');
    assert.equal((await create({ DryRun: true })).name, 'DryRunOperationException');
    assert.deepEqual((await kms.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants, [], 'no grant was made by any of these');
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    assert.equal((await create({})).name, 'DisabledException');
  });

  it('grants go with their key: still listed while it is pending deletion, gone (rows included) once its deletion date passes', async () => {
    const key = await newKey();
    const { GrantId, GrantToken } = await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ALICE, RetiringPrincipal: ADMIN_ROLE, Operations: ['Encrypt'] }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    assert.deepEqual((await kms.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants!.map((g) => g.GrantId), [GrantId]);
    assert.equal((await rejection(kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ALICE, Operations: ['Encrypt'] })))).name, 'KMSInvalidStateException');
    assert.equal(grantRows(key.KeyId!), 1);
    clock.advance(7 * DAY_MS + 1);
    assert.equal((await rejection(kms.send(new ListGrantsCommand({ KeyId: key.KeyId })))).name, 'NotFoundException');
    assert.equal(grantRows(key.KeyId!), 0);
    assert.equal((await rejection(kms.send(new RetireGrantCommand({ GrantToken })))).name, 'NotFoundException');
    const retirable = await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: ADMIN_ROLE }));
    assert.ok(!retirable.Grants!.some((g) => g.GrantId === GrantId));
  });

  it('a grant lets its grantee in another account use the key, within its constraints (a token is checked, not needed)', async () => {
    const key = await newKey();
    const frank = await clientAs(OTHER_ACCOUNT, 'frank');
    const encrypt = (ctx?: Record<string, string>, GrantTokens?: string[]) =>
      frank.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('hi'), EncryptionContext: ctx, GrantTokens }));
    assert.equal((await rejection(encrypt({ Department: 'IT' }))).name, 'AccessDeniedException', 'no grant yet');
    const { GrantToken } = await kms.send(
      new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: userArn(OTHER_ACCOUNT, 'frank'), Operations: ['Encrypt'], Constraints: { EncryptionContextSubset: { Department: 'IT' } } }),
    );
    assert.equal((await encrypt({ Department: 'IT', Extra: 'x' }, [GrantToken!])).KeyId, key.Arn);
    assert.equal((await encrypt({ Department: 'IT' })).KeyId, key.Arn);
    assert.equal((await rejection(encrypt({ Department: 'HR' }))).name, 'AccessDeniedException');
    assert.equal((await rejection(encrypt({ Department: 'IT' }, ['garbage']))).name, 'InvalidGrantTokenException');
  });

  it('a grant with CreateGrant lets its grantee create only equally or more restrictive grants', async () => {
    const key = await newKey();
    const gina = await clientAs(OTHER_ACCOUNT, 'gina');
    await kms.send(
      new CreateGrantCommand({
        KeyId: key.KeyId,
        GranteePrincipal: userArn(OTHER_ACCOUNT, 'gina'),
        Operations: ['Encrypt', 'Decrypt', 'CreateGrant'],
        Constraints: { EncryptionContextSubset: { Department: 'IT' } },
      }),
    );
    const sub = (p: Partial<ConstructorParameters<typeof CreateGrantCommand>[0]>) =>
      gina.send(new CreateGrantCommand({ KeyId: key.Arn, GranteePrincipal: userArn(OTHER_ACCOUNT, 'hank'), Operations: ['Decrypt'], ...p }));
    const narrower = await sub({ Constraints: { EncryptionContextEquals: { Department: 'IT', Team: 'a' } } });
    assert.match(narrower.GrantId!, /^[0-9a-f]{64}$/);
    assert.equal((await rejection(sub({}))).name, 'AccessDeniedException', 'dropping the constraint');
    assert.equal((await rejection(sub({ Operations: ['GenerateDataKey'], Constraints: { EncryptionContextSubset: { Department: 'IT' } } }))).name, 'AccessDeniedException', 'an operation the grant lacks');
    const [entry] = (await kms.send(new ListGrantsCommand({ KeyId: key.KeyId, GrantId: narrower.GrantId }))).Grants!;
    assert.equal(entry!.IssuingAccount, `arn:aws:iam::${OTHER_ACCOUNT}:root`, 'issued by the account of the principal that created it');
  });
});

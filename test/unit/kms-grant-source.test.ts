import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { FileRootOfTrust } from '../../src/core/crypto/root-of-trust/file.js';
import { Principal } from '../../src/core/identity/principal.js';
import { CreateGrantParams, grantRequestOf } from '../../src/core/kms/grant-request.js';
import { ChildGrant, KmsGrantQuery, childGrantOf } from '../../src/core/kms/grant-source.js';
import { newGrantToken } from '../../src/core/kms/grant-token.js';
import { Kms } from '../../src/core/kms/kms.js';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { sqliteGrantStore } from '../../src/store/metadata/sqlite/grant-store.js';
import { SqliteMetadataStore } from '../../src/store/metadata/sqlite/sqlite-store.js';
import { KeyRecord } from '../../src/store/metadata/types.js';

const ACCOUNT = '111122223333';
const SCOPE = { accountId: ACCOUNT, region: 'us-east-1' };
const user = (name: string): Principal => ({
  type: 'IAMUser',
  accountId: ACCOUNT,
  arn: `arn:aws:iam::${ACCOUNT}:user/${name}`,
  principalId: `AIDA${name.toUpperCase()}`,
  accessKeyId: `AKIA${name.toUpperCase()}`,
  userName: name,
});
const root: Principal = { type: 'Root', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, principalId: ACCOUNT, accessKeyId: 'AKIAROOT' };
const alice = user('alice');
const bob = user('bob');
/** A role session principal: its session ARN, and the role's ARN (with its path) when the identity layer gives it. */
const session = (role: string, name: string, roleArn?: string): Principal =>
  ({ ...alice, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${name}`, ...(roleArn ? { roleArn } : {}) }) as Principal;

describe('the grant source: whether a grant allows a KMS request', () => {
  let dir: string;
  let database: SqliteDatabase;
  let kms: Kms;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sr-grant-source-'));
    database = SqliteDatabase.inDataDir(dir);
    kms = new Kms(new SqliteMetadataStore(database), FileRootOfTrust.openOrCreate(dir), new ManualClock(), { grants: sqliteGrantStore(database) });
  });
  after(() => {
    database.db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const newKey = () => kms.keys.create(SCOPE, {});
  const grantOn = async (key: KeyRecord, params: Omit<CreateGrantParams, 'KeyId'>) =>
    kms.grants.create(key, root, grantRequestOf({ KeyId: key.keyId, ...params }));
  const allows = (key: KeyRecord, principal: Principal, operation: string, extra: Partial<KmsGrantQuery> = {}) =>
    kms.grants.source.allows({ key, principal, operation, ...extra });

  it('a grant allows exactly its grantee, on its key, the operations it lists', async () => {
    const key = await newKey();
    const other = await newKey();
    await grantOn(key, { GranteePrincipal: alice.arn, Operations: ['Decrypt', 'GenerateDataKey'] });
    assert.equal(await allows(key, alice, 'Decrypt'), true);
    assert.equal(await allows(key, alice, 'GenerateDataKey'), true);
    assert.equal(await allows(key, bob, 'Decrypt'), false, 'another user');
    assert.equal(await allows(key, root, 'Decrypt'), false, 'the account root is not the grantee');
    assert.equal(await allows(other, alice, 'Decrypt'), false, 'another key');
  });

  it('each operation is listed on its own: GenerateDataKey does not cover its variants, ReEncryptFrom is not ReEncryptTo', async () => {
    const key = await newKey();
    await grantOn(key, { GranteePrincipal: alice.arn, Operations: ['GenerateDataKey', 'ReEncryptFrom'] });
    assert.equal(await allows(key, alice, 'GenerateDataKeyWithoutPlaintext'), false);
    assert.equal(await allows(key, alice, 'GenerateDataKeyPair'), false);
    assert.equal(await allows(key, alice, 'ReEncryptFrom'), true);
    assert.equal(await allows(key, alice, 'ReEncryptTo'), false);
    assert.equal(await allows(key, alice, 'Encrypt'), false);
    assert.equal(await allows(key, alice, 'ScheduleKeyDeletion'), false, 'not a grant operation at all');
  });

  it('a grant to a role allows its sessions; a grant to a session allows that session only', async () => {
    const key = await newKey();
    await grantOn(key, { GranteePrincipal: `arn:aws:iam::${ACCOUNT}:role/app`, Operations: ['Encrypt'] });
    await grantOn(key, { GranteePrincipal: `arn:aws:sts::${ACCOUNT}:assumed-role/batch/night`, Operations: ['Decrypt'] });
    assert.equal(await allows(key, session('app', 's1'), 'Encrypt'), true);
    assert.equal(await allows(key, session('app', 's2'), 'Encrypt'), true);
    assert.equal(await allows(key, session('other', 's1'), 'Encrypt'), false);
    assert.equal(await allows(key, session('batch', 'night'), 'Decrypt'), true);
    assert.equal(await allows(key, session('batch', 'day'), 'Decrypt'), false);
  });

  it('a grant to a role with a path matches its sessions when the identity layer gives the role ARN', async () => {
    const key = await newKey();
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/team/app`;
    await grantOn(key, { GranteePrincipal: roleArn, Operations: ['Encrypt'] });
    assert.equal(await allows(key, session('app', 's1', roleArn), 'Encrypt'), true);
    assert.equal(await allows(key, session('app', 's1'), 'Encrypt'), false, 'a session ARN does not carry the path');
  });

  it('EncryptionContextEquals: the request context must be exactly the constraint (keys without case, values with)', async () => {
    const key = await newKey();
    await grantOn(key, { GranteePrincipal: alice.arn, Operations: ['Decrypt'], Constraints: { EncryptionContextEquals: { Department: 'IT', Project: 'x' } } });
    const decrypt = (ctx?: Record<string, string>) => allows(key, alice, 'Decrypt', ctx ? { encryptionContext: ctx } : {});
    assert.equal(await decrypt({ Project: 'x', Department: 'IT' }), true, 'any order');
    assert.equal(await decrypt({ department: 'IT', PROJECT: 'x' }), true, 'keys are not case sensitive');
    assert.equal(await decrypt({ Department: 'it', Project: 'x' }), false, 'values are case sensitive');
    assert.equal(await decrypt({ Department: 'IT' }), false, 'a pair missing');
    assert.equal(await decrypt({ Department: 'IT', Project: 'x', Extra: '1' }), false, 'a pair more');
    assert.equal(await decrypt(), false, 'no context');
  });

  it('EncryptionContextSubset: the request context must include every pair, and may have more', async () => {
    const key = await newKey();
    await grantOn(key, { GranteePrincipal: alice.arn, Operations: ['GenerateDataKey', 'Decrypt'], Constraints: { EncryptionContextSubset: { Department: 'Finance', Classification: 'Public' } } });
    const gdk = (ctx?: Record<string, string>) => allows(key, alice, 'GenerateDataKey', ctx ? { encryptionContext: ctx } : {});
    // The examples of https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#grant-constraints
    assert.equal(await gdk({ Department: 'Finance', Classification: 'Public' }), true);
    assert.equal(await gdk({ Classification: 'Public', Department: 'Finance' }), true);
    assert.equal(await gdk({ Customer: '12345', Department: 'Finance', Classification: 'Public', Purpose: 'Test' }), true);
    assert.equal(await gdk({ Department: 'Finance' }), false);
    assert.equal(await gdk({ department: 'finance', classification: 'public' }), false);
    assert.equal(await gdk({ Classification: 'Public', Customer: '12345' }), false);
    assert.equal(await gdk(), false);
  });

  it('constraints do not apply to DescribeKey; RetireGrant is never answered by the grant source', async () => {
    const key = await newKey();
    await grantOn(key, { GranteePrincipal: alice.arn, Operations: ['Decrypt', 'DescribeKey', 'RetireGrant'], Constraints: { EncryptionContextEquals: { a: 'b' } } });
    assert.equal(await allows(key, alice, 'DescribeKey'), true);
    assert.equal(await allows(key, alice, 'RetireGrant'), false, 'RetireGrant checks the grant being retired itself');
  });

  it('CreateGrant through a grant: only grants that are equally or more restrictive, and never without knowing the new grant', async () => {
    const key = await newKey();
    await grantOn(key, {
      GranteePrincipal: alice.arn,
      Operations: ['Decrypt', 'GenerateDataKey', 'CreateGrant'],
      Constraints: { EncryptionContextSubset: { Department: 'IT' } },
    });
    const create = (child?: ChildGrant) => allows(key, alice, 'CreateGrant', child ? { createGrant: child } : {});
    const child = (Operations: string[], Constraints?: CreateGrantParams['Constraints']) => childGrantOf({ Operations, ...(Constraints ? { Constraints } : {}) });
    assert.equal(await create(), false, 'the new grant is unknown');
    assert.equal(await create(child(['Decrypt'], { EncryptionContextSubset: { Department: 'IT' } })), true);
    assert.equal(await create(child(['Decrypt', 'GenerateDataKey'], { EncryptionContextSubset: { department: 'IT', Team: 'a' } })), true, 'pairs may be added');
    assert.equal(await create(child(['Decrypt'], { EncryptionContextEquals: { Department: 'IT', Team: 'a' } })), true, 'Subset may become Equals');
    assert.equal(await create(child(['Decrypt'])), false, 'the constraint cannot be dropped');
    assert.equal(await create(child(['Decrypt'], { EncryptionContextSubset: { Team: 'a' } })), false, 'pairs cannot be removed');
    assert.equal(await create(child(['Decrypt', 'Encrypt'], { EncryptionContextSubset: { Department: 'IT' } })), false, 'an operation the parent lacks');
  });

  it('CreateGrant through an Equals grant needs the same Equals constraint', async () => {
    const key = await newKey();
    await grantOn(key, { GranteePrincipal: alice.arn, Operations: ['Encrypt', 'CreateGrant'], Constraints: { EncryptionContextEquals: { a: '1' } } });
    const create = (Constraints: CreateGrantParams['Constraints']) =>
      allows(key, alice, 'CreateGrant', { createGrant: childGrantOf({ Operations: ['Encrypt'], Constraints }) });
    assert.equal(await create({ EncryptionContextEquals: { A: '1' } }), true);
    assert.equal(await create({ EncryptionContextEquals: { a: '1', b: '2' } }), false);
    assert.equal(await create({ EncryptionContextSubset: { a: '1' } }), false, 'Equals cannot become Subset');
  });

  it('CreateGrant through an unconstrained grant allows any subset of its operations', async () => {
    const key = await newKey();
    await grantOn(key, { GranteePrincipal: alice.arn, Operations: ['Encrypt', 'Decrypt', 'CreateGrant'] });
    const create = (ops: string[]) => allows(key, alice, 'CreateGrant', { createGrant: childGrantOf({ Operations: ops }) });
    assert.equal(await create(['Encrypt', 'CreateGrant']), true);
    assert.equal(await create(['ReEncryptFrom']), false);
  });

  it('grant tokens: a malformed one is InvalidGrantTokenException; a valid one counts only for its grant’s grantee', async () => {
    const key = await newKey();
    const g = await grantOn(key, { GranteePrincipal: alice.arn, Operations: ['Encrypt'] });
    assert.equal(await allows(key, alice, 'Encrypt', { grantTokens: [g.grantToken] }), true);
    assert.equal(await allows(key, bob, 'Encrypt', { grantTokens: [g.grantToken] }), false, 'a token is evidence, not a credential');
    for (const bad of ['not-a-token', g.grantToken.slice(0, -4), Buffer.from('x'.repeat(57)).toString('base64')]) {
      await assert.rejects(allows(key, bob, 'Encrypt', { grantTokens: [g.grantToken, bad] }), { name: 'InvalidGrantTokenException', message: 'Invalid grant token' });
    }
    await kms.grants.revoke(key, g.grantId);
    assert.equal(await allows(key, alice, 'Encrypt', { grantTokens: [g.grantToken] }), false, 'a revoked grant’s token is valid but allows nothing');
    assert.equal(await allows(key, alice, 'Encrypt', { grantTokens: [newGrantToken('ab'.repeat(32))] }), false);
  });

  it('a revoked or retired grant stops allowing at once', async () => {
    const key = await newKey();
    const a = await grantOn(key, { GranteePrincipal: alice.arn, Operations: ['Encrypt'] });
    assert.equal(await allows(key, alice, 'Encrypt'), true);
    await kms.grants.revoke(key, a.grantId);
    assert.equal(await allows(key, alice, 'Encrypt'), false);
    const b = await grantOn(key, { GranteePrincipal: alice.arn, Operations: ['Encrypt'], RetiringPrincipal: bob.arn });
    assert.equal(await allows(key, alice, 'Encrypt'), true);
    const { grant } = await kms.grants.findToRetire(SCOPE, kms.resolver, { GrantToken: b.grantToken });
    assert.equal(kms.grants.grantLetsRetire(bob, grant), true);
    assert.equal(kms.grants.grantLetsRetire(alice, grant), false, 'the grantee needs RetireGrant in the grant');
    await kms.grants.retire(grant);
    assert.equal(await allows(key, alice, 'Encrypt'), false);
  });
});

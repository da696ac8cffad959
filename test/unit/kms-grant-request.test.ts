import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { FileRootOfTrust } from '../../src/core/crypto/root-of-trust/file.js';
import { Principal } from '../../src/core/identity/principal.js';
import { atLeastAsStrict } from '../../src/core/kms/grant-constraints.js';
import { CreateGrantParams, grantConditionContext, grantRequestOf } from '../../src/core/kms/grant-request.js';
import { grantIdOfToken, newGrantId, newGrantToken } from '../../src/core/kms/grant-token.js';
import { Kms } from '../../src/core/kms/kms.js';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { sqliteGrantStore } from '../../src/store/metadata/sqlite/grant-store.js';
import { SqliteMetadataStore } from '../../src/store/metadata/sqlite/sqlite-store.js';

const ACCOUNT = '111122223333';
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const base: CreateGrantParams = { KeyId: 'k', GranteePrincipal: ALICE, Operations: ['Decrypt'] };

describe('CreateGrant requests', () => {
  it('operations a grant on a symmetric encryption key cannot allow are a ValidationException', () => {
    for (const op of ['Sign', 'Verify', 'GetPublicKey', 'GenerateMac', 'VerifyMac', 'DeriveSharedSecret']) {
      assert.throws(() => grantRequestOf({ ...base, Operations: ['Decrypt', op] }), { name: 'ValidationException', message: new RegExp(`\\[${op}\\]`) });
    }
    const ok = grantRequestOf({ ...base, Operations: ['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'CreateGrant', 'RetireGrant', 'DescribeKey', 'Decrypt'] });
    assert.equal(ok.operations.length, 11, 'repeats are dropped');
  });

  it('an empty operation list, or CreateGrant alone, is a ValidationException', () => {
    assert.throws(() => grantRequestOf({ ...base, Operations: [] }), { name: 'ValidationException' });
    assert.throws(() => grantRequestOf({ ...base, Operations: ['CreateGrant'] }), { name: 'ValidationException', message: 'Grants must not contain only the CreateGrant operation.' });
    assert.deepEqual(grantRequestOf({ ...base, Operations: ['CreateGrant', 'Decrypt'] }).operations, ['CreateGrant', 'Decrypt']);
  });

  it('constraints: one type only, at most 8 pairs, values at most 384 characters; never echoed in messages', () => {
    assert.throws(() => grantRequestOf({ ...base, Constraints: { EncryptionContextEquals: {}, EncryptionContextSubset: { a: 'b' } } }), {
      name: 'ValidationException',
      message: 'More than one constraint supplied',
    });
    const nine = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'secret-value']));
    assert.throws(() => grantRequestOf({ ...base, Constraints: { EncryptionContextSubset: nine } }), (err: Error) => err.name === 'ValidationException' && !err.message.includes('secret-value'));
    assert.throws(() => grantRequestOf({ ...base, Constraints: { EncryptionContextEquals: { a: 'v'.repeat(385) } } }), { name: 'ValidationException' });
    assert.deepEqual(grantRequestOf({ ...base, Constraints: { EncryptionContextEquals: { a: 'v'.repeat(384) } } }).constraints, { encryptionContextEquals: { a: 'v'.repeat(384) } });
    assert.equal(grantRequestOf({ ...base, Constraints: {} }).constraints, null);
  });

  it('grantee and retiring principals must be principal ARNs (or a service principal): InvalidArnException otherwise', () => {
    for (const good of [
      `arn:aws:iam::${ACCOUNT}:root`,
      `arn:aws:iam::${ACCOUNT}:user/path/alice`,
      `arn:aws:iam::${ACCOUNT}:role/app`,
      `arn:aws:sts::${ACCOUNT}:assumed-role/app/session`,
      `arn:aws:sts::${ACCOUNT}:federated-user/carol`,
      'dynamodb.us-east-1.amazonaws.com',
    ]) {
      assert.equal(grantRequestOf({ ...base, GranteePrincipal: good, RetiringPrincipal: good }).granteePrincipal, good);
    }
    for (const bad of [`arn:aws:iam::${ACCOUNT}:group/admins`, ACCOUNT, 'alice', `arn:aws:kms:us-east-1:${ACCOUNT}:key/x`, `arn:aws:iam::123:user/a`]) {
      assert.throws(() => grantRequestOf({ ...base, GranteePrincipal: bad }), { name: 'InvalidArnException' }, bad);
      assert.throws(() => grantRequestOf({ ...base, RetiringPrincipal: bad }), { name: 'InvalidArnException' }, bad);
    }
  });

  it('grantConditionContext gives the CreateGrant condition keys the authorizer merges', () => {
    assert.deepEqual(
      grantConditionContext({ ...base, Operations: ['Decrypt', 'Encrypt', 'Decrypt'], RetiringPrincipal: `arn:aws:iam::${ACCOUNT}:role/admin`, Constraints: { EncryptionContextSubset: { a: 'b' } } }),
      {
        'kms:GrantIsForAWSResource': 'false',
        'kms:GrantOperations': ['Decrypt', 'Encrypt'],
        'kms:GranteePrincipal': ALICE,
        'kms:RetiringPrincipal': `arn:aws:iam::${ACCOUNT}:role/admin`,
        'kms:GrantConstraintType': 'EncryptionContextSubset',
      },
    );
    assert.deepEqual(grantConditionContext({ KeyId: 'k', GrantId: 'g' } as Partial<CreateGrantParams>), { 'kms:GrantIsForAWSResource': 'false' }, 'RevokeGrant/ListGrants input');
    assert.equal(grantConditionContext(base, { viaService: 's3.us-east-1.amazonaws.com' })['kms:GrantIsForAWSResource'], 'true');
    assert.equal(grantConditionContext({ ...base, Constraints: { EncryptionContextEquals: {} } })['kms:GrantConstraintType'], 'EncryptionContextEquals');
  });
});

describe('grant tokens and ids', () => {
  it('a token names its grant; every token is different; grant ids are 64 hex characters', () => {
    const id = newGrantId();
    assert.match(id, /^[0-9a-f]{64}$/);
    const t1 = newGrantToken(id);
    const t2 = newGrantToken(id);
    assert.notEqual(t1, t2);
    assert.equal(grantIdOfToken(t1), id);
    assert.equal(grantIdOfToken(t2), id);
  });

  it('a damaged or foreign token is InvalidGrantTokenException, without echoing it', () => {
    const token = newGrantToken(newGrantId());
    const flipped = Buffer.from(token, 'base64');
    flipped[5] = flipped[5]! ^ 1;
    for (const bad of ['', 'x', `${token}AAAA`, flipped.toString('base64'), token.slice(0, -1), `${token} `, `-${token.slice(1)}`]) {
      assert.throws(() => grantIdOfToken(bad), (err: Error) => err.name === 'InvalidGrantTokenException' && (bad === '' || !err.message.includes(bad)));
    }
  });
});

describe('child grant strictness (CreateGrant permission in a grant)', () => {
  const subset = (m: Record<string, string>) => ({ encryptionContextSubset: m });
  const equals = (m: Record<string, string>) => ({ encryptionContextEquals: m });
  it('follows the rules of https://docs.aws.amazon.com/kms/latest/developerguide/create-grant-overview.html', () => {
    assert.equal(atLeastAsStrict(null, null), true);
    assert.equal(atLeastAsStrict(subset({ a: '1' }), null), true);
    assert.equal(atLeastAsStrict(null, subset({ a: '1' })), false);
    assert.equal(atLeastAsStrict(subset({ a: '1', b: '2' }), subset({ a: '1' })), true);
    assert.equal(atLeastAsStrict(subset({ b: '2' }), subset({ a: '1' })), false);
    assert.equal(atLeastAsStrict(equals({ a: '1' }), subset({ a: '1' })), true);
    assert.equal(atLeastAsStrict(subset({ a: '1' }), equals({ a: '1' })), false);
    assert.equal(atLeastAsStrict(equals({ a: '1' }), equals({ a: '1' })), true);
    assert.equal(atLeastAsStrict(equals({ a: '1', b: '2' }), equals({ a: '1' })), false);
  });
});

describe('the grants domain', () => {
  const issuer: Principal = { type: 'Root', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, principalId: ACCOUNT, accessKeyId: 'AKIAROOT' };

  async function withKms(fn: (kms: Kms) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'sr-grants-domain-'));
    const database = SqliteDatabase.inDataDir(dir);
    try {
      await fn(new Kms(new SqliteMetadataStore(database), FileRootOfTrust.openOrCreate(dir), new ManualClock(), { grants: sqliteGrantStore(database), maxGrantsPerKey: 2 }));
    } finally {
      database.db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('refuses a grant past the per-key quota with LimitExceededException', () =>
    withKms(async (kms) => {
      const key = await kms.keys.create({ accountId: ACCOUNT, region: 'us-east-1' }, {});
      await kms.grants.create(key, issuer, grantRequestOf(base));
      await kms.grants.create(key, issuer, grantRequestOf(base));
      await assert.rejects(kms.grants.create(key, issuer, grantRequestOf(base)), { name: 'LimitExceededException' });
    }));

  it('needs an enabled key: Disabled → DisabledException, PendingDeletion → KMSInvalidStateException', () =>
    withKms(async (kms) => {
      const scope = { accountId: ACCOUNT, region: 'us-east-1' };
      const disabled = await kms.keys.create(scope, {});
      await kms.keys.disable(disabled);
      await assert.rejects(kms.grants.create((await kms.deps.store.getKey(disabled.keyId))!, issuer, grantRequestOf(base)), { name: 'DisabledException' });
      const pending = await kms.keys.scheduleDeletion(await kms.keys.create(scope, {}), 7);
      await assert.rejects(kms.grants.create(pending, issuer, grantRequestOf(base)), { name: 'KMSInvalidStateException' });
    }));

  it('a Kms without a grant store refuses grant operations instead of keeping grants nowhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-grants-unwired-'));
    const database = SqliteDatabase.inDataDir(dir);
    try {
      const kms = new Kms(new SqliteMetadataStore(database), FileRootOfTrust.openOrCreate(dir), new ManualClock());
      const key = await kms.keys.create({ accountId: ACCOUNT, region: 'us-east-1' }, {});
      await assert.rejects(kms.grants.create(key, issuer, grantRequestOf(base)), /not wired/);
    } finally {
      database.db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultKeyPolicy } from '../../../src/core/kms/default-policy.js';
import { NamedPolicy } from '../../../src/core/policy/evaluate.js';
import { KmsAccessInput, accessDeniedMessage, decideKms, withGrantAllowing } from '../../../src/core/policy/kms-access.js';
import { parsePolicy } from '../../../src/core/policy/parse-policy.js';
import { RequestPrincipal } from '../../../src/core/policy/request.js';
import { ACCOUNT, KEY_ARN, OTHER_ACCOUNT, alice, bob, doc, named, root, roleSession, user } from './fixtures.js';

// https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html
const defaultPolicy: NamedPolicy = { name: 'default', policy: parsePolicy(defaultKeyPolicy(ACCOUNT), 'resource') };
const keyPolicy = (...statements: object[]) => named('default', doc(...statements), 'resource');
const allowDecrypt = named('AllowDecrypt', doc({ Sid: 'UseKeys', Effect: 'Allow', Action: 'kms:Decrypt', Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` }));
const allowAllKms = named('KmsFull', doc({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }));

function kms(input: Partial<KmsAccessInput> & { principal?: RequestPrincipal; context?: Record<string, string> }) {
  return decideKms({
    keyPolicy: input.keyPolicy ?? defaultPolicy,
    identityPolicies: input.identityPolicies ?? [],
    grantsAllow: input.grantsAllow ?? false,
    request: input.request ?? { principal: input.principal ?? alice, action: 'kms:Decrypt', resource: KEY_ARN, context: input.context },
  });
}

const noResourcePolicy = 'because no resource-based policy allows the kms:Decrypt action';
const noIdentityPolicy = 'because no identity-based policy allows the kms:Decrypt action';

describe('KMS access decisions', () => {
  it('a key policy that names the caller allows it without any IAM policy', () => {
    const d = kms({ keyPolicy: keyPolicy({ Sid: 'Alice', Effect: 'Allow', Principal: { AWS: alice.arn }, Action: ['kms:Decrypt', 'kms:Encrypt'], Resource: '*' }) });
    assert.equal(d.decision, 'Allow');
    assert.equal(d.basis, 'key-policy');
    assert.deepEqual(d.matched, [{ policy: 'default', index: 0, sid: 'Alice', effect: 'Allow', via: 'principal' }]);
  });

  it('the default key policy (account root) does not by itself allow a user of the account', () => {
    const d = kms({});
    assert.equal(d.decision, 'ImplicitDeny');
    assert.equal(d.reason, noIdentityPolicy);
    assert.deepEqual(d.matched.map((m) => m.via), ['account']);
  });

  it('the default key policy plus an IAM policy allows: account delegation', () => {
    const d = kms({ identityPolicies: [allowDecrypt] });
    assert.equal(d.decision, 'Allow');
    assert.equal(d.basis, 'key-policy-and-identity-policy');
    assert.deepEqual(d.matched.map((m) => [m.policy, m.sid, m.via]), [['default', 'Enable IAM User Permissions', 'account'], ['AllowDecrypt', 'UseKeys', 'identity']]);
  });

  it('an IAM policy alone allows nothing when the key policy does not delegate to the account', () => {
    const d = kms({ keyPolicy: keyPolicy({ Effect: 'Allow', Principal: { AWS: bob.arn }, Action: 'kms:*', Resource: '*' }), identityPolicies: [allowAllKms] });
    assert.equal(d.decision, 'ImplicitDeny');
    assert.equal(d.reason, noResourcePolicy);
  });

  it('the account root user is allowed by a key policy that names its account', () => {
    assert.equal(kms({ principal: root() }).basis, 'key-policy');
    assert.equal(kms({ principal: root(), keyPolicy: keyPolicy({ Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'kms:*', Resource: '*' }) }).decision, 'ImplicitDeny');
  });

  it('a grant alone allows, whatever the key policy and IAM policies', () => {
    const d = kms({ keyPolicy: keyPolicy({ Effect: 'Allow', Principal: { AWS: bob.arn }, Action: 'kms:*', Resource: '*' }), grantsAllow: true });
    assert.equal(d.decision, 'Allow');
    assert.equal(d.basis, 'grant');
    assert.equal(kms({ grantsAllow: true }).basis, 'grant');
  });

  it('withGrantAllowing turns the answer without grants into the answer with them, for every kind of answer', () => {
    const denyDecrypt = named('DenyDecrypt', doc({ Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*' }));
    const withContext = named('WithContext', doc({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'bench' } } }));
    const cases: Parameters<typeof kms>[0][] = [
      {},
      { identityPolicies: [allowDecrypt] },
      { identityPolicies: [allowAllKms, denyDecrypt] },
      { identityPolicies: [withContext], context: { 'kms:EncryptionContext:purpose': 'bench' } },
      { identityPolicies: [withContext], context: { 'kms:EncryptionContext:purpose': 'other' } },
      { principal: root() },
      { principal: user('carol', OTHER_ACCOUNT), identityPolicies: [allowAllKms] },
      { keyPolicy: keyPolicy({ Effect: 'Allow', Principal: { AWS: bob.arn }, Action: 'kms:*', Resource: '*' }) },
      { keyPolicy: keyPolicy({ Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*' }), identityPolicies: [allowAllKms] },
    ];
    for (const [i, c] of cases.entries()) {
      assert.deepEqual(withGrantAllowing(kms({ ...c, grantsAllow: false })), kms({ ...c, grantsAllow: true }), `case ${i}`);
    }
  });

  it('an explicit deny in the key policy wins over the key policy, IAM policies and grants', () => {
    const d = kms({
      keyPolicy: keyPolicy(
        { Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'kms:*', Resource: '*' },
        { Sid: 'NoDecrypt', Effect: 'Deny', Principal: { AWS: alice.arn }, Action: 'kms:Decrypt', Resource: '*' },
      ),
      identityPolicies: [allowAllKms],
      grantsAllow: true,
    });
    assert.equal(d.decision, 'Deny');
    assert.equal(d.reason, 'with an explicit deny in a resource-based policy');
    assert.ok(d.matched.some((m) => m.sid === 'NoDecrypt' && m.effect === 'Deny'));
  });

  it('an explicit deny in an IAM policy wins over a key policy that names the caller, and over grants', () => {
    const d = kms({
      keyPolicy: keyPolicy({ Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'kms:*', Resource: '*' }),
      identityPolicies: [allowAllKms, named('NoDecrypt', doc({ Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*' }))],
      grantsAllow: true,
    });
    assert.equal(d.decision, 'Deny');
    assert.equal(d.reason, 'with an explicit deny in an identity-based policy');
  });

  it('conditions in the key policy apply (kms:ViaService, kms:CallerAccount)', () => {
    const p = keyPolicy({
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com', 'kms:CallerAccount': ACCOUNT } },
    });
    assert.equal(kms({ keyPolicy: p, context: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com', 'kms:CallerAccount': ACCOUNT } }).basis, 'key-policy');
    assert.equal(kms({ keyPolicy: p, context: { 'kms:CallerAccount': ACCOUNT } }).reason, noResourcePolicy);
  });

  it('a service principal named in the key policy is allowed', () => {
    const logs: RequestPrincipal = { type: 'Service', arn: 'logs.us-east-1.amazonaws.com' };
    const p = keyPolicy({ Effect: 'Allow', Principal: { Service: 'logs.us-east-1.amazonaws.com' }, Action: 'kms:Decrypt', Resource: '*' });
    assert.equal(kms({ keyPolicy: p, principal: logs }).basis, 'key-policy');
  });
});

// https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
describe('KMS access across accounts', () => {
  const eve = user('eve', OTHER_ACCOUNT);
  const eveDecrypt = named('EveKms', doc({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY_ARN }));
  const sharedWithOther = keyPolicy(
    { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
    { Sid: 'AllowExternal', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` }, Action: ['kms:Decrypt', 'kms:Encrypt'], Resource: '*' },
  );

  it('key policy allows the other account and its IAM policy allows the user: allowed', () => {
    const d = kms({ keyPolicy: sharedWithOther, principal: eve, identityPolicies: [eveDecrypt] });
    assert.equal(d.decision, 'Allow');
    assert.equal(d.basis, 'key-policy-and-identity-policy');
    assert.deepEqual(d.matched.map((m) => m.sid ?? m.policy), ['AllowExternal', 'EveKms']);
  });

  it('key policy allows the other account but no IAM policy there does: denied', () => {
    assert.equal(kms({ keyPolicy: sharedWithOther, principal: eve }).reason, noIdentityPolicy);
  });

  it('the other account IAM-allows but the key policy does not name it: denied', () => {
    assert.equal(kms({ principal: eve, identityPolicies: [eveDecrypt] }).reason, noResourcePolicy);
  });

  it('a key policy naming an external user directly still needs that user\'s IAM policy', () => {
    const p = keyPolicy({ Effect: 'Allow', Principal: { AWS: eve.arn }, Action: 'kms:Decrypt', Resource: '*' });
    assert.equal(kms({ keyPolicy: p, principal: eve }).reason, noIdentityPolicy);
    assert.equal(kms({ keyPolicy: p, principal: eve, identityPolicies: [eveDecrypt] }).decision, 'Allow');
  });

  it('an external role session works the same way, through its role', () => {
    const s = roleSession('Reader', 'job', OTHER_ACCOUNT);
    const p = keyPolicy({ Effect: 'Allow', Principal: { AWS: s.roleArn }, Action: 'kms:Decrypt', Resource: '*' });
    assert.equal(kms({ keyPolicy: p, principal: s, identityPolicies: [eveDecrypt] }).decision, 'Allow');
    assert.equal(kms({ keyPolicy: p, principal: s }).decision, 'ImplicitDeny');
  });

  it('a grant to an external principal allows without IAM policies', () => {
    assert.equal(kms({ principal: eve, grantsAllow: true }).basis, 'grant');
  });

  it('the other account\'s root user needs no IAM policy of its own', () => {
    assert.equal(kms({ keyPolicy: sharedWithOther, principal: root(OTHER_ACCOUNT) }).decision, 'Allow');
  });
});

describe('AccessDeniedException messages', () => {
  it('read like AWS: User … is not authorized to perform … on resource … because/with …', () => {
    const request = { principal: alice, action: 'kms:Decrypt', resource: KEY_ARN };
    assert.equal(
      accessDeniedMessage(request, kms({}).reason!),
      `User: ${alice.arn} is not authorized to perform: kms:Decrypt on resource: ${KEY_ARN} because no identity-based policy allows the kms:Decrypt action`,
    );
  });
});

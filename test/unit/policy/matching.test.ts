import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../../../src/core/policy/evaluate.js';
import { ONE, STAR, globMatch, globPredicate, globTokens } from '../../../src/core/policy/glob.js';
import { RequestPrincipal } from '../../../src/core/policy/request.js';
import { ACCOUNT, KEY_ARN, OTHER_ACCOUNT, alice, bob, decide, doc, named, root, roleSession, user } from './fixtures.js';

const allowing = (element: object) => doc({ Effect: 'Allow', Action: '*', Resource: '*', ...element });

describe('Action and NotAction', () => {
  it('match action names case-insensitively, with * and ? wildcards', () => {
    const p = allowing({ Action: ['kms:Decrypt', 'kms:Generate*', 'kms:?ncrypt', 's3:Get*'] });
    for (const action of ['kms:Decrypt', 'KMS:decrypt', 'kms:GenerateDataKey', 'kms:generatedatakeywithoutplaintext', 'kms:Encrypt', 's3:GetObject']) {
      assert.equal(decide(p, { action }), 'Allow', action);
    }
    for (const action of ['kms:ReEncryptFrom', 'kms:Generat', 'kms:xEncrypt', 's3:PutObject', 'kmsx:Decrypt', 'kms:Decrypt2']) {
      assert.equal(decide(p, { action }), 'ImplicitDeny', action);
    }
  });

  it('"*" and "service:*" cover every action of every service / of the service', () => {
    assert.equal(decide(allowing({ Action: '*' }), { action: 'iam:CreateUser' }), 'Allow');
    assert.equal(decide(allowing({ Action: 'kms:*' }), { action: 'kms:ScheduleKeyDeletion' }), 'Allow');
    assert.equal(decide(allowing({ Action: 'kms:*' }), { action: 'iam:CreateUser' }), 'ImplicitDeny');
  });

  it('NotAction covers every action except those listed', () => {
    const p = allowing({ Action: undefined, NotAction: ['kms:ScheduleKeyDeletion', 'kms:Delete*'] });
    assert.equal(decide(p, { action: 'kms:Decrypt' }), 'Allow');
    assert.equal(decide(p, { action: 'kms:scheduleKeyDeletion' }), 'ImplicitDeny');
    assert.equal(decide(p, { action: 'kms:DeleteAlias' }), 'ImplicitDeny');
  });
});

describe('Resource and NotResource', () => {
  it('match ARNs case-sensitively', () => {
    const p = allowing({ Resource: KEY_ARN });
    assert.equal(decide(p), 'Allow');
    assert.equal(decide(p, { resource: KEY_ARN.toUpperCase() }), 'ImplicitDeny');
    assert.equal(decide(p, { resource: `${KEY_ARN}x` }), 'ImplicitDeny');
  });

  it('take * and ? within segments; in the resource part * spans / and :', () => {
    const p = allowing({
      Resource: ['arn:aws:s3:::my_corporate_bucket/*', `arn:aws:kms:*:${ACCOUNT}:key/*`, 'arn:aws:sqs:us-east-?:*:queue?'],
    });
    for (const resource of ['arn:aws:s3:::my_corporate_bucket/a/b/c.txt', 'arn:aws:s3:::my_corporate_bucket/a:b', KEY_ARN, `arn:aws:kms:eu-west-3:${ACCOUNT}:key/k`, 'arn:aws:sqs:us-east-2:999988887777:queue1']) {
      assert.equal(decide(p, { resource }), 'Allow', resource);
    }
    for (const resource of ['arn:aws:s3:::my_corporate_bucket', 'arn:aws:s3:::other/x', `arn:aws:kms:us-east-1:${OTHER_ACCOUNT}:key/k`, `arn:aws:kms:us-east-1:${ACCOUNT}:alias/k`, 'arn:aws:sqs:us-east-12:1:queue1', 'arn:aws:sqs:us-east-2:1:queue12']) {
      assert.equal(decide(p, { resource }), 'ImplicitDeny', resource);
    }
  });

  it('a wildcard in one of the first five segments does not reach into the next', () => {
    const p = allowing({ Resource: 'arn:aws:iam::*:root' });
    assert.equal(decide(p, { resource: `arn:aws:iam::${ACCOUNT}:root` }), 'Allow');
    assert.equal(decide(p, { resource: `arn:aws:iam::${ACCOUNT}:x:root` }), 'ImplicitDeny');
  });

  it('"*" covers every resource; NotResource every resource except those listed', () => {
    assert.equal(decide(allowing({ Resource: '*' }), { resource: 'arn:aws:s3:::b' }), 'Allow');
    const p = allowing({ Resource: undefined, NotResource: `arn:aws:kms:*:${ACCOUNT}:key/*` });
    assert.equal(decide(p), 'ImplicitDeny');
    assert.equal(decide(p, { resource: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/a` }), 'Allow');
  });
});

describe('wildcard matching cost', () => {
  it('stays linear-ish on patterns with many stars (no regex backtracking blow-up)', () => {
    const stars = `${'*a'.repeat(12)}*b`;
    const long = 'a'.repeat(20_000);
    const started = process.hrtime.bigint();
    assert.equal(decide(allowing({ Action: `s3:${stars}` }), { action: `s3:${long}` }), 'ImplicitDeny');
    assert.equal(decide(allowing({ Resource: `arn:aws:s3:::${stars}` }), { resource: `arn:aws:s3:::${long}` }), 'ImplicitDeny');
    assert.equal(decide(allowing({ Resource: `arn:aws:s3:::${stars}` }), { resource: `arn:aws:s3:::${long}b` }), 'Allow');
    assert.ok(process.hrtime.bigint() - started < 2_000_000_000n, 'took over 2 s');
  });

  it('backtracks correctly: a*b*c, ?-runs, stars at both ends', () => {
    const p = allowing({ Resource: ['arn:aws:s3:::x/a*b*c', 'arn:aws:s3:::y/??-*', 'arn:aws:s3:::z/*mid*'] });
    for (const [key, expected] of [['x/abc', true], ['x/aXbYbZc', true], ['x/abcb', false], ['y/ab-', true], ['y/a-', false], ['z/mid', true], ['z/amidz', true], ['z/mi', false]] as const) {
      assert.equal(decide(p, { resource: `arn:aws:s3:::${key}` }) === 'Allow', expected, key);
    }
  });
});

describe('Principal', () => {
  const keyPolicy = (Principal: unknown) => doc({ Effect: 'Allow', Principal, Action: 'kms:*', Resource: '*' });
  const via = (Principal: unknown, principal: RequestPrincipal) =>
    evaluate([named('key', keyPolicy(Principal), 'resource')], { principal, action: 'kms:Decrypt', resource: KEY_ARN }).matched[0]?.via;

  it('"*" and {"AWS": "*"} name everyone', () => {
    for (const p of ['*', { AWS: '*' }]) {
      assert.equal(via(p, alice), 'any');
      assert.equal(via(p, user('eve', OTHER_ACCOUNT)), 'any');
      assert.equal(via(p, { type: 'Anonymous', arn: '*' }), 'any');
    }
  });

  it('a user or session ARN names exactly that principal', () => {
    assert.equal(via({ AWS: alice.arn }, alice), 'principal');
    assert.equal(via({ AWS: [bob.arn, alice.arn] }, alice), 'principal');
    assert.equal(via({ AWS: alice.arn }, bob), undefined);
    assert.equal(via({ AWS: `arn:aws:iam::${OTHER_ACCOUNT}:user/alice` }, alice), undefined);
    const session = roleSession('Admin', 'deploy');
    assert.equal(via({ AWS: session.arn }, session), 'principal');
    assert.equal(via({ AWS: session.arn }, roleSession('Admin', 'other')), undefined);
  });

  it('a role ARN names every session of the role', () => {
    assert.equal(via({ AWS: `arn:aws:iam::${ACCOUNT}:role/Admin` }, roleSession('Admin', 's1')), 'principal');
    assert.equal(via({ AWS: `arn:aws:iam::${ACCOUNT}:role/Admin` }, roleSession('Reader', 's1')), undefined);
  });

  it('an account id means arn:aws:iam::<id>:root; both name the account, i.e. delegate to it', () => {
    for (const p of [{ AWS: ACCOUNT }, { AWS: `arn:aws:iam::${ACCOUNT}:root` }]) {
      assert.equal(via(p, alice), 'account');
      assert.equal(via(p, roleSession('Admin', 's')), 'account');
      assert.equal(via(p, root()), 'principal', 'the root user is the account');
      assert.equal(via(p, user('eve', OTHER_ACCOUNT)), undefined);
      assert.equal(via(p, root(OTHER_ACCOUNT)), undefined);
    }
  });

  it('Service and Federated principals name services and identity providers', () => {
    const logs: RequestPrincipal = { type: 'Service', arn: 'logs.us-east-1.amazonaws.com' };
    assert.equal(via({ Service: 'logs.us-east-1.amazonaws.com' }, logs), 'principal');
    assert.equal(via({ Service: ['ec2.amazonaws.com'] }, logs), undefined);
    assert.equal(via({ AWS: ACCOUNT }, logs), undefined);
    const web: RequestPrincipal = { type: 'WebIdentity', arn: 'sub-123', federatedProvider: 'cognito-identity.amazonaws.com' };
    assert.equal(via({ Federated: 'cognito-identity.amazonaws.com' }, web), 'principal');
    assert.equal(via({ Federated: 'accounts.google.com' }, web), undefined);
  });
});

describe('NotPrincipal (with Deny)', () => {
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
  const denyAllBut = (aws: string[]) =>
    named('bucket', doc({ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }, { Effect: 'Deny', NotPrincipal: { AWS: aws }, Action: '*', Resource: '*' }), 'resource');
  const decision = (aws: string[], principal: RequestPrincipal) =>
    evaluate([denyAllBut(aws)], { principal, action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }).decision;

  it('denies everyone but the principal when the principal and its account are listed', () => {
    const listed = [`arn:aws:iam::${OTHER_ACCOUNT}:user/Bob`, `arn:aws:iam::${OTHER_ACCOUNT}:root`];
    assert.equal(decision(listed, user('Bob', OTHER_ACCOUNT)), 'Allow');
    assert.equal(decision(listed, user('Alice', OTHER_ACCOUNT)), 'Deny');
    assert.equal(decision(listed, user('Bob')), 'Deny');
    assert.equal(decision(listed, root(OTHER_ACCOUNT)), 'Allow');
    assert.equal(decision(listed, { type: 'Anonymous', arn: '*' }), 'Deny');
  });

  it('listing the principal without its account still denies it, as AWS warns', () => {
    assert.equal(decision([`arn:aws:iam::${OTHER_ACCOUNT}:user/Bob`], user('Bob', OTHER_ACCOUNT)), 'Deny');
  });

  it('a role session is exempt through its session ARN or its role ARN, with the account', () => {
    const s = roleSession('Admin', 'ops');
    assert.equal(decision([s.arn, ACCOUNT], s), 'Allow');
    assert.equal(decision([s.roleArn!, ACCOUNT], s), 'Allow');
    assert.equal(decision([s.roleArn!], s), 'Deny');
    assert.equal(decision([`arn:aws:iam::${ACCOUNT}:role/Other`, ACCOUNT], s), 'Deny');
  });
});

describe('glob shortcuts', () => {
  it('answer literals, "*" and "prefix*" exactly as the general matcher does', () => {
    const patterns = ['', '*', 'kms:*', 'kms:Decrypt', 'a*b', '?', 'kms:?ncrypt', 'k*', '**', 'x\u{1F600}*', '\u{1F600}', '\uD83D*', '*\uDE00'];
    const values = ['', 'k', 'kms:', 'kms:Decrypt', 'kms:Decrypt2', 'ab', 'a', 'x', 'x\u{1F600}', 'x\u{1F600}y', '\u{1F600}', '\uD83D', '\uD83Dz', 'KMS:decrypt'];
    for (const p of patterns) {
      const glob = globTokens(p, true);
      const test = globPredicate(glob);
      for (const v of values) assert.equal(test(v), globMatch(glob, v), `${JSON.stringify(p)} ~ ${JSON.stringify(v)}`);
    }
  });

  it('leave globs with "?" or a lone surrogate to the general matcher', () => {
    // '?' is one code point, a surrogate pair included; a lone high surrogate must not match half of a pair.
    assert.equal(globPredicate([ONE, STAR])('\u{1F600}'), true);
    assert.equal(globPredicate([0xd83d, STAR])('\u{1F600}'), false);
  });
});

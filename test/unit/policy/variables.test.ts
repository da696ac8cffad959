import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePolicy } from '../../../src/core/policy/parse-policy.js';
import { PolicyError } from '../../../src/core/policy/policy-error.js';
import { ACCOUNT, alice, bob, decide, doc, holds, roleSession, user } from './fixtures.js';

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
const homeDirectory = (version?: string) => ({
  ...(version === undefined ? {} : { Version: version }),
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: ['arn:aws:s3:::mybucket/${aws:username}/*'] }],
});

describe('policy variables in Resource', () => {
  it('${aws:username} gives each user their own prefix', () => {
    const p = homeDirectory('2012-10-17');
    assert.equal(decide(p, { action: 's3:GetObject', resource: 'arn:aws:s3:::mybucket/alice/notes.txt' }), 'Allow');
    assert.equal(decide(p, { action: 's3:GetObject', resource: 'arn:aws:s3:::mybucket/bob/notes.txt' }), 'ImplicitDeny');
    assert.equal(decide(p, { principal: bob, action: 's3:GetObject', resource: 'arn:aws:s3:::mybucket/bob/notes.txt' }), 'Allow');
  });

  it('are literal text in a policy without Version 2012-10-17', () => {
    const p = homeDirectory();
    assert.equal(decide(p, { action: 's3:GetObject', resource: 'arn:aws:s3:::mybucket/alice/notes.txt' }), 'ImplicitDeny');
    assert.equal(decide(p, { action: 's3:GetObject', resource: 'arn:aws:s3:::mybucket/${aws:username}/notes.txt' }), 'Allow');
  });

  it('an absent variable without a default makes the statement not apply, Allow or Deny', () => {
    const session = roleSession('Admin', 'ops'); // role sessions have no aws:username
    assert.equal(decide(homeDirectory('2012-10-17'), { principal: session, action: 's3:GetObject', resource: 'arn:aws:s3:::mybucket/ops/x' }), 'ImplicitDeny');
    const denyOthers = doc(
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:*', NotResource: 'arn:aws:s3:::mybucket/${aws:username}/*' },
    );
    assert.equal(decide(denyOthers, { action: 's3:GetObject', resource: 'arn:aws:s3:::mybucket/bob/x' }), 'Deny');
    assert.equal(decide(denyOthers, { principal: session, action: 's3:GetObject', resource: 'arn:aws:s3:::mybucket/bob/x' }), 'Allow');
  });

  it("${key, 'default'} supplies a value when the key is absent", () => {
    const p = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'company-wide'}/*" });
    const blue = user('carol', ACCOUNT, { team: 'blue' });
    assert.equal(decide(p, { principal: blue, action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/blue/x' }), 'Allow');
    assert.equal(decide(p, { principal: blue, action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/company-wide/x' }), 'ImplicitDeny');
    assert.equal(decide(p, { action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/company-wide/x' }), 'Allow');
  });

  it('take principal tags from the principal and let the request context override them', () => {
    const p = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*' });
    const blue = user('carol', ACCOUNT, { team: 'blue' });
    assert.equal(decide(p, { principal: blue, action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/blue/x' }), 'Allow');
    assert.equal(decide(p, { principal: blue, action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/red/x', context: { 'aws:PrincipalTag/team': 'red' } }), 'Allow');
  });

  it('${*}, ${?} and ${$} stand for the characters themselves, never wildcards', () => {
    const p = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: ['arn:aws:s3:::bucket/${*}', 'arn:aws:s3:::bucket/what${?}', 'arn:aws:s3:::bucket/${$}5'] });
    const get = (key: string) => decide(p, { action: 's3:GetObject', resource: `arn:aws:s3:::bucket/${key}` });
    assert.equal(get('*'), 'Allow');
    assert.equal(get('anything'), 'ImplicitDeny');
    assert.equal(get('what?'), 'Allow');
    assert.equal(get('whatX'), 'ImplicitDeny');
    assert.equal(get('$5'), 'Allow');
  });

  it('a value substituted for a variable is literal: a * in it is not a wildcard', () => {
    const p = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/${aws:PrincipalTag/team}/x' });
    const star = user('mallory', ACCOUNT, { team: '*' });
    assert.equal(decide(p, { principal: star, action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/blue/x' }), 'ImplicitDeny');
    assert.equal(decide(p, { principal: star, action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/*/x' }), 'Allow');
  });
});

describe('policy variables in conditions', () => {
  it('StringLike with ${aws:username}/* (the s3:prefix example)', () => {
    const c = { StringLike: { 's3:prefix': ['${aws:username}/*'] } };
    assert.equal(holds(c, { 's3:prefix': 'alice/photos' }), true);
    assert.equal(holds(c, { 's3:prefix': 'bob/photos' }), false);
  });

  it('StringEquals and ArnEquals with variables; variable names are case-insensitive', () => {
    assert.equal(holds({ StringEquals: { 'aws:ResourceTag/owner': '${AWS:UserName}' } }, { 'aws:ResourceTag/owner': 'alice' }), true);
    assert.equal(holds({ StringEquals: { 'aws:ResourceTag/owner': '${aws:userid}' } }, { 'aws:ResourceTag/owner': 'AIDAALICE' }), true);
    const c = { ArnEquals: { 'aws:SourceArn': 'arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}' } };
    assert.equal(holds(c, { 'aws:SourceArn': alice.arn }), true);
    assert.equal(holds(c, { 'aws:SourceArn': bob.arn }), false);
  });

  it('a negated operator with an unresolvable variable does not hold', () => {
    assert.equal(holds({ StringNotEquals: { 'aws:ResourceTag/owner': '${aws:PrincipalTag/missing}' } }, { 'aws:ResourceTag/owner': 'x' }), false);
  });

  it('are not substituted for other operators', () => {
    assert.throws(
      () => parsePolicy(JSON.stringify(doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericEquals: { 's3:max-keys': '${aws:username}' } } })), 'identity'),
      PolicyError,
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../../../src/core/policy/evaluate.js';
import { ACCOUNT, alice, doc, named } from './fixtures.js';

const bucket = 'arn:aws:s3:::amzn-s3-demo-bucket';
const ask = (context: Record<string, string> = {}, action = 's3:GetObject') => ({ principal: alice, action, resource: `${bucket}/k`, context });

describe('evaluating policies', () => {
  it('no applicable statement is an implicit deny', () => {
    const r = evaluate([named('p', doc({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }))], ask());
    assert.deepEqual(r, { decision: 'ImplicitDeny', matched: [] });
    assert.equal(evaluate([], ask()).decision, 'ImplicitDeny');
  });

  it('an explicit Deny wins over any number of Allows, in any policy, in any order', () => {
    const allow = named('allow', doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }));
    const deny = named('deny', doc({ Effect: 'Deny', Action: 's3:GetObject', Resource: `${bucket}/*` }));
    assert.equal(evaluate([allow, deny], ask()).decision, 'Deny');
    assert.equal(evaluate([deny, allow], ask()).decision, 'Deny');
    assert.equal(evaluate([allow, deny], ask({}, 's3:PutObject')).decision, 'Allow');
  });

  it('reports every applicable statement with its policy, index, Sid, effect and how it matched', () => {
    const r = evaluate(
      [
        named('ReadAll', doc({ Sid: 'Read', Effect: 'Allow', Action: 's3:Get*', Resource: '*' }, { Effect: 'Allow', Action: 'kms:*', Resource: '*' })),
        named('NoSecret', doc({ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }, { Sid: 'NoGet', Effect: 'Deny', Action: 's3:GetObject', Resource: '*' })),
      ],
      ask(),
    );
    assert.deepEqual(r.matched, [
      { policy: 'ReadAll', index: 0, sid: 'Read', effect: 'Allow', via: 'identity' },
      { policy: 'NoSecret', index: 1, sid: 'NoGet', effect: 'Deny', via: 'identity' },
    ]);
  });

  it('denies requests not sent over TLS (the aws:SecureTransport bucket policy example)', () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html
    const policy = named(
      'bucket',
      doc(
        { Sid: 'Owner', Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 's3:*', Resource: [bucket, `${bucket}/*`] },
        { Sid: 'RestrictToTLSRequestsOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [bucket, `${bucket}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      ),
      'resource',
    );
    assert.equal(evaluate([policy], ask({ 'aws:SecureTransport': 'true' })).decision, 'Allow');
    const insecure = evaluate([policy], ask({ 'aws:SecureTransport': 'false' }));
    assert.equal(insecure.decision, 'Deny');
    assert.deepEqual(insecure.matched.map((m) => [m.sid, m.via]), [['Owner', 'principal'], ['RestrictToTLSRequestsOnly', 'any']]);
  });

  it('an IP-restricting Deny with NotIpAddress applies only outside the ranges', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-ip.html
    const policies = [
      named('allow', doc({ Effect: 'Allow', Action: '*', Resource: '*' })),
      named('deny-ip', doc({ Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] } } })),
    ];
    assert.equal(evaluate(policies, ask({ 'aws:SourceIp': '203.0.113.20' })).decision, 'Allow');
    assert.equal(evaluate(policies, ask({ 'aws:SourceIp': '198.51.100.1' })).decision, 'Deny');
  });

  it('derives principal condition keys from the caller', () => {
    const p = named(
      'p',
      doc({
        Effect: 'Allow',
        Action: '*',
        Resource: '*',
        Condition: { StringEquals: { 'aws:PrincipalAccount': ACCOUNT, 'aws:PrincipalType': 'User', 'aws:username': 'alice' }, ArnEquals: { 'aws:PrincipalArn': alice.arn } },
      }),
    );
    assert.equal(evaluate([p], ask()).decision, 'Allow');
  });

  it('a condition on an unknown key is assumed both ways: the permissive and the restrictive answer bound every value (explain)', () => {
    const policy = named(
      'p',
      doc(
        { Sid: 'FromOffice', Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
        { Sid: 'HttpsOnly', Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      ),
    );
    const unknown = (assume: 'allow' | 'deny') => ({ ...ask({ 'aws:SecureTransport': 'true' }), unknown: { keys: new Set(['aws:sourceip', 'aws:securetransport']), assume } });
    const permissive = evaluate([policy], unknown('allow'));
    assert.equal(permissive.decision, 'Allow');
    assert.deepEqual(permissive.matched, [{ policy: 'p', index: 0, sid: 'FromOffice', effect: 'Allow', via: 'identity', assumed: ['aws:SourceIp'] }]);
    const restrictive = evaluate([policy], unknown('deny'));
    assert.equal(restrictive.decision, 'Deny');
    // A key's value in the context does not count when the key is said to be unknown.
    assert.deepEqual(restrictive.matched, [{ policy: 'p', index: 1, sid: 'HttpsOnly', effect: 'Deny', via: 'identity', assumed: ['aws:SecureTransport'] }]);
    // Known keys are evaluated as always: no `assumed`, the same answer either way.
    assert.deepEqual(evaluate([policy], ask({ 'aws:SourceIp': '10.1.1.1', 'aws:SecureTransport': 'true' })).matched, [
      { policy: 'p', index: 0, sid: 'FromOffice', effect: 'Allow', via: 'identity' },
    ]);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultKeyPolicy } from '../../../src/core/kms/default-policy.js';
import {
  IAM_GROUP_INLINE_POLICIES_MAX_CHARS,
  IAM_MANAGED_POLICY_MAX_CHARS,
  IAM_ROLE_INLINE_POLICIES_MAX_CHARS,
  IAM_USER_INLINE_POLICIES_MAX_CHARS,
  KMS_KEY_POLICY_MAX_BYTES,
  iamPolicyLength,
} from '../../../src/core/policy/limits.js';
import { parsePolicy } from '../../../src/core/policy/parse-policy.js';
import { PolicyError } from '../../../src/core/policy/policy-error.js';
import { PolicyKind } from '../../../src/core/policy/statement.js';
import { ACCOUNT, compile } from './fixtures.js';

const allowAll = { Effect: 'Allow', Action: '*', Resource: '*' };
const keyStatement = { Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'kms:*', Resource: '*' };

/** Asserts that the document is refused with exactly this message. */
function refuses(document: unknown, message: string, kind: PolicyKind = 'identity') {
  const json = typeof document === 'string' ? document : JSON.stringify(document);
  assert.throws(
    () => parsePolicy(json, kind),
    (e: unknown) => {
      assert.ok(e instanceof PolicyError, `not a PolicyError: ${String(e)}`);
      assert.equal(e.message, message);
      return true;
    },
  );
}

describe('policy grammar: the document', () => {
  it('takes Statement as one object or an array; Version defaults to 2008-10-17', () => {
    const one = compile({ Statement: allowAll });
    assert.equal(one.version, '2008-10-17');
    assert.equal(one.statements.length, 1);
    const many = compile({ Version: '2012-10-17', Id: 'p1', Statement: [allowAll, { ...allowAll, Effect: 'Deny', Sid: 'no' }] });
    assert.equal(many.version, '2012-10-17');
    assert.equal(many.id, 'p1');
    assert.deepEqual(many.statements.map((s) => [s.index, s.sid, s.effect]), [[0, undefined, 'Allow'], [1, 'no', 'Deny']]);
  });

  it('compiles the default KMS key policy as a resource-based policy', () => {
    const p = parsePolicy(defaultKeyPolicy(ACCOUNT), 'resource');
    assert.equal(p.statements[0]!.sid, 'Enable IAM User Permissions');
  });

  it('refuses what is not a JSON object, without quoting the document', () => {
    refuses('{"Statement": [', 'The policy is not valid JSON');
    refuses('{"Statement": [}', 'The policy is not valid JSON');
    refuses('[]', 'The policy must be a JSON object');
    refuses('"policy"', 'The policy must be a JSON object');
  });

  it('refuses unknown top-level elements, other Versions, a missing or empty Statement', () => {
    refuses({ Statement: allowAll, Foo: 1 }, 'The policy has an unknown element "Foo"');
    refuses({ Version: '2012-10-18', Statement: allowAll }, 'Version must be "2012-10-17" or "2008-10-17"');
    refuses({ Version: '2012-10-17', Id: 7, Statement: allowAll }, 'Id must be a string');
    refuses({ Version: '2012-10-17' }, 'The policy must have a Statement');
    refuses({ Statement: [] }, 'Statement must have at least one statement');
    refuses({ Statement: 'Allow' }, 'Statement must be an object');
  });
});

describe('policy grammar: statements', () => {
  it('names the statement and element at fault: Statement[1].Effect must be Allow or Deny', () => {
    refuses({ Statement: [allowAll, { ...allowAll, Effect: 'allow' }] }, 'Statement[1].Effect must be Allow or Deny');
    refuses({ Statement: { Action: '*', Resource: '*' } }, 'Statement.Effect must be Allow or Deny');
  });

  it('refuses unknown elements and element names in the wrong case', () => {
    refuses({ Statement: { ...allowAll, Condtion: {} } }, 'Statement has an unknown element "Condtion"');
    refuses({ Statement: { effect: 'Allow', Action: '*', Resource: '*' } }, 'Statement has an unknown element "effect"');
    refuses({ Statement: { ...allowAll, Sid: 1 } }, 'Statement.Sid must be a string');
  });

  it('wants exactly one of Action/NotAction and of Resource/NotResource', () => {
    refuses({ Statement: { Effect: 'Allow', Resource: '*' } }, 'Statement must have Action or NotAction');
    refuses({ Statement: { ...allowAll, NotAction: 'kms:Decrypt' } }, 'Statement must not have both Action and NotAction');
    refuses({ Statement: { Effect: 'Allow', Action: '*' } }, 'Statement must have Resource or NotResource');
    refuses({ Statement: { ...allowAll, NotResource: '*' } }, 'Statement must not have both Resource and NotResource');
  });

  it('checks the shape of actions and resources', () => {
    refuses({ Statement: { ...allowAll, Action: [] } }, 'Statement.Action must not be empty');
    refuses({ Statement: { ...allowAll, Action: ['kms:Decrypt', 3] } }, 'Statement.Action[1] must be a non-empty string');
    refuses({ Statement: { ...allowAll, Action: 'Decrypt' } }, 'Statement.Action value "Decrypt" must be "*" or service:action');
    refuses({ Statement: { ...allowAll, Resource: ['*', 'key/1'] } }, 'Statement.Resource[1] value "key/1" must be "*" or an ARN');
  });

  it('forbids Principal in identity policies and requires it in resource and trust policies', () => {
    refuses({ Statement: { ...allowAll, Principal: '*' } }, 'Statement.Principal is not allowed in an identity-based policy');
    refuses({ Statement: allowAll }, 'Statement must have Principal or NotPrincipal', 'resource');
    refuses({ Statement: { Effect: 'Allow', Action: 'sts:AssumeRole' } }, 'Statement must have Principal or NotPrincipal', 'trust');
    assert.ok(compile({ Statement: keyStatement }, 'resource'));
  });

  it('trust policies take no Resource; NotPrincipal only with Deny and never in trust policies', () => {
    refuses({ Statement: { Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole', Resource: '*' } }, 'Statement.Resource is not allowed in a trust policy', 'trust');
    assert.ok(compile({ Statement: { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' } }, 'trust'));
    refuses({ Statement: { ...allowAll, NotPrincipal: { AWS: ACCOUNT } } }, 'Statement.NotPrincipal must be used with "Effect": "Deny"', 'resource');
    refuses({ Statement: { Effect: 'Deny', NotPrincipal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' } }, 'Statement.NotPrincipal is not allowed in a trust policy', 'trust');
  });

  it('checks principals: "*", account ids, IAM/STS ARNs, no partial wildcards, known types only', () => {
    const withPrincipal = (Principal: unknown) => ({ Statement: { ...keyStatement, Principal } });
    refuses(withPrincipal('arn:aws:iam::111122223333:root'), 'Statement.Principal must be "*" or an object with AWS, Service, Federated or CanonicalUser', 'resource');
    refuses(withPrincipal({}), 'Statement.Principal must be "*" or an object with AWS, Service, Federated or CanonicalUser', 'resource');
    refuses(withPrincipal({ User: 'alice' }), 'Statement.Principal has an unknown principal type "User"', 'resource');
    refuses(withPrincipal({ AWS: 'arn:aws:iam::111122223333:user/*' }), 'Statement.Principal.AWS value "arn:aws:iam::111122223333:user/*" uses a wildcard; only "*" alone is allowed', 'resource');
    refuses(withPrincipal({ AWS: '1111' }), 'Statement.Principal.AWS value "1111" is not an account id or an IAM/STS principal ARN', 'resource');
    refuses(withPrincipal({ AWS: [] }), 'Statement.Principal.AWS must name at least one principal', 'resource');
    refuses(withPrincipal({ AWS: [ACCOUNT, ''] }), 'Statement.Principal.AWS[1] must be a non-empty string', 'resource');
    assert.ok(compile(withPrincipal({ AWS: ['*', ACCOUNT, 'arn:aws:sts::111122223333:assumed-role/R/s'], Service: 'logs.amazonaws.com' }), 'resource'));
  });

  it('checks conditions: known operators, values each operator can read', () => {
    const withCondition = (Condition: unknown) => ({ Version: '2012-10-17', Statement: [allowAll, { ...allowAll, Condition }] });
    refuses(withCondition([]), 'Statement[1].Condition must be an object of condition operators');
    refuses(withCondition({ StringEquals: 'x' }), 'Statement[1].Condition.StringEquals must be an object of condition keys');
    refuses(withCondition({ StringEqual: { 'aws:username': 'a' } }), 'Statement[1].Condition.StringEqual["aws:username"] uses an unknown condition operator "StringEqual"');
    refuses(withCondition({ stringequals: { 'aws:username': 'a' } }), 'Statement[1].Condition.stringequals["aws:username"] uses an unknown condition operator "stringequals"');
    refuses(withCondition({ StringEquals: { 'aws:username': [] } }), 'Statement[1].Condition.StringEquals["aws:username"] must have at least one value');
    refuses(withCondition({ StringEquals: { 'aws:username': [{}] } }), 'Statement[1].Condition.StringEquals["aws:username"][0] must be a string, number or boolean');
    refuses(withCondition({ NumericLessThan: { 's3:max-keys': 'ten' } }), 'Statement[1].Condition.NumericLessThan["s3:max-keys"] value "ten" is not a number');
    refuses(withCondition({ DateLessThan: { 'aws:CurrentTime': 'next week' } }), 'Statement[1].Condition.DateLessThan["aws:CurrentTime"] value "next week" is not an ISO 8601 date or epoch seconds');
    refuses(withCondition({ Bool: { 'aws:SecureTransport': 'yes' } }), 'Statement[1].Condition.Bool["aws:SecureTransport"] value "yes" is not true or false');
    refuses(withCondition({ IpAddress: { 'aws:SourceIp': '192.0.2.0/33' } }), 'Statement[1].Condition.IpAddress["aws:SourceIp"] value "192.0.2.0/33" is not an IPv4 or IPv6 address or CIDR block');
    refuses(withCondition({ BinaryEquals: { k: 'not base64!' } }), 'Statement[1].Condition.BinaryEquals["k"] value "not base64!" is not base64');
    refuses(withCondition({ NullIfExists: { k: 'true' } }), 'Statement[1].Condition.NullIfExists["k"] uses "NullIfExists"; Null takes no set operator or IfExists');
    refuses(withCondition({ Null: { k: 'maybe' } }), 'Statement[1].Condition.Null["k"] value "maybe" is not true or false');
  });

  it('bounds the values it quotes in messages', () => {
    const long = `arn:aws:iam::${ACCOUNT}:user/${'x'.repeat(500)}*`;
    assert.throws(
      () => compile({ Statement: { ...keyStatement, Principal: { AWS: long } } }, 'resource'),
      (e: Error) => e.message.length < 200,
    );
  });

  it('PolicyError carries the path and the problem apart', () => {
    try {
      compile({ Statement: [allowAll, { ...allowAll, Effect: 'Maybe' }] });
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof PolicyError);
      assert.equal(e.path, 'Statement[1].Effect');
      assert.equal(e.problem, 'must be Allow or Deny');
    }
  });
});

describe('policy size quotas', () => {
  it('exports the IAM and KMS quotas', () => {
    assert.deepEqual(
      [IAM_MANAGED_POLICY_MAX_CHARS, IAM_USER_INLINE_POLICIES_MAX_CHARS, IAM_GROUP_INLINE_POLICIES_MAX_CHARS, IAM_ROLE_INLINE_POLICIES_MAX_CHARS, KMS_KEY_POLICY_MAX_BYTES],
      [6144, 2048, 5120, 10240, 32768],
    );
  });

  it('counts characters the way IAM does, white space excluded', () => {
    assert.equal(iamPolicyLength('{ "a" :\n\t"b c" }'), 10);
    assert.equal(iamPolicyLength(JSON.stringify({ a: 'é' })), 9);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../../../src/core/policy/evaluate.js';
import { ContextValue } from '../../../src/core/policy/request.js';
import { KEY_ARN, alice, doc, holds, named } from './fixtures.js';

type Case = [context: ContextValue, expected: boolean];

/** Each row: the key's value in the request (undefined: absent) and whether the condition holds. */
function check(condition: object, key: string, cases: readonly Case[]) {
  for (const [value, expected] of cases) {
    const context = value === undefined ? {} : { [key]: value };
    assert.equal(holds(condition, context), expected, `${JSON.stringify(condition)} with ${key}=${JSON.stringify(value)}`);
  }
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
describe('string condition operators', () => {
  it('StringEquals: exact and case-sensitive; several values are OR\'ed (kms:ViaService example)', () => {
    // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
    const c = { StringEquals: { 'kms:ViaService': ['ec2.us-west-2.amazonaws.com', 'rds.us-west-2.amazonaws.com'] } };
    check(c, 'kms:ViaService', [['ec2.us-west-2.amazonaws.com', true], ['rds.us-west-2.amazonaws.com', true], ['EC2.us-west-2.amazonaws.com', false], ['s3.us-west-2.amazonaws.com', false], [undefined, false]]);
  });

  it('StringNotEquals: true when no value matches, and when the key is absent', () => {
    const c = { StringNotEquals: { 'kms:ViaService': ['ec2.us-west-2.amazonaws.com', 'rds.us-west-2.amazonaws.com'] } };
    check(c, 'kms:ViaService', [['s3.us-west-2.amazonaws.com', true], ['ec2.us-west-2.amazonaws.com', false], ['rds.us-west-2.amazonaws.com', false], [undefined, true]]);
  });

  it('StringEqualsIgnoreCase / StringNotEqualsIgnoreCase', () => {
    check({ StringEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'Blue' } }, 'aws:PrincipalTag/team', [['BLUE', true], ['blue', true], ['green', false], [undefined, false]]);
    check({ StringNotEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'Blue' } }, 'aws:PrincipalTag/team', [['BLUE', false], ['green', true], [undefined, true]]);
  });

  it('StringLike / StringNotLike: * and ? wildcards, case-sensitive', () => {
    check({ StringLike: { 's3:prefix': ['home/*', 'tmp/??'] } }, 's3:prefix', [['home/', true], ['home/a/b', true], ['tmp/ab', true], ['tmp/abc', false], ['Home/a', false], [undefined, false]]);
    check({ StringNotLike: { 's3:prefix': ['home/*', 'tmp/??'] } }, 's3:prefix', [['home/a', false], ['tmp/ab', false], ['other', true], [undefined, true]]);
  });

  it('StringLike does not read regular-expression characters', () => {
    check({ StringLike: { k: 'a.c(d)+[e]' } }, 'k', [['a.c(d)+[e]', true], ['abc(d)+[e]', false]]);
  });
});

describe('numeric condition operators', () => {
  const key = 's3:max-keys';
  it('compare numbers; a value the request cannot give as a number does not match', () => {
    check({ NumericEquals: { [key]: '10' } }, key, [['10', true], ['10.0', true], ['1e1', true], ['11', false], ['ten', false], [undefined, false]]);
    check({ NumericNotEquals: { [key]: ['10', '20'] } }, key, [['10', false], ['20', false], ['15', true], [undefined, true]]);
    check({ NumericLessThan: { [key]: 10 } }, key, [['9.5', true], ['10', false], [undefined, false]]);
    check({ NumericLessThanEquals: { [key]: '10' } }, key, [['10', true], ['-3', true], ['11', false], [undefined, false]]);
    check({ NumericGreaterThan: { [key]: '10' } }, key, [['11', true], ['10', false], [undefined, false]]);
    check({ NumericGreaterThanEquals: { [key]: '10' } }, key, [['10', true], ['9', false], [undefined, false]]);
  });
});

describe('date condition operators', () => {
  it('compare ISO 8601 dates and epoch seconds, in either form on either side', () => {
    const start = '2020-04-01T00:00:00Z';
    const end = '2020-06-30T23:59:59Z';
    check({ DateGreaterThan: { 'aws:CurrentTime': start } }, 'aws:CurrentTime', [['2020-05-01T12:00:00Z', true], ['2020-03-31T23:59:59Z', false], [start, false], ['1588334400', true], [undefined, false]]);
    check({ DateLessThan: { 'aws:CurrentTime': end } }, 'aws:CurrentTime', [['2020-05-01T00:00:00Z', true], ['2020-07-01T00:00:00Z', false], ['not a date', false]]);
    check({ DateLessThanEquals: { 'aws:EpochTime': end } }, 'aws:EpochTime', [['1593561599', true], ['1593561600', false]]);
    check({ DateGreaterThanEquals: { 'aws:EpochTime': '1585699200' } }, 'aws:EpochTime', [['2020-04-01T00:00:00Z', true], ['2020-03-31', false]]);
    check({ DateEquals: { 'aws:CurrentTime': '2020-04-01' } }, 'aws:CurrentTime', [['2020-04-01T00:00:00Z', true], ['2020-04-01T02:00:00+02:00', true], ['2020-04-01T00:00:01Z', false], [undefined, false]]);
    check({ DateNotEquals: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' } }, 'aws:CurrentTime', [['2020-04-01T00:00:00.000Z', false], ['2020-04-02T00:00:00Z', true], [undefined, true]]);
  });
});

describe('Bool, BinaryEquals, Null', () => {
  it('Bool compares true/false (aws:SecureTransport); JSON booleans work as values', () => {
    check({ Bool: { 'aws:SecureTransport': 'true' } }, 'aws:SecureTransport', [['true', true], ['TRUE', true], ['false', false], [undefined, false]]);
    check({ Bool: { 'aws:SecureTransport': false } }, 'aws:SecureTransport', [['false', true], ['true', false], [undefined, false]]);
  });

  it('BinaryEquals compares base64-encoded bytes', () => {
    const c = { BinaryEquals: { key: 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } };
    check(c, 'key', [['QmluYXJ5VmFsdWVJbkJhc2U2NA==', true], ['QmluYXJ5VmFsdWVJbkJhc2U2NQ==', false], ['!!', false], [undefined, false]]);
  });

  it('Null: "true" holds when the key is absent, "false" when it is present', () => {
    check({ Null: { 'aws:TokenIssueTime': 'true' } }, 'aws:TokenIssueTime', [[undefined, true], [[], true], ['2020-01-01T00:00:00Z', false]]);
    check({ Null: { 'aws:TokenIssueTime': false } }, 'aws:TokenIssueTime', [[undefined, false], ['2020-01-01T00:00:00Z', true], ['', true]]);
  });
});

describe('IpAddress and NotIpAddress', () => {
  it('match IPv4 CIDR blocks and single addresses (aws:SourceIp example)', () => {
    const c = { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.7'] } };
    check(c, 'aws:SourceIp', [['192.0.2.0', true], ['192.0.2.255', true], ['203.0.113.7', true], ['203.0.113.8', false], ['192.0.3.1', false], ['::ffff:192.0.2.10', true], ['not-an-ip', false], [undefined, false]]);
  });

  it('match IPv6 CIDR blocks, whatever the case and zero compression', () => {
    const c = { IpAddress: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' } };
    check(c, 'aws:SourceIp', [['2001:db8:1234:5678::1', true], ['2001:0db8:1234:5678:ffff:ffff:ffff:ffff', true], ['2001:db8:1234:5679::1', false], ['192.0.2.1', false]]);
  });

  it('NotIpAddress holds outside every block and when the key is absent', () => {
    const c = { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:db8::/32'] } };
    check(c, 'aws:SourceIp', [['198.51.100.1', true], ['192.0.2.9', false], ['2001:db8::9', false], ['2001:db9::1', true], [undefined, true]]);
  });
});

describe('ARN condition operators', () => {
  const arn = 'arn:aws:cloudtrail:us-east-1:111122223333:trail/management';
  it('ArnEquals and ArnLike both take wildcards, segment by segment; case-sensitive', () => {
    for (const op of ['ArnEquals', 'ArnLike']) {
      const c = { [op]: { 'aws:SourceArn': 'arn:aws:cloudtrail:*:111122223333:trail/*' } };
      check(c, 'aws:SourceArn', [[arn, true], ['arn:aws:cloudtrail:eu-west-1:111122223333:trail/x', true], ['arn:aws:cloudtrail:us-east-1:444455556666:trail/x', false], ['arn:aws:CloudTrail:us-east-1:111122223333:trail/x', false], ['not-an-arn', false], [undefined, false]]);
    }
    check({ ArnEquals: { 'aws:SourceArn': arn } }, 'aws:SourceArn', [[arn, true], [`${arn}2`, false]]);
  });

  it('ArnNotEquals and ArnNotLike hold when nothing matches and when the key is absent', () => {
    for (const op of ['ArnNotEquals', 'ArnNotLike']) {
      check({ [op]: { 'aws:SourceArn': 'arn:aws:cloudtrail:*:111122223333:trail/*' } }, 'aws:SourceArn', [[arn, false], ['arn:aws:s3:::bucket', true], [undefined, true]]);
    }
  });
});

describe('absent keys and …IfExists', () => {
  it('IfExists holds when the key is absent and compares as usual when present', () => {
    check({ StringEqualsIfExists: { 'ec2:InstanceType': ['t1.*', 'm1.small'] } }, 'ec2:InstanceType', [[undefined, true], ['m1.small', true], ['m5.large', false]]);
    check({ StringLikeIfExists: { 'ec2:InstanceType': ['t1.*'] } }, 'ec2:InstanceType', [[undefined, true], ['t1.micro', true], ['m5.large', false]]);
    check({ NumericLessThanIfExists: { 's3:max-keys': '10' } }, 's3:max-keys', [[undefined, true], ['5', true], ['50', false]]);
    check({ IpAddressIfExists: { 'aws:SourceIp': '192.0.2.0/24' } }, 'aws:SourceIp', [[undefined, true], ['192.0.2.1', true], ['198.51.100.1', false]]);
    check({ BoolIfExists: { 'aws:MultiFactorAuthPresent': 'true' } }, 'aws:MultiFactorAuthPresent', [[undefined, true], ['true', true], ['false', false]]);
    check({ StringNotEqualsIfExists: { 'aws:RequestTag/DataClass': ['public', 'internal'] } }, 'aws:RequestTag/DataClass', [[undefined, true], ['private', true], ['public', false]]);
  });

  it('an empty list of values counts as absent for single-valued operators', () => {
    check({ StringEquals: { k: 'v' } }, 'k', [[[], false]]);
    check({ StringNotEquals: { k: 'v' } }, 'k', [[[], true]]);
  });
});

describe('several values, keys and operators', () => {
  it('ANDs keys within an operator and operators within a block', () => {
    const c = { StringEquals: { 'aws:PrincipalTag/team': 'blue', 'aws:RequestedRegion': 'us-east-1' }, Bool: { 'aws:SecureTransport': 'true' } };
    assert.equal(holds(c, { 'aws:PrincipalTag/team': 'blue', 'aws:RequestedRegion': 'us-east-1', 'aws:SecureTransport': 'true' }), true);
    assert.equal(holds(c, { 'aws:PrincipalTag/team': 'blue', 'aws:RequestedRegion': 'us-east-1', 'aws:SecureTransport': 'false' }), false);
    assert.equal(holds(c, { 'aws:PrincipalTag/team': 'blue', 'aws:SecureTransport': 'true' }), false);
  });

  it('reads condition key names case-insensitively, values case-sensitively', () => {
    assert.equal(holds({ StringEquals: { 'AWS:RequestedRegion': 'us-east-1' } }, { 'aws:requestedregion': 'us-east-1' }), true);
    assert.equal(holds({ StringEquals: { 'aws:RequestedRegion': 'us-east-1' } }, { 'Aws:RequestedRegion': 'US-EAST-1' }), false);
    const context = new Map([['AWS:REQUESTEDREGION', 'us-east-1']]);
    const p = named('p', doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } } }));
    assert.equal(evaluate([p], { principal: alice, action: 'kms:Decrypt', resource: KEY_ARN, context }).decision, 'Allow');
  });

  it('a multivalued key without a set operator matches when any of its values matches', () => {
    check({ StringEquals: { 'aws:TagKeys': 'Owner' } }, 'aws:TagKeys', [[['Owner', 'Env'], true], [['Env'], false]]);
    check({ StringNotEquals: { 'aws:TagKeys': 'Owner' } }, 'aws:TagKeys', [[['Owner', 'Env'], false], [['Env'], true]]);
  });
});

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
describe('set operators ForAllValues and ForAnyValue', () => {
  const keys = 'kms:EncryptionContextKeys';
  it('ForAllValues: every request value must match some policy value; true for an absent or empty set', () => {
    const c = { 'ForAllValues:StringEquals': { [keys]: ['Department', 'Project'] } };
    check(c, keys, [[['Department'], true], [['Department', 'Project'], true], [['Department', 'Other'], false], [['department'], false], [[], true], ['', true], [undefined, true]]);
  });

  it('ForAnyValue: some request value must match some policy value; false for an absent or empty set', () => {
    const c = { 'ForAnyValue:StringLike': { 'aws:TagKeys': ['ID', 'Post*'] } };
    check(c, 'aws:TagKeys', [[['UserName', 'PostDateTime'], true], [['UserName', 'Message'], false], [[], false], [undefined, false]]);
  });

  it('with negated operators: ForAllValues:StringNotEquals (no value listed), ForAnyValue:StringNotEquals (some value unlisted)', () => {
    const all = { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['DataClass', 'Owner'] } };
    check(all, 'aws:TagKeys', [[['Env', 'Team'], true], [['Env', 'Owner'], false], [undefined, true]]);
    const any = { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['DataClass', 'Owner'] } };
    check(any, 'aws:TagKeys', [[['Owner', 'Env'], true], [['Owner', 'DataClass'], false], [[], false], [undefined, false]]);
  });

  it('IfExists changes nothing under a set operator', () => {
    check({ 'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': 'Owner*' } }, 'aws:TagKeys', [[undefined, false], [['Owner:x'], true]]);
    check({ 'ForAllValues:StringLikeIfExists': { 'aws:TagKeys': 'Owner*' } }, 'aws:TagKeys', [[undefined, true], [['Env'], false]]);
  });

  it('a single request value is a set of one', () => {
    check({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'Owner' } }, 'aws:TagKeys', [['Owner', true], ['Env', false]]);
  });
});

// https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
describe('KMS encryption context conditions', () => {
  it('kms:EncryptionContext:<key> with StringEquals requires that pair in the context', () => {
    const c = { StringEquals: { 'kms:EncryptionContext:AppName': 'ExampleApp' } };
    assert.equal(holds(c, { 'kms:EncryptionContext:AppName': 'ExampleApp' }), true);
    assert.equal(holds(c, { 'kms:EncryptionContext:AppName': 'OtherApp' }), false);
    assert.equal(holds(c, { 'kms:EncryptionContext:Other': 'ExampleApp' }), false);
    assert.equal(holds(c, {}), false);
  });

  it('ForAllValues on kms:EncryptionContextKeys allows an empty context unless a Null check requires keys', () => {
    const only = { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['AppName', 'FilePath'] } };
    assert.equal(holds(only, {}), true, 'the documented pitfall: no context at all passes ForAllValues');
    const withNull = { ...only, Null: { 'kms:EncryptionContextKeys': 'false' } };
    assert.equal(holds(withNull, {}), false);
    assert.equal(holds(withNull, { 'kms:EncryptionContextKeys': ['AppName'] }), true);
    assert.equal(holds(withNull, { 'kms:EncryptionContextKeys': ['AppName', 'Extra'] }), false);
  });

  it('ForAnyValue on kms:EncryptionContextKeys requires at least one of the keys', () => {
    const c = { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['AppName', 'FilePath'] } };
    assert.equal(holds(c, { 'kms:EncryptionContextKeys': ['FilePath', 'Other'] }), true);
    assert.equal(holds(c, { 'kms:EncryptionContextKeys': ['Other'] }), false);
    assert.equal(holds(c, {}), false);
  });
});

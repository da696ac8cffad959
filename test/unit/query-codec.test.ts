import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../src/core/errors/aws-error.js';
import { decodeForm } from '../../src/protocols/query/form-decoder.js';
import { QueryCodec } from '../../src/protocols/query/query-codec.js';
import { QueryServiceModel } from '../../src/protocols/query/query-model.js';
import { queryParams, scopeService } from '../../src/protocols/query/request-params.js';
import { encodeXml, xmlText } from '../../src/protocols/query/xml-encoder.js';

/** A small model with every serialization the Query protocol has: the cases botocore's QuerySerializer produces. */
const MODEL: QueryServiceModel = {
  metadata: { apiVersion: '2020-01-01', protocol: 'query', signingName: 'test', xmlNamespace: 'https://test.amazonaws.com/doc/2020-01-01/' },
  operations: { Op: { input: 'OpRequest', output: 'OpResponse', resultWrapper: 'OpResult', errors: [] } },
  shapes: {
    OpRequest: {
      type: 'structure',
      required: ['Name'],
      members: {
        Name: { shape: 'name' },
        Count: { shape: 'count' },
        Flag: { shape: 'bool' },
        When: { shape: 'time' },
        Items: { shape: 'items' },
        Flat: { shape: 'flatItems' },
        Attrs: { shape: 'attrs' },
        Inner: { shape: 'Inner' },
        Renamed: { shape: 'name', locationName: 'WireName' },
      },
    },
    OpResponse: { type: 'structure', members: { Name: { shape: 'name' }, Items: { shape: 'items' }, Flat: { shape: 'flatItems' }, Attrs: { shape: 'attrs' }, When: { shape: 'time' }, Flag: { shape: 'bool' }, Count: { shape: 'count' } } },
    Inner: { type: 'structure', members: { Tags: { shape: 'tags' } } },
    tags: { type: 'list', member: { shape: 'Tag' } },
    Tag: { type: 'structure', members: { Key: { shape: 'name' }, Value: { shape: 'name' } } },
    name: { type: 'string', min: 1, max: 8, pattern: '[a-z]+' },
    count: { type: 'integer', min: 1, max: 10 },
    bool: { type: 'boolean' },
    time: { type: 'timestamp' },
    items: { type: 'list', member: { shape: 'name' } },
    flatItems: { type: 'list', member: { shape: 'name' }, flattened: true },
    attrs: { type: 'map', key: { shape: 'name' }, value: { shape: 'name' } },
  },
};

const params = (s: string) => queryParams('', Buffer.from(s));

describe('AWS Query form decoding', () => {
  it('decodes scalars, member lists, flattened lists, maps, nested lists of structures and wire names', () => {
    const form =
      'Action=Op&Version=2020-01-01&Name=abc&Count=3&Flag=true&When=2024-05-17T10%3A00%3A00Z' +
      '&Items.member.1=a&Items.member.2=b&Flat.1=x&Flat.2=y&Attrs.entry.1.key=k&Attrs.entry.1.value=v' +
      '&Inner.Tags.member.1.Key=ka&Inner.Tags.member.1.Value=va&WireName=w';
    assert.deepEqual({ ...decodeForm(MODEL, 'OpRequest', params(form)) }, {
      Name: 'abc',
      Count: 3,
      Flag: true,
      When: Date.parse('2024-05-17T10:00:00Z') / 1000,
      Items: ['a', 'b'],
      Flat: ['x', 'y'],
      Attrs: Object.assign(Object.create(null), { k: 'v' }),
      Inner: { Tags: [{ Key: 'ka', Value: 'va' }] },
      Renamed: 'w',
    });
  });

  it('an empty list is the bare name with an empty value; unknown parameters are ignored', () => {
    assert.deepEqual(decodeForm(MODEL, 'OpRequest', params('Name=a&Items=&Other.member.1=z')), { Name: 'a', Items: [] });
  });

  it('a gap in list indexes ends the list (botocore numbers from 1 without gaps)', () => {
    assert.deepEqual(decodeForm(MODEL, 'OpRequest', params('Name=a&Items.member.1=a&Items.member.3=c')).Items, ['a']);
  });

  it('a non-integer, a non-boolean or a bad timestamp is a ValidationError naming the member', () => {
    for (const [form, member] of [['Count=x', 'count'], ['Flag=yes', 'flag'], ['When=soon', 'when']] as const) {
      const err = catchError(() => decodeForm(MODEL, 'OpRequest', params(`Name=a&${form}`)));
      assert.equal(err.code, 'ValidationError');
      assert.match(err.message, new RegExp(`at '${member}'`));
    }
  });

  it('the codec validates the decoded input by the model with the Query wording', () => {
    const codec = new QueryCodec(MODEL);
    const err = catchError(() => codec.decodeInput('Op', params('Name=ABC&Count=11')));
    assert.equal(err.code, 'ValidationError');
    assert.equal(err.status, 400);
    assert.match(err.message, /^2 validation errors detected: /);
    assert.match(err.message, /Value 'ABC' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: \[a-z\]\+/);
    assert.match(err.message, /Value '11' at 'count' failed to satisfy constraint: Member must have value less than or equal to 10/);
    assert.match(catchError(() => codec.decodeInput('Op', params('Count=1'))).message, /Value null at 'name' failed to satisfy constraint: Member must not be null/);
  });
});

describe('AWS Query XML encoding', () => {
  it('encodes member lists, flattened lists, maps, ISO 8601 timestamps and booleans in model order', () => {
    const tree = encodeXml(MODEL, 'OpResponse', {
      Count: 2,
      Flag: false,
      When: new Date(Date.UTC(2024, 4, 17, 10, 0, 0, 123)),
      Attrs: { k: 'v' },
      Flat: ['x', 'y'],
      Items: ['a'],
      Name: 'n',
    });
    assert.deepEqual(tree, {
      Name: 'n',
      Items: { member: ['a'] },
      Flat: ['x', 'y'],
      Attrs: { entry: [{ key: 'k', value: 'v' }] },
      When: '2024-05-17T10:00:00Z',
      Flag: 'false',
      Count: '2',
    });
  });

  it('an empty list is an empty element', () => {
    assert.deepEqual(encodeXml(MODEL, 'OpResponse', { Items: [] }), { Items: '' });
  });

  it('a member the model does not have is a bug, not silently dropped', () => {
    assert.throws(() => encodeXml(MODEL, 'OpResponse', { Nope: 1 }), /not a member/);
  });

  it('characters XML cannot carry become U+FFFD', () => {
    assert.equal(xmlText('a\u0001b\uD800c'), 'a\uFFFDb\uFFFDc');
  });
});

describe('AWS Query requests', () => {
  it('the credential scope names the service, in the header and in the presigned form', () => {
    assert.equal(scopeService('AWS4-HMAC-SHA256 Credential=AKIA1/20240517/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00', ''), 'iam');
    assert.equal(scopeService(undefined, 'Action=GetCallerIdentity&X-Amz-Credential=AKIA1%2F20240517%2Fus-east-1%2Fsts%2Faws4_request'), 'sts');
    assert.equal(scopeService(undefined, 'Action=GetCallerIdentity'), undefined);
    assert.equal(scopeService('Bearer x', ''), '');
  });

  it('body parameters come before query-string ones, and SigV4 parameters are not input', () => {
    const p = queryParams('Action=FromQuery&X-Amz-Date=20240517T000000Z&Extra=1', Buffer.from('Action=FromBody&Name=a+b%2Bc'));
    assert.deepEqual(Object.fromEntries(p), { Action: 'FromBody', Name: 'a b+c', Extra: '1' });
  });
});

function catchError(fn: () => unknown): AwsError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AwsError) return err;
    throw err;
  }
  throw new Error('expected an AwsError');
}

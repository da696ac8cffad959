import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyCache } from '../../../src/core/policy/policy-cache.js';
import { PolicyError } from '../../../src/core/policy/policy-error.js';

const text = (sid: string) => JSON.stringify({ Version: '2012-10-17', Statement: { Sid: sid, Effect: 'Allow', Action: '*', Resource: '*' } });

describe('PolicyCache', () => {
  it('parses a document once and returns the same compiled policy for the same text', () => {
    const cache = new PolicyCache(4);
    const a = cache.get(text('a'), 'identity');
    assert.equal(cache.get(text('a'), 'identity'), a);
    assert.equal(cache.size, 1);
  });

  it('keeps documents compiled as different kinds apart', () => {
    const cache = new PolicyCache(4);
    const json = JSON.stringify({ Statement: { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' } });
    assert.equal(cache.get(json, 'resource').kind, 'resource');
    assert.throws(() => cache.get(json, 'identity'), PolicyError);
    assert.equal(cache.size, 1);
  });

  it('evicts the least recently used document beyond its capacity', () => {
    const cache = new PolicyCache(2);
    const a = cache.get(text('a'), 'identity');
    const b = cache.get(text('b'), 'identity');
    assert.equal(cache.get(text('a'), 'identity'), a); // a is now the most recent
    cache.get(text('c'), 'identity'); // evicts b
    assert.equal(cache.size, 2);
    assert.equal(cache.get(text('a'), 'identity'), a);
    assert.notEqual(cache.get(text('b'), 'identity'), b);
  });

  it('keeps the texts it holds within maxChars, always keeping the most recent document', () => {
    const cache = new PolicyCache(10, text('a').length * 2);
    const a = cache.get(text('a'), 'identity');
    cache.get(text('b'), 'identity');
    assert.equal(cache.size, 2);
    cache.get(text('c'), 'identity'); // over maxChars: a goes
    assert.equal(cache.size, 2);
    assert.notEqual(cache.get(text('a'), 'identity'), a);
    const big = new PolicyCache(10, 1);
    big.get(text('a'), 'identity');
    assert.equal(big.size, 1);
  });

  it('does not cache documents that fail to parse, and refuses a capacity below one', () => {
    const cache = new PolicyCache(2);
    assert.throws(() => cache.get('{', 'identity'), PolicyError);
    assert.equal(cache.size, 0);
    assert.throws(() => new PolicyCache(0), RangeError);
  });
});

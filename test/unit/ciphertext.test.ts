import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { openBlob, parseBlob, sealBlob } from '../../src/core/crypto/ciphertext.js';
import { canonicalContext } from '../../src/core/crypto/encryption-context.js';
import { SecretBytes } from '../../src/core/crypto/secret-bytes.js';

const material = SecretBytes.adopt(randomBytes(32));
const header = { keyArn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', materialId: randomBytes(32).toString('hex') };
const secret = (s: string) => SecretBytes.adopt(Buffer.from(s));

describe('the symmetric ciphertext format', () => {
  it('names its key and key material in a header, and opens under the same material and context', () => {
    const blob = sealBlob(material, header, secret('hello'), { b: '2', a: '1' });
    const parsed = parseBlob(blob)!;
    assert.equal(parsed.keyArn, header.keyArn);
    assert.equal(parsed.materialId, header.materialId);
    assert.equal(openBlob(material, parsed, { a: '1', b: '2' })!.reveal().toString(), 'hello');
  });

  it('uses a fresh nonce each time: the same plaintext never gives the same blob', () => {
    const a = sealBlob(material, header, secret('same'), undefined);
    const b = sealBlob(material, header, secret('same'), undefined);
    assert.notDeepEqual(a, b);
  });

  it('does not open under another material, another context, or after any bit flip', () => {
    const blob = sealBlob(material, header, secret('x'), { k: 'v' });
    assert.equal(openBlob(SecretBytes.adopt(randomBytes(32)), parseBlob(blob)!, { k: 'v' }), undefined);
    assert.equal(openBlob(material, parseBlob(blob)!, { k: 'w' }), undefined);
    assert.equal(openBlob(material, parseBlob(blob)!, {}), undefined);
    for (let bit = 0; bit < blob.length * 8; bit++) {
      const t = Buffer.from(blob);
      t[bit >> 3]! ^= 1 << (bit & 7);
      const p = parseBlob(t);
      assert.ok(p === undefined || openBlob(material, p, { k: 'v' }) === undefined, `bit ${bit}`);
    }
  });

  it('parses no truncated or extended blob into something that opens', () => {
    const blob = sealBlob(material, header, secret('truncate me'), undefined);
    for (let n = 0; n < blob.length; n++) {
      const p = parseBlob(blob.subarray(0, n));
      assert.ok(p === undefined || openBlob(material, p, undefined) === undefined, `length ${n}`);
    }
    const p = parseBlob(Buffer.concat([blob, Buffer.of(0)]));
    assert.ok(p === undefined || openBlob(material, p, undefined) === undefined);
  });

  it('canonical encryption context: order-free, and no two different contexts collide', () => {
    assert.deepEqual(canonicalContext({ a: '1', b: '2' }), canonicalContext({ b: '2', a: '1' }));
    assert.deepEqual(canonicalContext(undefined), canonicalContext({}));
    // Length prefixes keep "ab"+"c" apart from "a"+"bc".
    assert.notDeepEqual(canonicalContext({ ab: 'c' }), canonicalContext({ a: 'bc' }));
    assert.notDeepEqual(canonicalContext({ a: '' }), canonicalContext({}));
  });

  it('SecretBytes never shows its bytes in strings, JSON or inspection', async () => {
    const { inspect } = await import('node:util');
    const s = secret('PLANTED-SECRET');
    assert.equal(String(s), '[SecretBytes]');
    assert.equal(JSON.stringify({ s }), '{"s":"[SecretBytes]"}');
    assert.doesNotMatch(inspect({ s }), /PLANTED/);
  });
});

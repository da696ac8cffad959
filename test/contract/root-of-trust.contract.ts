import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { RootOfTrust, RootOfTrustError } from '../../src/core/crypto/root-of-trust/root-of-trust.js';
import { SecretBytes } from '../../src/core/crypto/secret-bytes.js';

/** The behaviour every root of trust must have; each implementation's test file runs it. */
export function rootOfTrustContract(make: () => Promise<{ root: RootOfTrust; reopen: () => Promise<RootOfTrust> }>): void {
  it('unwraps what it wrapped, with the same aad, also after reopening', async () => {
    const { root, reopen } = await make();
    const plain = randomBytes(32);
    const wrapped = await root.wrap(SecretBytes.adopt(Buffer.from(plain)), Buffer.from('aad-1'));
    assert.ok(!wrapped.includes(plain), 'the wrapped form contains the plaintext');
    assert.deepEqual((await root.unwrap(wrapped, Buffer.from('aad-1'))).reveal(), plain);
    const again = await reopen();
    assert.deepEqual((await again.unwrap(wrapped, Buffer.from('aad-1'))).reveal(), plain);
  });

  it('refuses another aad, any flipped bit and truncation with RootOfTrustError', async () => {
    const { root } = await make();
    const wrapped = await root.wrap(SecretBytes.adopt(randomBytes(32)), Buffer.from('aad'));
    await assert.rejects(root.unwrap(wrapped, Buffer.from('other')), RootOfTrustError);
    for (let i = 0; i < wrapped.length; i++) {
      const t = Buffer.from(wrapped);
      t[i]! ^= 0x01;
      await assert.rejects(root.unwrap(t, Buffer.from('aad')), RootOfTrustError, `byte ${i}`);
    }
    await assert.rejects(root.unwrap(wrapped.subarray(0, wrapped.length - 1), Buffer.from('aad')), RootOfTrustError);
  });

  it('wraps the same plaintext differently each time (fresh nonce)', async () => {
    const { root } = await make();
    const p = randomBytes(32);
    const a = await root.wrap(SecretBytes.adopt(Buffer.from(p)), Buffer.alloc(0));
    const b = await root.wrap(SecretBytes.adopt(Buffer.from(p)), Buffer.alloc(0));
    assert.notDeepEqual(a, b);
  });
}

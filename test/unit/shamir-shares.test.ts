import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { combine } from 'shamir-secret-sharing';
import { KEYRING_AAD } from '../../src/core/crypto/root-of-trust/keyring.js';
import { RootOfTrustError } from '../../src/core/crypto/root-of-trust/root-of-trust.js';
import { ShamirParameters, ShamirRootOfTrust, ShareCollector, ShareError, checkSplit, decodeShare, splitRootKey } from '../../src/core/crypto/root-of-trust/shamir.js';
import { SecretBytes } from '../../src/core/crypto/secret-bytes.js';
import { isLoopback } from '../../src/sealing/operator-route.js';

const params: ShamirParameters = { setId: '0123456789ab', shares: 5, threshold: 3 };

function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  return items.flatMap((x, i) => subsets(items.slice(i + 1), k - 1).map((rest) => [x, ...rest]));
}

async function newSplit(): Promise<{ key: Buffer; shares: string[] }> {
  const key = randomBytes(32);
  return { key, shares: await splitRootKey(SecretBytes.adopt(Buffer.from(key)), params) };
}

describe('Shamir key shares (sealed start)', () => {
  it('any 3 of 5 shares rebuild the root key, in any order (all 10 subsets)', async () => {
    const { key, shares } = await newSplit();
    for (const subset of subsets(shares, 3)) {
      const c = new ShareCollector(params);
      let rebuilt: SecretBytes | undefined;
      for (const s of subset.reverse()) rebuilt = await c.add(decodeShare(s));
      assert.ok(rebuilt?.reveal().equals(key));
      assert.equal(c.progress, 0, 'the shares are forgotten once combined');
    }
  });

  it('fewer than 3 shares do not give the root key: the collector waits, and combining 2 gives some other value', async () => {
    const { key, shares } = await newSplit();
    const c = new ShareCollector(params);
    assert.equal(await c.add(decodeShare(shares[0]!)), undefined);
    assert.equal(await c.add(decodeShare(shares[3]!)), undefined);
    assert.equal(c.progress, 2);
    const two = await combine([0, 3].map((i) => new Uint8Array(decodeShare(shares[i]!).bytes.reveal())));
    assert.equal(Buffer.from(two).equals(key), false);
  });

  it('a share given twice, a share of another set, a corrupted share and a share index beyond N are refused', async () => {
    const { shares } = await newSplit();
    const c = new ShareCollector(params);
    await c.add(decodeShare(shares[1]!));
    await assert.rejects(c.add(decodeShare(shares[1]!)), (e: Error) => e instanceof ShareError && /key share 2 was given already \(1 of 3\)/.test(e.message));
    const other = await splitRootKey(SecretBytes.adopt(randomBytes(32)), { ...params, setId: 'ffffffffffff' });
    await assert.rejects(c.add(decodeShare(other[0]!)), /belongs to another set/);
    const s = shares[2]!;
    const flipped = s.slice(0, 25) + (s[25] === 'a' ? 'b' : 'a') + s.slice(26);
    assert.throws(() => decodeShare(flipped), /corrupted/);
    assert.throws(() => decodeShare('hello'), /not a Strongroom key share/);
    const bigger = await splitRootKey(SecretBytes.adopt(randomBytes(32)), { ...params, shares: 7 });
    await assert.rejects(c.add(decodeShare(bigger[6]!)), /there is no key share 7/);
    assert.equal(c.progress, 1);
  });

  it('the rebuilt key is checked against the keyring it wrapped, never against a stored secret: a wrong key does not open it', async () => {
    const { key, shares } = await newSplit();
    const right = new ShamirRootOfTrust(SecretBytes.adopt(Buffer.from(key)), params);
    const keyring = await right.wrap(SecretBytes.adopt(randomBytes(41)), KEYRING_AAD);
    const wrong = new ShamirRootOfTrust(SecretBytes.adopt(randomBytes(32)), params);
    await assert.rejects(wrong.unwrap(keyring, KEYRING_AAD), RootOfTrustError);
    const c = new ShareCollector(params);
    let rebuilt: SecretBytes | undefined;
    for (const i of [4, 2, 0]) rebuilt = await c.add(decodeShare(shares[i]!));
    assert.equal((await new ShamirRootOfTrust(rebuilt!, params).unwrap(keyring, KEYRING_AAD)).length, 41);
  });

  it('splits need 2 <= T <= N <= 255', () => {
    assert.match(checkSplit(5, 1)!, /at least 2/);
    assert.match(checkSplit(2, 3)!, /at least --key-threshold/);
    assert.match(checkSplit(256, 3)!, /at most 255/);
    assert.equal(checkSplit(5, 3), undefined);
  });

  it('the operator endpoints count only loopback peers as local', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '0.0.0.0', '::', 'fe80::1', undefined]) assert.equal(isLoopback(a), false, String(a));
  });
});

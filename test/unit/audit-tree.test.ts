// The audit log's RFC 6962 Merkle tree and signed tree heads: the tree hash against Certificate Transparency's
// published vectors and a naive recursive implementation of RFC 6962 §2.1 (the incremental frontier must agree at
// every size 1..200), the signed bytes of RFC 6962 §3.5, the signing key wrapped by the root of trust, and
// verifyLog's verdicts on logs edited the ways an attacker with write access but no signing key could.
import assert from 'node:assert/strict';
import { KeyObject, createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EMPTY_ROOT, MerkleFrontier, StreamedInclusionProof, inclusionProof, leafHash, nodeHash, verifyInclusion } from '../../src/core/audit/merkle.js';
import { GENESIS_HASH, chainHash } from '../../src/core/audit/record.js';
import { keyIdOf, treeHeadSignatureInput, treeHeadSignatureValid } from '../../src/core/audit/tree-head.js';
import { StoredTreeHeadKey, TreeHeadSigner } from '../../src/core/audit/tree-head-key.js';
import { StoredCheckpoint, StoredLink, StoredTreeHead, verifyLog, verifyLogPaged } from '../../src/core/audit/verify.js';
import { FileRootOfTrust } from '../../src/core/crypto/root-of-trust/file.js';

const hex = (b: Buffer) => b.toString('hex');

/**
 * Certificate Transparency's reference leaves and the root of each tree size 0..8, as published with the
 * RFC 6962 implementations (certificate-transparency's merkle_tree_test, transparency-dev/merkle testonly).
 */
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** RFC 6962 §2.1 read literally: MTH(D[n]) = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n])), k the largest power of two < n. */
function naiveMth(data: readonly Buffer[]): Buffer {
  const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
  if (data.length === 0) return sha();
  if (data.length === 1) return sha(Buffer.of(0), data[0]!);
  let k = 1;
  while (k * 2 < data.length) k *= 2;
  return sha(Buffer.of(1), naiveMth(data.slice(0, k)), naiveMth(data.slice(k)));
}

describe('audit Merkle tree (RFC 6962 §2.1)', () => {
  it('the empty tree hash is SHA-256 of nothing', () => {
    assert.equal(hex(EMPTY_ROOT), CT_ROOTS[0]);
    assert.equal(hex(MerkleFrontier.empty().root()), CT_ROOTS[0]);
  });

  it("leaf and node hashes carry RFC 6962's 0x00 and 0x01 prefixes", () => {
    assert.equal(hex(leafHash(Buffer.alloc(0))), CT_ROOTS[1]);
    const a = leafHash(Buffer.from('a'));
    const b = leafHash(Buffer.from('b'));
    assert.deepEqual(nodeHash(a, b), createHash('sha256').update(Buffer.concat([Buffer.of(1), a, b])).digest());
  });

  it("matches Certificate Transparency's published roots for every size 0..8", () => {
    const tree = MerkleFrontier.empty();
    assert.equal(hex(tree.root()), CT_ROOTS[0]);
    CT_LEAVES.forEach((leaf, i) => {
      tree.append(leafHash(leaf));
      assert.equal(hex(tree.root()), CT_ROOTS[i + 1], `size ${i + 1}`);
      assert.equal(hex(naiveMth(CT_LEAVES.slice(0, i + 1))), CT_ROOTS[i + 1], `naive, size ${i + 1}`);
    });
  });

  it('the incremental frontier equals the naive recomputation at every size 1..200, and survives its stored form', () => {
    const data = Array.from({ length: 200 }, (_, i) => Buffer.from(`{"seq":${i + 1}}`));
    const tree = MerkleFrontier.empty();
    for (let n = 1; n <= data.length; n++) {
      tree.append(leafHash(data[n - 1]!));
      assert.equal(tree.size, n);
      const naive = naiveMth(data.slice(0, n));
      assert.deepEqual(tree.root(), naive, `size ${n}`);
      // One node per set bit of n, and the stored form gives back the same tree (and the same next roots).
      const bytes = tree.toBytes();
      assert.equal(bytes.length, 32 * n.toString(2).replace(/0/g, '').length);
      assert.deepEqual(MerkleFrontier.fromBytes(n, bytes).root(), naive);
    }
    const restored = MerkleFrontier.fromBytes(137, (() => {
      const t = MerkleFrontier.empty();
      for (const d of data.slice(0, 137)) t.append(leafHash(d));
      return t.toBytes();
    })());
    for (const d of data.slice(137)) restored.append(leafHash(d));
    assert.deepEqual(restored.root(), naiveMth(data));
  });

  it('a stored frontier of the wrong length for its size is refused', () => {
    assert.throws(() => MerkleFrontier.fromBytes(3, Buffer.alloc(32)), /frontier of 3 leaves has 2 nodes/);
    assert.throws(() => MerkleFrontier.fromBytes(0, Buffer.alloc(32)), /has 0 nodes/);
  });
});

describe('inclusion proofs (RFC 6962 §2.1.1, verified as RFC 9162 §2.1.3.2)', () => {
  const leaves = CT_LEAVES.map((l) => leafHash(l));
  const root8 = Buffer.from(CT_ROOTS[8]!, 'hex');

  it("gives Certificate Transparency's published audit paths for leaves 0 and 5 of 8, and they verify", () => {
    const p0 = ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'];
    const p5 = ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'];
    assert.deepEqual(inclusionProof(leaves, 0).map(hex), p0);
    assert.deepEqual(inclusionProof(leaves, 5).map(hex), p5);
    assert.equal(verifyInclusion(leaves[0]!, 0, 8, inclusionProof(leaves, 0), root8), true);
    assert.equal(verifyInclusion(leaves[5]!, 5, 8, inclusionProof(leaves, 5), root8), true);
  });

  it('every leaf of every tree size 1..40 proves against the naive root; a wrong leaf, index, path or root, or twice the size, does not', () => {
    const data = Array.from({ length: 40 }, (_, i) => Buffer.from(`r${i}`));
    const all = data.map((d) => leafHash(d));
    for (let n = 1; n <= data.length; n++) {
      const root = naiveMth(data.slice(0, n));
      for (let i = 0; i < n; i++) {
        const path = inclusionProof(all, i, n);
        assert.equal(verifyInclusion(all[i]!, i, n, path, root), true, `leaf ${i} of ${n}`);
        assert.equal(verifyInclusion(leafHash('x'), i, n, path, root), false);
        if (n > 1) assert.equal(verifyInclusion(all[i]!, (i + 1) % n, n, path, root), false, `index ${(i + 1) % n} of ${n}`);
        // A path fits neighbouring sizes whose left subtrees are the same (the size is bound by the signed head,
        // which signs size and root together), but never twice the size: one more level.
        assert.equal(verifyInclusion(all[i]!, i, n * 2, path, root), false);
        assert.equal(verifyInclusion(all[i]!, i, n, [...path, Buffer.alloc(32)], root), false);
        if (path.length > 0) assert.equal(verifyInclusion(all[i]!, i, n, path.slice(1), root), false);
        assert.equal(verifyInclusion(all[i]!, i, n, path, EMPTY_ROOT), false);
      }
    }
    assert.throws(() => inclusionProof(all, 5, 5), /no leaf 5 in a tree of 5/);
    assert.equal(verifyInclusion(all[0]!, 0, 0, [], EMPTY_ROOT), false);
  });

  it('the streamed proof (leaves given one at a time, O(log n) kept) is the same path, leaf and root for every leaf of every size 1..40', () => {
    const all = Array.from({ length: 40 }, (_, i) => leafHash(`r${i}`));
    for (let n = 1; n <= all.length; n++) {
      for (let i = 0; i < n; i++) {
        const streamed = new StreamedInclusionProof(i, n);
        for (const leaf of all.slice(0, n)) streamed.add(leaf);
        const { leaf, path, root } = streamed.result();
        assert.deepEqual(path, inclusionProof(all, i, n), `leaf ${i} of ${n}`);
        assert.deepEqual(leaf, all[i]);
        assert.deepEqual(root, naiveMth(Array.from({ length: n }, (_, j) => Buffer.from(`r${j}`))));
      }
    }
    const short = new StreamedInclusionProof(2, 4);
    for (const leaf of all.slice(0, 3)) short.add(leaf);
    assert.throws(() => short.result(), /3 of the tree's 4 leaves were added/);
    short.add(all[3]!);
    assert.throws(() => short.add(all[4]!), /a tree of 4 leaves has no leaf 4/);
    assert.throws(() => new StreamedInclusionProof(5, 5), /no leaf 5 in a tree of 5/);
  });
});

describe('signed tree heads (RFC 6962 §3.5)', () => {
  it('signs version, signature type, timestamp, tree size and root, big-endian', () => {
    const root = Buffer.alloc(32, 0xab);
    const input = treeHeadSignatureInput(0x0102, root, 0x0a0b0c0d0e);
    assert.equal(input.length, 50);
    assert.equal(hex(input.subarray(0, 18)), '0001' + '0000000a0b0c0d0e' + '0000000000000102');
    assert.deepEqual(input.subarray(18), root);
  });

  it('a signature checks out only for the same size, root, time and key', () => {
    const signer = new TreeHeadSigner(generateKeyPairSync('ed25519').privateKey);
    const other = new TreeHeadSigner(generateKeyPairSync('ed25519').privateKey);
    const h = signer.sign(7, Buffer.alloc(32, 1), 1_700_000_000_000);
    assert.equal(h.keyId, keyIdOf(signer.publicKey));
    assert.equal(treeHeadSignatureValid(h, signer.publicKey), true);
    assert.equal(treeHeadSignatureValid({ ...h, treeSize: 6 }, signer.publicKey), false);
    assert.equal(treeHeadSignatureValid({ ...h, rootHash: Buffer.alloc(32, 2) }, signer.publicKey), false);
    assert.equal(treeHeadSignatureValid({ ...h, timestamp: h.timestamp + 1 }, signer.publicKey), false);
    assert.equal(treeHeadSignatureValid(h, other.publicKey), false);
    assert.equal(treeHeadSignatureValid({ ...h, signature: Buffer.alloc(3) }, signer.publicKey), false);
  });

  describe('the signing key, wrapped by the root of trust', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strongroom-tree-key-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    let stored: StoredTreeHeadKey | undefined;
    const store = { treeHeadKey: async () => stored, addTreeHeadKey: async (k: StoredTreeHeadKey) => void (stored = k) };

    it('is made once, stored wrapped (no private key bytes in the clear), and unwrapped to the same key', async () => {
      const root = FileRootOfTrust.openOrCreate(dir);
      const first = await TreeHeadSigner.openOrCreate(store, root);
      assert.ok(stored);
      assert.equal(stored.keyId, first.keyId);
      assert.deepEqual(stored.publicKey, first.publicKey.export({ format: 'der', type: 'spki' }));
      // The private key's 32-byte seed (JWK "d") appears nowhere in what is stored.
      const seed = Buffer.from((first as unknown as { privateKey: KeyObject }).privateKey.export({ format: 'jwk' }).d!, 'base64url');
      assert.equal(seed.length, 32);
      assert.equal(Buffer.concat([stored.publicKey, stored.wrappedPrivateKey]).includes(seed), false);
      const again = await TreeHeadSigner.openOrCreate(store, root);
      assert.equal(again.keyId, first.keyId);
      const h = again.sign(1, Buffer.alloc(32), 1);
      assert.equal(treeHeadSignatureValid(h, first.publicKey), true);
    });

    it('refuses to start when the stored public key was replaced', async () => {
      const root = FileRootOfTrust.openOrCreate(dir);
      const genuine = stored!;
      const intruder = generateKeyPairSync('ed25519').publicKey;
      stored = { ...genuine, publicKey: intruder.export({ format: 'der', type: 'spki' }) };
      await assert.rejects(TreeHeadSigner.openOrCreate(store, root), /stored public key is not its private key's/);
      // A replaced key id no longer opens the wrapped key (the AAD names it).
      stored = { ...genuine, keyId: keyIdOf(intruder) };
      await assert.rejects(TreeHeadSigner.openOrCreate(store, root), /does not authenticate/);
      stored = genuine;
    });
  });
});

/** A log as the server writes it: records committed in `groups`, one signed head per group, head rows as given. */
function writeLog(records: readonly string[], groups: readonly number[], signer: TreeHeadSigner | undefined, firstId = 1) {
  const rows: StoredLink[] = [];
  const heads: StoredTreeHead[] = [];
  const tree = MerkleFrontier.empty();
  let hash = GENESIS_HASH;
  let i = 0;
  for (const g of groups) {
    for (const end = i + g; i < end; i++) {
      hash = chainHash(hash, records[i]!);
      rows.push({ seq: i + 1, hash, record: records[i]! });
      tree.append(leafHash(records[i]!));
    }
    if (signer) heads.push({ id: firstId + heads.length, ...signer.sign(tree.size, tree.root(), 1_700_000_000_000 + i) });
  }
  const checkpoint: StoredCheckpoint = { seq: rows.length, hash, frontier: tree.toBytes() };
  return { rows, heads, checkpoint };
}

describe('verifyLog', () => {
  const signer = new TreeHeadSigner(generateKeyPairSync('ed25519').privateKey);
  const key = { keyId: signer.keyId, publicKey: signer.publicKey };
  const records = Array.from({ length: 10 }, (_, i) => `{"n":${i + 1}}`);
  const log = writeLog(records, [3, 4, 3], signer);
  const messages = (r: ReturnType<typeof verifyLog>) => r.problems.map((p) => p.message);

  it('passes on the log as written: chain, checkpoint, frontier, every head', () => {
    const r = verifyLog({ rows: log.rows, checkpoint: log.checkpoint, treeHeads: log.heads, key });
    assert.deepEqual(r.problems, []);
    assert.equal(r.ok, true);
    assert.equal(r.records, 10);
    assert.equal(r.validTreeHeads, 3);
    assert.deepEqual(r.rootHash, naiveMth(records.map((x) => Buffer.from(x))));
    assert.deepEqual(verifyLog({ rows: [], checkpoint: undefined, treeHeads: [], key }).problems, []);
  });

  it('an edited record: the chain names it, and the heads covering it no longer match (the one before still does)', () => {
    const rows = log.rows.map((r) => (r.seq === 5 ? { ...r, record: '{"n":50}' } : r));
    const r = verifyLog({ rows, checkpoint: log.checkpoint, treeHeads: log.heads, key });
    assert.deepEqual(r.problems[0], { seq: 5, message: 'record 5 does not match its hash chain (edited, replaced or reordered)' });
    assert.deepEqual(messages(r).slice(1), [
      'signed tree head #2 (size 7) does not match the records: record(s) edited, removed or reordered at or before seq 7 (after seq 3: #1 of size 3 still matches)',
      'signed tree head #3 (size 10) does not match the records: record(s) edited, removed or reordered at or before seq 10 (after seq 3: #1 of size 3 still matches)',
    ]);
  });

  it('the tail rewritten with the chain, frontier and checkpoint recomputed, without the key: the old heads no longer match', () => {
    const forged = [...records.slice(0, 7), '{"n":"x"}', '{"n":9}', '{"n":10}'];
    const attacker = writeLog(forged, [10], undefined);
    const r = verifyLog({ rows: attacker.rows, checkpoint: attacker.checkpoint, treeHeads: log.heads, key });
    assert.deepEqual(messages(r), ['signed tree head #3 (size 10) does not match the records: record(s) edited, removed or reordered at or before seq 10 (after seq 7: #2 of size 7 still matches)']);
    // Re-signing with a key of their own does not help: the head names another key, and its signature fails ours.
    const own = new TreeHeadSigner(generateKeyPairSync('ed25519').privateKey);
    const resigned = writeLog(forged, [3, 4, 3], own);
    assert.match(messages(verifyLog({ rows: resigned.rows, checkpoint: resigned.checkpoint, treeHeads: resigned.heads, key }))[0]!, /signed tree head #1 \(size 3\) names signing key [0-9a-f]{64}, not the key verified against/);
    const sameId = resigned.heads.map((h) => ({ ...h, keyId: key.keyId }));
    assert.deepEqual(messages(verifyLog({ rows: resigned.rows, checkpoint: resigned.checkpoint, treeHeads: sameId, key }))[2], 'the signature of signed tree head #3 (size 10) is invalid: the head was forged or altered');
  });

  it('the tail truncated and the checkpoint rewritten to match: the newest head covers records that are gone', () => {
    const cut = writeLog(records.slice(0, 8), [8], undefined);
    assert.deepEqual(messages(verifyLog({ rows: cut.rows, checkpoint: cut.checkpoint, treeHeads: log.heads, key })), [
      'signed tree head #3 (size 10) covers more records than the log holds (8): records 9..10 were removed (tail truncated)',
    ]);
    // …and with that head deleted too, the last record is not covered by any head.
    assert.deepEqual(messages(verifyLog({ rows: cut.rows, checkpoint: cut.checkpoint, treeHeads: log.heads.slice(0, 2), key })), [
      'records 8..8 are not covered by a signed tree head (the newest covers 7; every commit signs one): they were added without the signing key, or newer heads were deleted',
    ]);
  });

  it('records appended with the chain and checkpoint recomputed but no signed head: not covered', () => {
    const longer = writeLog([...records, '{"n":11}'], [11], undefined);
    assert.deepEqual(messages(verifyLog({ rows: longer.rows, checkpoint: longer.checkpoint, treeHeads: log.heads, key })), [
      'records 11..11 are not covered by a signed tree head (the newest covers 10; every commit signs one): they were added without the signing key, or newer heads were deleted',
    ]);
  });

  it('a head whose root was altered, heads out of order, no heads at all, no key', () => {
    const altered = log.heads.map((h) => (h.id === 2 ? { ...h, rootHash: Buffer.alloc(32) } : h));
    assert.deepEqual(messages(verifyLog({ rows: log.rows, checkpoint: log.checkpoint, treeHeads: altered, key })), [
      'the signature of signed tree head #2 (size 7) is invalid: the head was forged or altered',
      'signed tree head #2 (size 7) does not match the records: record(s) edited, removed or reordered at or before seq 7 (after seq 3: #1 of size 3 still matches)',
    ]);
    const swapped = [log.heads[1]!, log.heads[0]!, log.heads[2]!];
    assert.match(messages(verifyLog({ rows: log.rows, checkpoint: log.checkpoint, treeHeads: swapped, key }))[0]!, /signed tree head #1 \(size 3\) is not larger than the one written before it \(#2, size 7\)/);
    assert.match(messages(verifyLog({ rows: log.rows, checkpoint: log.checkpoint, treeHeads: [], key }))[0]!, /^no signed tree head covers records 1\.\.10/);
    assert.equal(verifyLog({ rows: log.rows, checkpoint: log.checkpoint, treeHeads: log.heads, key: undefined }).problems.length, 3);
  });

  it("a checkpoint whose frontier disagrees with the records is reported (the next commit's root would be wrong)", () => {
    const r = verifyLog({ rows: log.rows, checkpoint: { ...log.checkpoint, frontier: Buffer.alloc(64) }, treeHeads: log.heads, key });
    assert.deepEqual(r.problems, [{ seq: 10, message: "the checkpoint's Merkle frontier does not match the records (the next commit would sign a wrong root)" }]);
    assert.equal(verifyLog({ rows: log.rows, checkpoint: { ...log.checkpoint, frontier: null }, treeHeads: log.heads, key }).ok, true);
  });

  it('read a page at a time (verifyLogPaged), every verdict above is the same as in one pass, and no page is asked twice', async () => {
    const cases: { rows: StoredLink[]; checkpoint: StoredCheckpoint; heads: StoredTreeHead[] }[] = [
      { rows: log.rows, checkpoint: log.checkpoint, heads: log.heads },
      { rows: log.rows.map((r) => (r.seq === 5 ? { ...r, record: '{"n":50}' } : r)), checkpoint: log.checkpoint, heads: log.heads },
      { rows: log.rows.filter((r) => r.seq !== 2), checkpoint: log.checkpoint, heads: log.heads },
      { rows: log.rows.slice(0, 8), checkpoint: log.checkpoint, heads: log.heads },
      { rows: [{ ...log.rows[0]!, seq: 0 }, ...log.rows.slice(1)], checkpoint: log.checkpoint, heads: log.heads },
      { rows: [], checkpoint: log.checkpoint, heads: [] },
    ];
    for (const [n, c] of cases.entries()) {
      const whole = verifyLog({ rows: c.rows, checkpoint: c.checkpoint, treeHeads: c.heads, key });
      for (const pageSize of [1, 3, 10, 11]) {
        const asked: number[] = [];
        const links = async (afterSeq: number, limit: number) => {
          assert.ok(limit <= pageSize);
          asked.push(afterSeq);
          return c.rows.filter((r) => r.seq > afterSeq).sort((a, b) => a.seq - b.seq).slice(0, limit);
        };
        const paged = await verifyLogPaged({ links, checkpoint: c.checkpoint, treeHeads: c.heads, key, pageSize });
        assert.deepEqual(paged, whole, `case ${n}, pages of ${pageSize}`);
        assert.equal(new Set(asked).size, asked.length);
        assert.ok(asked.length <= Math.floor(c.rows.length / pageSize) + 1);
      }
    }
  });

  it('the chain checks of before: a missing record, a truncated tail behind the checkpoint', () => {
    const missing = log.rows.filter((r) => r.seq !== 2);
    assert.deepEqual(verifyLog({ rows: missing, checkpoint: log.checkpoint, treeHeads: log.heads, key }).problems[0], { seq: 2, message: 'record 2 is missing (the next record is 3)' });
    const r = verifyLog({ rows: log.rows.slice(0, 9), checkpoint: log.checkpoint, treeHeads: log.heads.slice(0, 2), key });
    assert.deepEqual(r.problems.find((p) => p.seq !== undefined), { seq: 10, message: 'the log ends at record 9 but the checkpoint names record 10 (truncated)' });
  });
});

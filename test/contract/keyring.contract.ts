import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { FileRootOfTrust } from '../../src/core/crypto/root-of-trust/file.js';
import { Keyring, KeyringRootMismatchError, LEGACY_KEY_ID } from '../../src/core/crypto/root-of-trust/keyring.js';
import { KeyringSealedError, RootOfTrust, RootOfTrustError } from '../../src/core/crypto/root-of-trust/root-of-trust.js';
import { SecretBytes } from '../../src/core/crypto/secret-bytes.js';
import { KeyringStore } from '../../src/store/metadata/keyring-types.js';
import { OpenFresh } from './reopenable.js';

const fileRoot = () => FileRootOfTrust.openOrCreate(mkdtempSync(join(tmpdir(), 'sr-keyring-')));
const secret = () => SecretBytes.adopt(randomBytes(32));
const aad = Buffer.from('strongroom:test:v1');

/** A root of another kind that wraps like `inner` (rotate-root's target in these tests). */
function otherKind(inner: RootOfTrust, kind = 'other'): RootOfTrust {
  return { kind, description: `the ${kind} test root`, wrap: (p, a) => inner.wrap(p, a), unwrap: (w, a) => inner.unwrap(w, a), close: () => inner.close() };
}

/**
 * The keyring over each backend's keyring store (src/core/crypto/root-of-trust/keyring.ts): one row, compare-
 * and-swap on its generation, seen by every node (`another` is a second process or node on the database).
 */
export function keyringContract(open: OpenFresh<KeyringStore>): void {
  it('the store keeps one keyring: create succeeds once, replace only from the generation it read', async () => {
    const { store, another } = await open();
    const row = { rootKind: 'file', rootDescription: 'd', wrapped: Buffer.from('w1'), activeKeyId: 1, updatedAt: 1 };
    assert.equal(await store.get(), undefined);
    assert.equal(await store.generation(), undefined);
    assert.equal(await store.create(row), true);
    const other = await another();
    assert.equal(await other.create({ ...row, wrapped: Buffer.from('w2') }), false);
    assert.deepEqual(await other.get(), { ...row, generation: 1 });
    assert.equal(await other.replace({ ...row, wrapped: Buffer.from('w3'), activeKeyId: 2 }, 1), true);
    assert.equal(await store.replace({ ...row, wrapped: Buffer.from('w4') }, 1), false, 'a writer that read generation 1 lost the race');
    assert.deepEqual(await store.get(), { ...row, wrapped: Buffer.from('w3'), activeKeyId: 2, generation: 2 });
    assert.equal(await store.generation(), 2);
  });

  it('every blob names its keyring key in a versioned header bound to the aad; unwrap needs the same aad', async () => {
    const { store } = await open();
    const keyring = new Keyring(store);
    await keyring.unseal(fileRoot(), { create: true });
    const plain = secret();
    const blob = await keyring.wrap(plain, aad);
    assert.equal(blob[0], 0x02);
    assert.equal(blob.readUInt32BE(1), 1);
    assert.ok(!blob.includes(plain.reveal()));
    assert.ok((await keyring.unwrap(blob, aad)).equals(plain));
    await assert.rejects(keyring.unwrap(blob, Buffer.from('other')), RootOfTrustError);
    for (const i of [0, 1, 4, 5, 20, blob.length - 1]) {
      const t = Buffer.from(blob);
      t[i]! ^= 0x01;
      await assert.rejects(keyring.unwrap(t, aad), RootOfTrustError, `byte ${i}`);
    }
  });

  it('rotate: a new keyring key wraps new blobs; blobs of the old one still unwrap; another node finds the new key on its first blob', async () => {
    const { store, another } = await open();
    const root = fileRoot();
    const node1 = new Keyring(store);
    await node1.unseal(root, { create: true });
    const node2 = new Keyring(await another());
    await node2.unseal(root, { create: true });
    const before = secret();
    const oldBlob = await node2.wrap(before, aad);
    assert.equal(await node1.addKey(), 2);
    assert.deepEqual(node1.summary().keyIds, [1, 2]);
    const after = secret();
    const newBlob = await node1.wrap(after, aad);
    assert.equal(newBlob.readUInt32BE(1), 2);
    assert.ok((await node1.unwrap(oldBlob, aad)).equals(before));
    // node2 still holds only key 1: the blob naming key 2 makes it reload the row, once.
    assert.ok((await node2.unwrap(newBlob, aad)).equals(after));
    assert.equal(node2.summary().activeKeyId, 2);
    assert.equal((await node2.wrap(secret(), aad)).readUInt32BE(1), 2, 'new writes on node 2 use the new key too');
  });

  it('refresh() picks up a key added elsewhere without waiting for a blob that names it', async () => {
    const { store, another } = await open();
    const root = fileRoot();
    const node1 = new Keyring(store);
    await node1.unseal(root, { create: true });
    const node2 = new Keyring(await another());
    await node2.unseal(root);
    assert.equal(await node2.refresh(), false);
    await node1.addKey();
    assert.equal(await node2.refresh(), true);
    assert.equal((await node2.wrap(secret(), aad)).readUInt32BE(1), 2);
  });

  it('a blob naming a key the keyring never had is refused, not guessed', async () => {
    const { store } = await open();
    const keyring = new Keyring(store);
    await keyring.unseal(fileRoot(), { create: true });
    const blob = await keyring.wrap(secret(), aad);
    blob.writeUInt32BE(7, 1);
    await assert.rejects(keyring.unwrap(blob, aad), /keyring key 7, which the keyring does not hold/);
  });

  it('an upgraded deployment keeps its file root key as keyring key 0: blobs the root wrapped directly still unwrap, also after rotate-root', async () => {
    const { store } = await open();
    const root = fileRoot();
    const plain = secret();
    const legacyBlob = await root.wrap(plain, aad);
    assert.equal(legacyBlob[0], 0x01);
    const keyring = new Keyring(store);
    await keyring.unseal(root, { create: true, legacyKey: () => root.keyForUpgrade() });
    assert.deepEqual(keyring.summary().keyIds, [LEGACY_KEY_ID, 1]);
    assert.ok((await keyring.unwrap(legacyBlob, aad)).equals(plain));
    assert.equal((await keyring.wrap(secret(), aad)).readUInt32BE(1), 1, 'new blobs use keyring key 1, not the old root key');
    const next = otherKind(fileRoot());
    await keyring.moveTo(next);
    const reopened = new Keyring(store);
    await reopened.unseal(next);
    assert.ok((await reopened.unwrap(legacyBlob, aad)).equals(plain));
  });

  it('without a legacy key, a blob in the old format is refused (a fresh deployment has no keyring key 0)', async () => {
    const { store } = await open();
    const root = fileRoot();
    const keyring = new Keyring(store);
    await keyring.unseal(root, { create: true });
    await assert.rejects(keyring.unwrap(await root.wrap(secret(), aad), aad), /keyring key 0/);
  });

  it('rotate-root re-wraps only the keyring: the old root no longer opens it, the new one does, every blob still unwraps', async () => {
    const { store, reopen } = await open();
    const oldRoot = fileRoot();
    const keyring = new Keyring(store);
    await keyring.unseal(oldRoot, { create: true });
    const plain = secret();
    const blob = await keyring.wrap(plain, aad);
    const newRoot = otherKind(fileRoot());
    await keyring.moveTo(newRoot);
    assert.equal(keyring.summary().rootKind, 'other');
    assert.ok((await keyring.unwrap(blob, aad)).equals(plain));
    const s = await reopen();
    await assert.rejects(new Keyring(s).unseal(oldRoot), KeyringRootMismatchError);
    await assert.rejects(new Keyring(s).unseal(otherKind(fileRoot())), RootOfTrustError, 'another root of the same kind does not open it');
    const fresh = new Keyring(s);
    await fresh.unseal(newRoot);
    assert.ok((await fresh.unwrap(blob, aad)).equals(plain));
  });

  it('sealed: before unseal and after seal(), wrap and unwrap throw KeyringSealedError; unseal again restores', async () => {
    const { store } = await open();
    const root = fileRoot();
    const keyring = new Keyring(store);
    await assert.rejects(keyring.wrap(secret(), aad), KeyringSealedError);
    await keyring.unseal(root, { create: true });
    const blob = await keyring.wrap(secret(), aad);
    keyring.seal();
    assert.equal(keyring.sealed, true);
    await assert.rejects(keyring.unwrap(blob, aad), KeyringSealedError);
    await keyring.unseal(root);
    await keyring.unwrap(blob, aad);
  });

  it('unseal is one root call: the keyring keys are unwrapped once, not per blob', async () => {
    const { store } = await open();
    const inner = fileRoot();
    let calls = 0;
    const counting: RootOfTrust = { ...otherKind(inner, 'file'), unwrap: (w, a) => (calls++, inner.unwrap(w, a)) };
    const keyring = new Keyring(store);
    await keyring.unseal(counting, { create: true });
    calls = 0;
    const again = new Keyring(store);
    await again.unseal(counting);
    assert.equal(calls, 1);
    for (let i = 0; i < 50; i++) await again.unwrap(await again.wrap(secret(), aad), aad);
    assert.equal(calls, 1);
  });
}

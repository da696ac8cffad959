import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { CustomKeyStoreConflict, CustomKeyStoreRecord, CustomKeyStoreStore } from '../../src/store/metadata/custom-key-store-types.js';
import { KeyRecord, MetadataStore } from '../../src/store/metadata/types.js';
import { OpenFresh } from './reopenable.js';

/** A custom key store store with the metadata store of the same database (its keys decide what counts). */
export interface CustomKeyStoreStores {
  readonly stores: CustomKeyStoreStore;
  readonly metadata: MetadataStore;
}

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';

const cks = (id: string, over: Partial<CustomKeyStoreRecord> = {}): CustomKeyStoreRecord => ({
  id, accountId: ACCOUNT, region: REGION, name: `store-${id}`, type: 'EXTERNAL_KEY_STORE', connectionState: 'DISCONNECTED', connectionErrorCode: null,
  createdAt: 1_700_000_000_000, uriEndpoint: 'https://xks.example.com', uriPath: `/${id}/kms/xks/v1`, connectivity: 'PUBLIC_ENDPOINT',
  accessKeyId: 'XKSTESTACCESSKEY2345ABCD', secretWrapped: 'd3JhcHBlZA==', ...over,
});

const key = (keyId: string): KeyRecord => ({
  keyId, accountId: ACCOUNT, region: REGION, arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`, description: '', keyState: 'Enabled', keyManager: 'CUSTOMER',
  createdAt: 1000, deletionDate: null, pendingWindowInDays: null, policy: '{}', currentMaterialId: 'm0', rotationEnabled: false, rotationPeriodInDays: null,
  nextRotationDate: null, onDemandRotationStartDate: null, keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'EXTERNAL_KEY_STORE', multiRegion: false, primaryRegion: null,
});

const conflict = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CustomKeyStoreConflict, String(err));
    return err.what;
  }
  throw new Error('expected a CustomKeyStoreConflict');
};

/** What every custom key store store must do (src/store/metadata/custom-key-store-types.ts), through the interface only. */
export function customKeyStoreStoreContract(open: OpenFresh<CustomKeyStoreStores>): void {
  it('keeps custom key stores with their connection state (seen by another process at once), names and URIs unique per account and Region, pages in id order', async () => {
    const { store: { stores }, another } = await open();
    await stores.createCustomKeyStore(cks('cks-00000000000000001'));
    await stores.createCustomKeyStore(cks('cks-00000000000000002'));
    assert.equal(await conflict(stores.createCustomKeyStore(cks('cks-00000000000000003', { name: 'store-cks-00000000000000001' }))), 'name');
    assert.equal(await conflict(stores.createCustomKeyStore(cks('cks-00000000000000003', { uriPath: '/cks-00000000000000002/kms/xks/v1' }))), 'uri');
    // The same name in another Region is another store.
    await stores.createCustomKeyStore(cks('cks-00000000000000004', { region: 'eu-west-1', name: 'store-cks-00000000000000001' }));
    const page1 = await stores.listCustomKeyStores(ACCOUNT, REGION, undefined, 1);
    assert.deepEqual(page1.items.map((s) => s.id), ['cks-00000000000000001']);
    const page2 = await stores.listCustomKeyStores(ACCOUNT, REGION, page1.next, 1);
    assert.deepEqual(page2.items.map((s) => s.id), ['cks-00000000000000002']);
    assert.equal(page2.next, undefined);

    const updated = await stores.updateCustomKeyStore('cks-00000000000000001', { connectionState: 'FAILED', connectionErrorCode: 'XKS_PROXY_NOT_REACHABLE' });
    assert.equal(updated?.connectionState, 'FAILED');
    const other = (await another()).stores;
    assert.deepEqual(await other.getCustomKeyStore('cks-00000000000000001'), { ...cks('cks-00000000000000001'), connectionState: 'FAILED', connectionErrorCode: 'XKS_PROXY_NOT_REACHABLE' });
    assert.equal(await conflict(other.updateCustomKeyStore('cks-00000000000000001', { name: 'store-cks-00000000000000002' })), 'name');
    assert.equal((await other.updateCustomKeyStore('cks-00000000000000001', { name: 'renamed' }))?.name, 'renamed');
    assert.equal(await other.updateCustomKeyStore('cks-99999999999999999', { name: 'x' }), undefined);
    assert.equal(await stores.deleteCustomKeyStore('cks-00000000000000002'), true);
    assert.equal(await stores.deleteCustomKeyStore('cks-00000000000000002'), false);
    assert.equal(await stores.getCustomKeyStore('cks-00000000000000002'), undefined);
  });

  it('an external key id is held by one existing KMS key per store; a reservation whose key does not exist is taken over; keys are counted only while they exist', async () => {
    const { store: { stores, metadata } } = await open();
    await stores.createCustomKeyStore(cks('cks-0000000000000000a'));
    const [k1, k2, k3] = [randomUUID(), randomUUID(), randomUUID()];
    assert.equal(await stores.reserveXksKey({ keyId: k1, customKeyStoreId: 'cks-0000000000000000a', xksKeyId: 'ext-1' }), true);
    // k1 was never created (a crash between reserving and creating): k2 takes the external key over.
    assert.equal(await stores.reserveXksKey({ keyId: k2, customKeyStoreId: 'cks-0000000000000000a', xksKeyId: 'ext-1' }), true);
    assert.equal(await stores.getXksKey(k1), undefined);
    await metadata.createKey(key(k2), null, []);
    assert.equal(await stores.reserveXksKey({ keyId: k3, customKeyStoreId: 'cks-0000000000000000a', xksKeyId: 'ext-1' }), false);
    assert.deepEqual(await stores.getXksKey(k2), { keyId: k2, customKeyStoreId: 'cks-0000000000000000a', xksKeyId: 'ext-1' });
    assert.equal(await stores.countKeysInCustomKeyStore('cks-0000000000000000a'), 1);
    await metadata.deleteKey(k2);
    assert.equal(await stores.countKeysInCustomKeyStore('cks-0000000000000000a'), 0);
    assert.equal(await stores.reserveXksKey({ keyId: k3, customKeyStoreId: 'cks-0000000000000000a', xksKeyId: 'ext-1' }), true);
    await stores.releaseXksKey(k3);
    assert.equal(await stores.getXksKey(k3), undefined);
  });
}

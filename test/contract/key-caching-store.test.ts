import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KeyCachingStore } from '../../src/store/metadata/cached-store.js';
import { SqliteMetadataStore } from '../../src/store/metadata/sqlite/sqlite-store.js';
import { MetadataStore } from '../../src/store/metadata/types.js';
import { metadataStoreContract } from './metadata-store.contract.js';

describe('SQLite metadata store behind the key cache', () => {
  const opened: MetadataStore[] = [];
  after(async () => {
    for (const s of opened) await s.close();
  });
  const open = async () => {
    const s = new KeyCachingStore(SqliteMetadataStore.inDataDir(mkdtempSync(join(tmpdir(), 'sr-cached-'))));
    opened.push(s);
    return s;
  };
  metadataStoreContract(open);

  it('a read after any write sees the write, never the cached record', async () => {
    const s = await open();
    const keyId = '00000000-0000-4000-8000-000000000001';
    const arn = `arn:aws:kms:us-east-1:111122223333:key/${keyId}`;
    await s.createKey(
      { keyId, accountId: '111122223333', region: 'us-east-1', arn, description: 'a', keyState: 'Enabled', keyManager: 'CUSTOMER', createdAt: 1, deletionDate: null, pendingWindowInDays: null, policy: '{}', currentMaterialId: 'm0', rotationEnabled: false, rotationPeriodInDays: null, nextRotationDate: null, onDemandRotationStartDate: null, keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', multiRegion: false, primaryRegion: null },
      { keyId, materialId: 'm0', wrapped: Buffer.from('w'), createdAt: 1, rotationType: null },
      [],
    );
    assert.equal((await s.getKey(keyId))?.description, 'a');
    await s.updateKey(keyId, { description: 'b' });
    assert.equal((await s.getKey(keyId))?.description, 'b');
    await s.addMaterial({ keyId, materialId: 'm1', wrapped: Buffer.from('w'), createdAt: 2, rotationType: 'ON_DEMAND' }, { currentMaterialId: 'm1' });
    assert.equal((await s.getKey(keyId))?.currentMaterialId, 'm1');
    await s.deleteKey(keyId);
    assert.equal(await s.getKey(keyId), undefined);
  });
});

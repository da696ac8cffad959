// Volumes on PostgreSQL with two nodes on one database: chunk maps and sealed segments (blob rows) in
// PostgreSQL, so a volume written through one node reads back through the other; the one-client claim holds
// across nodes; a DisableKey on one node stops an open device on the other.
import { CreateKeyCommand, DisableKeyCommand } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT_KEY_FILE } from '../../../src/core/crypto/root-of-trust/file.js';
import { VolumeIoError } from '../../../src/core/volumes/block-device.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { TestServer, rejection, startServer } from '../../helpers/server.js';
import { attachedVolume, openDevice, readAll } from '../../helpers/volumes.js';

describe('Volumes on PostgreSQL, two nodes on one database', { skip: postgresSkip() }, () => {
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    const databaseUrl = await (await postgresCluster()).createDatabase();
    a = await startServer({ databaseUrl, volumes: { checkEveryMs: 100 } });
    b = await startServer({ databaseUrl, rootOfTrustFile: join(a.dataDir, ROOT_KEY_FILE), volumes: { checkEveryMs: 100 } });
  });
  after(async () => {
    await b?.destroy();
    await a?.destroy();
  });

  it('what one node writes and flushes, the other reads; one open client across the nodes', async () => {
    const kms = a.kms();
    const keyArn = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const v = await attachedVolume(a, { encrypted: true, kmsKeyId: keyArn });
    const data = randomBytes(3 * 65536 + 1000);
    const onA = await openDevice(a, v.volumeId);
    await onA.write(4096 + 17, data, false);
    await onA.flush();
    const refused = await rejection(b.app.volumeExports.open(v.volumeId));
    assert.ok(refused instanceof VolumeIoError && refused.kind === 'shutdown', String(refused));
    await onA.close();
    const onB = await openDevice(b, v.volumeId);
    assert.ok((await readAll(onB, 4096 + 17, data.length)).equals(data));
    await kms.send(new DisableKeyCommand({ KeyId: keyArn }));
    let stopped: unknown;
    for (let i = 0; i < 50 && !stopped; i++) {
      await new Promise((r) => setTimeout(r, 100));
      stopped = await readAll(onB, 0, 512).then(() => undefined, (e: unknown) => e);
    }
    assert.ok(stopped instanceof VolumeIoError && stopped.kind === 'shutdown', `node B's device did not stop: ${String(stopped)}`);
    await onB.close().catch(() => undefined);
  });
});

import { CreateKeyCommand, DisableKeyCommand, RevokeGrantCommand } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlockDevice, VolumeIoError } from '../../../src/core/volumes/block-device.js';
import { EncryptedBlockDevice } from '../../../src/core/volumes/encrypted-device.js';
import { CHUNK_BYTES, RECORD_BYTES } from '../../../src/core/volumes/chunks.js';
import { TestServer, rejection, startServer } from '../../helpers/server.js';
import { kmsForEc2 } from '../../../src/services/ec2/kms-bridge.js';
import { SCOPE, attachedVolume, openDevice, readAll, rootRequest } from '../../helpers/volumes.js';

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

function dirBytes(dir: string): number {
  return files(dir).reduce((n, f) => n + statSync(f).size, 0);
}

/** The segment file (blobs/<ab>/<id>) that holds chunk `index` of `ownerId`. */
async function segmentOf(server: TestServer, ownerId: string, index: number) {
  const ref = (await server.app.volumes.store.chunk(ownerId, index))!;
  return { ref, path: join(server.dataDir, 'blobs', ref.blobId.slice(0, 2), ref.blobId) };
}

/** Waits for the device's background collection (and the compaction it queues) started by earlier flushes. */
function collected(device: BlockDevice): Promise<void> {
  assert.ok(device instanceof EncryptedBlockDevice);
  return device.collected();
}

describe('Volumes at rest: the encrypted BlockDevice the NBD server serves', () => {
  let server: TestServer;
  let cmkArn: string;

  before(async () => {
    server = await startServer({ volumes: { checkEveryMs: 100, leaseTtlMs: 5_000 } });
    cmkArn = (await server.kms().send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  });
  after(() => server.destroy());

  it('reads back writes of any offset and length (read-modify-write inside chunks), unwritten bytes as zeroes', async () => {
    const v = await attachedVolume(server);
    const dev = await openDevice(server, v.volumeId);
    assert.equal(dev.size, 2 ** 30);
    const span = 3 * CHUNK_BYTES + 777;
    const model = Buffer.alloc(span);
    for (let i = 0; i < 300; i++) {
      const offset = Math.floor(Math.random() * (span - 1));
      const length = 1 + Math.floor(Math.random() * Math.min(span - offset, 70_000));
      if (i % 7 === 3) {
        await dev.zero(offset, length, false);
        model.fill(0, offset, offset + length);
      } else {
        const data = randomBytes(length);
        await dev.write(offset, data, i % 11 === 0);
        data.copy(model, offset);
      }
      if (i % 50 === 49) await dev.flush();
    }
    assert.ok((await readAll(dev, 0, span)).equals(model));
    await dev.close();
    const again = await openDevice(server, v.volumeId);
    assert.ok((await readAll(again, 0, span)).equals(model), 'what was flushed (close flushes) reads back after reopening');
    assert.ok((await readAll(again, 2 ** 30 - 4096, 4096)).equals(Buffer.alloc(4096)));
    await assert.rejects(again.read(2 ** 30 - 1, 2), VolumeIoError);
    await again.close();
  });

  it('keeps the order of overlapping write-behind persists: a chunk zeroed or rewritten in the next set while the set before is still being written', async () => {
    const v = await attachedVolume(server);
    const dev = await openDevice(server, v.volumeId);
    const set = 256 * CHUNK_BYTES; // one write-behind set: writing it starts a persist
    const model = Buffer.alloc(3 * set);
    const ops: Promise<unknown>[] = [];
    const write = (at: number, data: Buffer) => {
      data.copy(model, at);
      ops.push(dev.write(at, data, false));
    };
    write(0, randomBytes(set)); // persist 1
    ops.push(dev.zero(0, 2 * CHUNK_BYTES, false)); // chunks persist 1 writes, dropped by persist 2
    model.fill(0, 0, 2 * CHUNK_BYTES);
    write(5 * CHUNK_BYTES, randomBytes(CHUNK_BYTES)); // rewritten in persist 2
    write(7 * CHUNK_BYTES + 100, randomBytes(5000)); // read-modify-write of a chunk persist 1 holds
    write(set, randomBytes(set)); // persist 2, while persist 1 may still be under way
    write(2 * set, randomBytes(set)); // persist 3
    await Promise.all(ops);
    assert.ok((await readAll(dev, 0, model.length)).equals(model), 'reads see the newest write of every chunk');
    await dev.flush();
    await dev.close();
    const again = await openDevice(server, v.volumeId);
    assert.ok((await readAll(again, 0, model.length)).equals(model), 'and so does the volume reopened');
    await again.close();
  });

  it('keeps every write with many requests in flight: reads beside writes, write-behind persists, prefetched read-modify-writes', async () => {
    const v = await attachedVolume(server);
    const dev = await openDevice(server, v.volumeId);
    const span = 600 * CHUNK_BYTES; // more than two write-behind sets of 256 chunks
    const base = randomBytes(span);
    await Promise.all(Array.from({ length: span / (1 << 20) + 1 }, (_, k) => dev.write(k << 20, base.subarray(k << 20, (k + 1) << 20), false)));
    await dev.flush();
    const model = Buffer.from(base);
    const ops: Promise<unknown>[] = [];
    for (let k = 0; k < 2000; k++) {
      const at = Math.floor(Math.random() * (span / 4096)) * 4096;
      if (k % 3 === 0) {
        ops.push(dev.read(at, 4096));
        continue;
      }
      const data = randomBytes(4096);
      data.copy(model, at);
      ops.push(dev.write(at, data, false));
    }
    await Promise.all(ops);
    assert.ok((await readAll(dev, 0, span)).equals(model), 'reads after the writes see all of them');
    await dev.close();
    const again = await openDevice(server, v.volumeId);
    assert.ok((await readAll(again, 0, span)).equals(model), 'and so does the volume reopened');
    await again.close();
  });

  it('never stores the written pattern in the data folder: CMK-encrypted and "unencrypted" volumes alike', async () => {
    const pattern = Buffer.from('STRONGROOM-VOLUME-PLAINTEXT-PATTERN-0123456789');
    const block = Buffer.alloc(4 * CHUNK_BYTES);
    for (let o = 0; o + pattern.length <= block.length; o += pattern.length) pattern.copy(block, o);
    for (const input of [{}, { encrypted: true, kmsKeyId: cmkArn }]) {
      const v = await attachedVolume(server, input);
      const dev = await openDevice(server, v.volumeId);
      await dev.write(12345, block, false);
      await dev.write(5 * CHUNK_BYTES, pattern, true);
      await dev.close();
    }
    await server.app.volumes.store.getServiceKey(); // everything committed
    for (const f of files(server.dataDir)) {
      const bytes = readFileSync(f);
      assert.equal(bytes.indexOf(pattern.subarray(0, 24)), -1, `${f} holds the plaintext pattern`);
    }
  });

  it('detects a tampered, swapped or rolled-back chunk record (VolumeIoError), and fresh nonces on every rewrite', async () => {
    const v = await attachedVolume(server);
    let dev = await openDevice(server, v.volumeId);
    const a = randomBytes(3 * CHUNK_BYTES);
    await dev.write(0, a, false);
    await dev.flush();
    const first = await segmentOf(server, v.volumeId, 0);
    const oldRecord = readFileSync(first.path).subarray(0, RECORD_BYTES);
    // The same bytes written again: a new record with another nonce, in a new segment (copy-on-write).
    await dev.write(0, a, false);
    await dev.flush();
    await dev.close();
    const second = await segmentOf(server, v.volumeId, 0);
    assert.notEqual(second.ref.blobId, first.ref.blobId);
    assert.ok(second.ref.generation > first.ref.generation);
    const newRecord = readFileSync(second.path);
    assert.ok(!newRecord.subarray(0, 12).equals(oldRecord.subarray(0, 12)), 'the nonce of a rewrite is fresh');

    const expectBroken = async (index: number) => {
      const d = await openDevice(server, v.volumeId);
      const err = await rejection(d.read(index * CHUNK_BYTES, 16));
      assert.ok(err instanceof VolumeIoError, String(err));
      assert.match(err.message, /failed authentication/);
      await d.close();
    };
    const pristine = readFileSync(second.path);
    // Rolled back: the chunk's older record (valid once) put back in place of the current one.
    const rolled = Buffer.from(pristine);
    oldRecord.copy(rolled, 0);
    writeFileSync(second.path, rolled);
    await expectBroken(0);
    // Swapped: chunks 0 and 1 exchange records.
    const swapped = Buffer.from(pristine);
    pristine.copy(swapped, 0, RECORD_BYTES, 2 * RECORD_BYTES);
    pristine.copy(swapped, RECORD_BYTES, 0, RECORD_BYTES);
    writeFileSync(second.path, swapped);
    await expectBroken(0);
    await expectBroken(1);
    // Tampered: one bit of chunk 2's ciphertext.
    const flipped = Buffer.from(pristine);
    flipped[2 * RECORD_BYTES + 100]! ^= 1;
    writeFileSync(second.path, flipped);
    await expectBroken(2);
    writeFileSync(second.path, pristine);
    dev = await openDevice(server, v.volumeId);
    assert.ok((await readAll(dev, 0, a.length)).equals(a));
    await dev.close();
  });

  it('compacts a segment left mostly superseded (its few live chunks move on, the segment is freed), but not one a snapshot shares', async () => {
    const v = await attachedVolume(server);
    const dev = await openDevice(server, v.volumeId);
    const first = randomBytes(256 * CHUNK_BYTES);
    await dev.write(0, first, true);
    const old = await segmentOf(server, v.volumeId, 0);
    const second = randomBytes(250 * CHUNK_BYTES);
    await dev.write(0, second, false);
    await dev.flush(); // the 250 chunks; then, in the background, the old segment's 6 live chunks are made dirty again
    await collected(dev);
    await dev.flush(); // … and written out: nothing references the old segment
    await collected(dev);
    const blobs = new Set((await server.app.volumes.store.chunks(v.volumeId)).map((c) => c.blobId));
    assert.ok(!blobs.has(old.ref.blobId), 'the old segment is no longer referenced');
    assert.throws(() => readFileSync(old.path), /ENOENT/);
    const expected = Buffer.concat([second, first.subarray(250 * CHUNK_BYTES)]);
    assert.ok((await readAll(dev, 0, expected.length)).equals(expected));
    // A segment a snapshot shares is left alone (the snapshot needs its records).
    const snap = await server.app.volumes.createSnapshot(SCOPE, v.volumeId, '', {});
    const pinned = await segmentOf(server, v.volumeId, 0);
    await dev.write(0, randomBytes(250 * CHUNK_BYTES), false);
    await dev.flush();
    await collected(dev);
    await dev.flush();
    await collected(dev);
    assert.ok((await server.app.volumes.store.chunks(snap.snapshotId)).some((c) => c.blobId === pinned.ref.blobId));
    readFileSync(pinned.path);
    await dev.close();
    const reopened = await openDevice(server, v.volumeId);
    assert.ok((await readAll(reopened, 250 * CHUNK_BYTES, 6 * CHUNK_BYTES)).equals(first.subarray(250 * CHUNK_BYTES)));
    await reopened.close();
  });

  it('a snapshot holds the writes an open device acknowledged, flushed or not (the device is flushed first)', async () => {
    const v = await attachedVolume(server);
    const dev = await openDevice(server, v.volumeId);
    const data = randomBytes(5000);
    await dev.write(100, data, false);
    const snap = await server.app.volumes.createSnapshot(SCOPE, v.volumeId, '', {});
    await dev.close();
    const copy = await server.app.volumes.createVolume(SCOPE, { availabilityZone: 'us-east-1a', snapshotId: snap.snapshotId }, kmsFor);
    await server.app.volumes.attach(SCOPE, copy.volumeId, 'i-0123456789abcdef3', '/dev/sdj');
    const fromSnap = await openDevice(server, copy.volumeId);
    assert.ok((await readAll(fromSnap, 100, data.length)).equals(data));
    await fromSnap.close();
  });

  it('a device whose volume was detached and deleted under it leaves nothing behind (its last persist is undone)', async () => {
    const v = await attachedVolume(server);
    const dev = await openDevice(server, v.volumeId);
    await dev.write(0, randomBytes(3 * CHUNK_BYTES), false);
    // As a device open on another node that has not looked yet: the detach does not reach it.
    const stopExport = server.app.volumes.stopExport;
    server.app.volumes.stopExport = async () => undefined;
    try {
      await server.app.volumes.detach(SCOPE, v.volumeId, { force: true });
    } finally {
      server.app.volumes.stopExport = stopExport;
    }
    await server.app.volumes.deleteVolume(SCOPE, v.volumeId);
    const err = await rejection(dev.flush());
    assert.ok(err instanceof VolumeIoError && err.kind === 'shutdown', String(err));
    assert.deepEqual(await server.app.volumes.store.chunks(v.volumeId), []);
    assert.deepEqual(await server.app.volumes.store.orphanSegments(v.volumeId), []);
    await dev.close().catch(() => undefined);
  });

  it('a 1 TiB volume costs what is written; unwritten ranges read as zeroes', async () => {
    const v = await attachedVolume(server, { sizeGiB: 1024 });
    const before = dirBytes(server.dataDir);
    const dev = await openDevice(server, v.volumeId);
    assert.equal(dev.size, 2 ** 40);
    const tail = randomBytes(4096);
    await dev.write(2 ** 40 - 4096, tail, false);
    await dev.write(2 ** 39 + 3, Buffer.from('middle'), false);
    await dev.flush();
    assert.ok((await readAll(dev, 2 ** 40 - 4096, 4096)).equals(tail));
    assert.ok((await readAll(dev, 2 ** 38, 1 << 20)).equals(Buffer.alloc(1 << 20)));
    await dev.zero(0, 2 ** 40, true);
    assert.ok((await readAll(dev, 2 ** 40 - 4096, 4096)).equals(Buffer.alloc(4096)));
    await dev.close();
    assert.equal((await server.app.volumes.store.chunks(v.volumeId)).length, 0, 'zeroing whole chunks drops them');
    assert.ok(dirBytes(server.dataDir) - before < 4 << 20, `grew by ${dirBytes(server.dataDir) - before} bytes`);
  });

  it('one open client at a time: a second open is refused until the first closes', async () => {
    const v = await attachedVolume(server);
    const dev = await openDevice(server, v.volumeId);
    const err = await rejection(server.app.volumeExports.open(v.volumeId));
    assert.ok(err instanceof VolumeIoError && err.kind === 'shutdown', String(err));
    assert.ok((await server.app.volumeExports.list()).includes(v.volumeId));
    await dev.close();
    await (await openDevice(server, v.volumeId)).close();
    assert.equal(await server.app.volumeExports.open('vol-0000000000000000f'), undefined, 'an unknown volume is no export');
  });

  it('a disabled CMK stops an open device (VolumeIoError shutdown) and makes open and attach fail', async () => {
    const kms = server.kms();
    const keyArn = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const v = await attachedVolume(server, { encrypted: true, kmsKeyId: keyArn });
    const spare = await server.app.volumes.createVolume(SCOPE, { availabilityZone: 'us-east-1a', sizeGiB: 1, encrypted: true, kmsKeyId: keyArn }, (region) =>
      kmsFor(region),
    );
    const dev = await openDevice(server, v.volumeId);
    await dev.write(0, Buffer.from('before the key was disabled'), true);
    await kms.send(new DisableKeyCommand({ KeyId: keyArn }));
    await new Promise((r) => setTimeout(r, 250));
    const err = await rejection(dev.write(0, Buffer.from('after'), false));
    assert.ok(err instanceof VolumeIoError && err.kind === 'shutdown', String(err));
    assert.match(err.message, /disabled/);
    await dev.close().catch(() => undefined);
    assert.ok((await rejection(server.app.volumeExports.open(v.volumeId))) instanceof VolumeIoError);
    const attach = await rejection(server.app.volumes.attach(SCOPE, spare.volumeId, 'i-0123456789abcdef0', '/dev/sdg'));
    assert.equal((attach as { code?: string }).code, 'InvalidKMSKey.InvalidState');
  });

  it("revoking EBS's grant on the CMK stops an open device too", async () => {
    const kms = server.kms();
    const keyArn = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const v = await attachedVolume(server, { encrypted: true, kmsKeyId: keyArn });
    const dev = await openDevice(server, v.volumeId);
    await dev.write(0, Buffer.from('before the grant was revoked'), true);
    await kms.send(new RevokeGrantCommand({ KeyId: keyArn, GrantId: v.grantId! }));
    await new Promise((r) => setTimeout(r, 250));
    const err = await rejection(dev.read(0, 16));
    assert.ok(err instanceof VolumeIoError && err.kind === 'shutdown', String(err));
    assert.match(err.message, /grant/);
    await dev.close().catch(() => undefined);
  });

  function kmsFor(region: string) {
    return kmsForEc2(server.app.kmsClient, rootRequest(region), region);
  }
});

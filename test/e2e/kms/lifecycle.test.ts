import {
  CreateAliasCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, DisableKeyCommand, DisableKeyRotationCommand,
  EnableKeyCommand, EnableKeyRotationCommand, EncryptCommand, GetKeyRotationStatusCommand, ListAliasesCommand,
  ListKeyRotationsCommand, ListKeysCommand, RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DAY_MS, ManualClock } from '../../../src/core/clock.js';
import { rejection, startServer } from '../../helpers/server.js';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

describe('key lifecycle: rotation, deletion windows and restarts (injected clock)', () => {
  it('automatic rotation adds key material when the period elapses; old ciphertext still decrypts; the key id stays', async () => {
    const clock = new ManualClock();
    const server = await startServer({ clock });
    try {
      const kms = server.kms();
      const md = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      const before = await kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: text('old') }));
      for (const days of [89, 2561]) {
        const err = await rejection(kms.send(new EnableKeyRotationCommand({ KeyId: md.KeyId, RotationPeriodInDays: days })));
        assert.equal(err.name, 'ValidationException', `period ${days}`);
      }
      await kms.send(new EnableKeyRotationCommand({ KeyId: md.KeyId, RotationPeriodInDays: 90 }));
      const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: md.KeyId }));
      assert.equal(status.KeyRotationEnabled, true);
      assert.equal(status.RotationPeriodInDays, 90);
      assert.ok(Math.abs(status.NextRotationDate!.getTime() - (clock.now() + 90 * DAY_MS)) < 60_000);
      assert.deepEqual((await kms.send(new ListKeyRotationsCommand({ KeyId: md.KeyId }))).Rotations, []);

      clock.advance(91 * DAY_MS);
      const afterEnc = await kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: text('new') }));
      const rotations = (await kms.send(new ListKeyRotationsCommand({ KeyId: md.KeyId }))).Rotations!;
      assert.equal(rotations.length, 1);
      assert.equal(rotations[0]!.RotationType, 'AUTOMATIC');
      assert.equal(rotations[0]!.KeyId, md.KeyId);
      // The two ciphertexts were made under different key materials of the same key.
      const d1 = await kms.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }));
      const d2 = await kms.send(new DecryptCommand({ CiphertextBlob: afterEnc.CiphertextBlob }));
      assert.equal(str(d1.Plaintext), 'old');
      assert.equal(str(d2.Plaintext), 'new');
      assert.notEqual(d1.KeyMaterialId, d2.KeyMaterialId);
      assert.equal(d1.KeyId, d2.KeyId);
      const next = (await kms.send(new GetKeyRotationStatusCommand({ KeyId: md.KeyId }))).NextRotationDate!;
      assert.ok(Math.abs(next.getTime() - (clock.now() + 90 * DAY_MS)) < 60_000);

      await kms.send(new DisableKeyRotationCommand({ KeyId: md.KeyId }));
      clock.advance(200 * DAY_MS);
      await kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: text('x') }));
      assert.equal((await kms.send(new ListKeyRotationsCommand({ KeyId: md.KeyId }))).Rotations!.length, 1);
      assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: md.KeyId }))).KeyRotationEnabled, false);
    } finally {
      await server.destroy();
    }
  });

  it('a disabled key is not rotated; rotation operations on it are DisabledException', async () => {
    const clock = new ManualClock();
    const server = await startServer({ clock });
    try {
      const kms = server.kms();
      const k = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await kms.send(new EnableKeyRotationCommand({ KeyId: k, RotationPeriodInDays: 90 }));
      await kms.send(new DisableKeyCommand({ KeyId: k }));
      clock.advance(100 * DAY_MS);
      await server.app.kms.lifecycle.sweep();
      assert.deepEqual((await kms.send(new ListKeyRotationsCommand({ KeyId: k }))).Rotations, []);
      assert.equal((await rejection(kms.send(new RotateKeyOnDemandCommand({ KeyId: k })))).name, 'DisabledException');
      await kms.send(new EnableKeyCommand({ KeyId: k }));
      // Re-enabled past its date: rotated on first use, as AWS does.
      assert.equal((await kms.send(new ListKeyRotationsCommand({ KeyId: k }))).Rotations!.length, 1);
    } finally {
      await server.destroy();
    }
  });

  it('RotateKeyOnDemand rotates now, keeps the schedule, lists ON_DEMAND, and stops at 25', async () => {
    const server = await startServer();
    try {
      const kms = server.kms();
      const k = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const enc = await kms.send(new EncryptCommand({ KeyId: k, Plaintext: text('before on-demand') }));
      const r = await kms.send(new RotateKeyOnDemandCommand({ KeyId: k }));
      assert.match(r.KeyId!, /^arn:aws:kms:us-east-1:\d{12}:key\//);
      const list = (await kms.send(new ListKeyRotationsCommand({ KeyId: k }))).Rotations!;
      assert.deepEqual(list.map((x) => x.RotationType), ['ON_DEMAND']);
      assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: k }))).KeyRotationEnabled, false);
      assert.equal(str((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext), 'before on-demand');
      for (let i = 1; i < 25; i++) await kms.send(new RotateKeyOnDemandCommand({ KeyId: k }));
      assert.equal((await rejection(kms.send(new RotateKeyOnDemandCommand({ KeyId: k })))).name, 'LimitExceededException');
      const page = await kms.send(new ListKeyRotationsCommand({ KeyId: k, Limit: 10 }));
      assert.equal(page.Rotations!.length, 10);
      assert.equal(page.Truncated, true);
      const all = await kms.send(new ListKeyRotationsCommand({ KeyId: k, IncludeKeyMaterial: 'ALL_KEY_MATERIAL', Limit: 1000 }));
      assert.equal(all.Rotations!.length, 26);
      assert.equal(all.Rotations!.filter((x) => x.KeyMaterialState === 'CURRENT').length, 1);
      assert.equal(str((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext), 'before on-demand');
    } finally {
      await server.destroy();
    }
  });

  it('deletion really happens when the window ends: the key, its aliases and its ciphertexts are gone', async () => {
    const clock = new ManualClock();
    const server = await startServer({ clock });
    try {
      const kms = server.kms();
      const lazy = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      const swept = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      const keep = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/doomed', TargetKeyId: lazy.KeyId }));
      const enc = await kms.send(new EncryptCommand({ KeyId: lazy.KeyId, Plaintext: text('doomed') }));
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: lazy.KeyId, PendingWindowInDays: 7 }));
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: swept.KeyId, PendingWindowInDays: 30 }));

      clock.advance(6 * DAY_MS);
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: lazy.KeyId }))).KeyMetadata!.KeyState, 'PendingDeletion');
      clock.advance(1 * DAY_MS + 1000);
      // Read after the date: gone.
      assert.equal((await rejection(kms.send(new DescribeKeyCommand({ KeyId: lazy.KeyId })))).name, 'NotFoundException');
      assert.equal((await rejection(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })))).name, 'InvalidCiphertextException');
      assert.deepEqual((await kms.send(new ListAliasesCommand({}))).Aliases!.filter((a) => a.AliasName === 'alias/doomed'), []);

      clock.advance(24 * DAY_MS);
      // Nobody reads `swept`: the periodic sweep deletes it.
      assert.equal(await server.app.kms.lifecycle.sweep(), 1);
      const ids = (await kms.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId);
      assert.deepEqual(ids, [keep.KeyId]);
      assert.equal(await server.app.kms.deps.store.getKey(swept.KeyId!), undefined);
    } finally {
      await server.destroy();
    }
  });

  it('a restart on the same data dir keeps keys, aliases, materials and rotation state', async () => {
    const first = await startServer();
    let enc;
    let keyId;
    try {
      const kms = first.kms();
      keyId = (await kms.send(new CreateKeyCommand({ Description: 'durable' }))).KeyMetadata!.KeyId!;
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/durable', TargetKeyId: keyId }));
      await kms.send(new EnableKeyRotationCommand({ KeyId: keyId }));
      await kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
      enc = await kms.send(new EncryptCommand({ KeyId: 'alias/durable', Plaintext: text('survives'), EncryptionContext: { a: 'b' } }));
    } finally {
      await first.stop();
    }
    const second = await startServer({ dataDir: first.dataDir });
    try {
      const kms = second.kms();
      const d = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: 'b' } }));
      assert.equal(str(d.Plaintext), 'survives');
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/durable' }))).KeyMetadata!.Description, 'durable');
      assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled, true);
      assert.equal((await kms.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations!.length, 1);
    } finally {
      await second.destroy();
    }
  });
});

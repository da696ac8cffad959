import {
  CreateAliasCommand, CreateKeyCommand, DecryptCommand, EnableKeyRotationCommand, EncryptCommand, GenerateDataKeyCommand,
  ListKeyRotationsCommand, ListKeysCommand,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { DAY_MS, ManualClock } from '../../../src/core/clock.js';
import { startServer } from '../../helpers/server.js';

describe('many clients at once', () => {
  it('20 clients × 40 mixed calls in parallel: every call succeeds and every ciphertext decrypts to its plaintext', async () => {
    const server = await startServer();
    try {
      const admin = server.kms();
      const keyId = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await admin.send(new CreateAliasCommand({ AliasName: 'alias/shared', TargetKeyId: keyId }));
      const created: string[] = [];
      await Promise.all(
        Array.from({ length: 20 }, async (_, c) => {
          const kms = server.kms();
          for (let i = 0; i < 40; i++) {
            const plain = randomBytes(1 + ((c * 40 + i) % 300));
            const ctx = { client: String(c), call: String(i) };
            if (i % 10 === 9) {
              created.push((await kms.send(new CreateKeyCommand({ Description: `c${c}` }))).KeyMetadata!.KeyId!);
            } else if (i % 3 === 0) {
              const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: 'alias/shared', KeySpec: 'AES_256', EncryptionContext: ctx }));
              const back = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ctx }));
              assert.deepEqual(Buffer.from(back.Plaintext!), Buffer.from(dk.Plaintext!));
            } else {
              const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plain, EncryptionContext: ctx }));
              const back = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx }));
              assert.deepEqual(Buffer.from(back.Plaintext!), plain);
            }
          }
        }),
      );
      const listed = new Set((await admin.send(new ListKeysCommand({ Limit: 1000 }))).Keys!.map((k) => k.KeyId));
      assert.equal(created.length, 80);
      for (const id of created) assert.ok(listed.has(id));
    } finally {
      await server.destroy();
    }
  });

  it('a rotation that falls due under concurrent load happens exactly once', async () => {
    const clock = new ManualClock();
    const server = await startServer({ clock });
    try {
      const kms = server.kms();
      const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await kms.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 }));
      clock.advance(91 * DAY_MS);
      const results = await Promise.all(
        Array.from({ length: 50 }, () => kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('race') }))),
      );
      assert.equal(results.length, 50);
      assert.equal((await kms.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations!.length, 1);
    } finally {
      await server.destroy();
    }
  });
});

import {
  DecryptCommand, EncryptCommand, GenerateDataKeyCommand, GenerateDataKeyWithoutPlaintextCommand, GenerateRandomCommand,
  KMSClient, ReEncryptCommand, CreateKeyCommand, CreateAliasCommand, DisableKeyCommand, EnableKeyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestServer, rejection, startServer } from '../../helpers/server.js';

const text = (s: string) => new TextEncoder().encode(s);

describe('KMS cryptographic operations over HTTP with @aws-sdk/client-kms', () => {
  let server: TestServer;
  let kms: KMSClient;
  let keyId: string;
  let keyArn: string;

  before(async () => {
    server = await startServer();
    kms = server.kms();
    const created = await kms.send(new CreateKeyCommand({ Description: 'crypto tests' }));
    keyId = created.KeyMetadata!.KeyId!;
    keyArn = created.KeyMetadata!.Arn!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/crypto', TargetKeyId: keyId }));
  });
  after(() => server.destroy());

  it('encrypts and decrypts with the key named by id, ARN, alias name and alias ARN', async () => {
    for (const ref of [keyId, keyArn, 'alias/crypto', `arn:aws:kms:us-east-1:111122223333:alias/crypto`]) {
      const enc = await kms.send(new EncryptCommand({ KeyId: ref, Plaintext: text(`hello ${ref}`) }));
      assert.equal(enc.KeyId, keyArn);
      assert.equal(enc.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
      const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
      assert.equal(new TextDecoder().decode(dec.Plaintext), `hello ${ref}`);
      assert.equal(dec.KeyId, keyArn);
    }
  });

  it('binds the encryption context: same pairs in any order decrypt, anything else is InvalidCiphertextException', async () => {
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('ctx'), EncryptionContext: { dept: 'hr', app: 'payroll' } }));
    const ok = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { app: 'payroll', dept: 'hr' } }));
    assert.equal(new TextDecoder().decode(ok.Plaintext), 'ctx');
    const wrong: (Record<string, string> | undefined)[] = [undefined, { dept: 'hr' }, { dept: 'HR', app: 'payroll' }, { dept: 'hr', app: 'payroll', x: '' }];
    for (const ctx of wrong) {
      const err = await rejection(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, ...(ctx ? { EncryptionContext: ctx } : {}) })));
      assert.equal(err.name, 'InvalidCiphertextException');
      assert.equal(err.$metadata?.httpStatusCode, 400);
    }
  });

  it('Decrypt with the KeyId of another key is IncorrectKeyException', async () => {
    const other = await kms.send(new CreateKeyCommand({}));
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('x') }));
    const err = await rejection(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: other.KeyMetadata!.KeyId })));
    assert.equal(err.name, 'IncorrectKeyException');
    const ok = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: 'alias/crypto' }));
    assert.equal(ok.KeyId, keyArn);
  });

  it('refuses plaintext over 4096 bytes with ValidationException and accepts exactly 4096', async () => {
    const err = await rejection(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(4097) })));
    assert.equal(err.name, 'ValidationException');
    assert.match(err.message, /Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096/);
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(4096).fill(7) }));
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
    assert.deepEqual(Buffer.from(dec.Plaintext!), Buffer.alloc(4096, 7));
  });

  it('gives InvalidCiphertextException for any flipped bit, truncation or extension of a ciphertext', async () => {
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('tamper me') }));
    const blob = Buffer.from(enc.CiphertextBlob!);
    const variants: Buffer[] = [];
    for (let i = 0; i < blob.length; i++) {
      const b = Buffer.from(blob);
      b[i]! ^= 1 << i % 8;
      variants.push(b);
    }
    variants.push(blob.subarray(0, blob.length - 1), blob.subarray(0, 10), Buffer.concat([blob, Buffer.of(0)]), Buffer.from('garbage'));
    for (const v of variants) {
      const err = await rejection(kms.send(new DecryptCommand({ CiphertextBlob: v })));
      assert.equal(err.name, 'InvalidCiphertextException', `variant of length ${v.length}`);
    }
  });

  it('GenerateDataKey returns a plaintext key and its ciphertext; Decrypt gives the same key back', async () => {
    for (const [params, bytes] of [[{ KeySpec: 'AES_256' as const }, 32], [{ KeySpec: 'AES_128' as const }, 16], [{ NumberOfBytes: 64 }, 64]] as const) {
      const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: 'alias/crypto', ...params, EncryptionContext: { purpose: 'dk' } }));
      assert.equal(dk.Plaintext!.length, bytes);
      assert.equal(dk.KeyId, keyArn);
      const dec = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { purpose: 'dk' } }));
      assert.deepEqual(Buffer.from(dec.Plaintext!), Buffer.from(dk.Plaintext!));
    }
    const noPlain = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    assert.equal((noPlain as { Plaintext?: unknown }).Plaintext, undefined);
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: noPlain.CiphertextBlob }));
    assert.equal(dec.Plaintext!.length, 32);
  });

  it('GenerateDataKey needs exactly one of KeySpec and NumberOfBytes', async () => {
    for (const params of [{}, { KeySpec: 'AES_256' as const, NumberOfBytes: 32 }]) {
      const err = await rejection(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, ...params })));
      assert.equal(err.name, 'ValidationException');
    }
    const err = await rejection(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 1025 })));
    assert.equal(err.name, 'ValidationException');
  });

  it('GenerateRandom returns fresh bytes of the asked length (1–1024)', async () => {
    const a = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 1024 }));
    const b = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 1024 }));
    assert.equal(a.Plaintext!.length, 1024);
    assert.notDeepEqual(Buffer.from(a.Plaintext!), Buffer.from(b.Plaintext!));
    assert.equal((await rejection(kms.send(new GenerateRandomCommand({ NumberOfBytes: 0 })))).name, 'ValidationException');
  });

  it('ReEncrypt moves a ciphertext to another key and context without exposing the plaintext', async () => {
    const dest = await kms.send(new CreateKeyCommand({ Description: 'dest' }));
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('move me'), EncryptionContext: { a: '1' } }));
    const re = await kms.send(new ReEncryptCommand({
      CiphertextBlob: enc.CiphertextBlob,
      SourceEncryptionContext: { a: '1' },
      DestinationKeyId: dest.KeyMetadata!.KeyId,
      DestinationEncryptionContext: { b: '2' },
    }));
    assert.equal(re.SourceKeyId, keyArn);
    assert.equal(re.KeyId, dest.KeyMetadata!.Arn);
    assert.equal((re as { Plaintext?: unknown }).Plaintext, undefined);
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: { b: '2' } }));
    assert.equal(new TextDecoder().decode(dec.Plaintext), 'move me');
    assert.equal(dec.KeyId, dest.KeyMetadata!.Arn);
    const wrong = await rejection(kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: keyId })));
    assert.equal(wrong.name, 'InvalidCiphertextException');
  });

  it('a disabled key refuses crypto with DisabledException; a key pending deletion with KMSInvalidStateException', async () => {
    const k = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const enc = await kms.send(new EncryptCommand({ KeyId: k, Plaintext: text('state') }));
    await kms.send(new DisableKeyCommand({ KeyId: k }));
    for (const call of [
      kms.send(new EncryptCommand({ KeyId: k, Plaintext: text('x') })),
      kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })),
      kms.send(new GenerateDataKeyCommand({ KeyId: k, KeySpec: 'AES_256' })),
    ]) {
      const err = await rejection(call);
      assert.equal(err.name, 'DisabledException');
      assert.match(err.message, /is disabled/);
    }
    await kms.send(new EnableKeyCommand({ KeyId: k }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k, PendingWindowInDays: 7 }));
    const err = await rejection(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })));
    assert.equal(err.name, 'KMSInvalidStateException');
    assert.match(err.message, /pending deletion/);
  });

  it('DryRun answers DryRunOperationException (412) after checking the request', async () => {
    const err = await rejection(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('x'), DryRun: true })));
    assert.equal(err.name, 'DryRunOperationException');
    assert.equal(err.$metadata?.httpStatusCode, 412);
    const missing = await rejection(kms.send(new EncryptCommand({ KeyId: 'alias/nope', Plaintext: text('x'), DryRun: true })));
    assert.equal(missing.name, 'NotFoundException');
  });
});

/**
 * Issue 9, item 4: one request must not freeze every tenant. A 30 KB key policy with a long StringLike
 * pattern against a 400 KB encryption-context value held the event loop for 88 s. Now an encryption context
 * is bounded wherever a request carries one (KMS's EncryptionContext members and grant constraints, S3's
 * x-amz-server-side-encryption-context header), and policy evaluation is bounded whatever the policy.
 */
import {
  CreateGrantCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand, KMSClient, PutKeyPolicyCommand, ReEncryptCommand,
} from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENCRYPTION_CONTEXT_MAX_BYTES } from '../../../src/core/crypto/encryption-context.js';
import { TEST_ACCOUNT, TestServer, rejection, startServer } from '../../helpers/server.js';

const ROOT = `arn:aws:iam::${TEST_ACCOUNT}:root`;
const LIMIT = ENCRYPTION_CONTEXT_MAX_BYTES;
/** A context of exactly `bytes` bytes of keys and values, one pair; the value is easy to look for. */
const contextOf = (bytes: number, fill = 'Q'): Record<string, string> => ({ k: fill.repeat(bytes - 1) });

describe('encryption context size and policy evaluation cost are bounded', () => {
  let server: TestServer;
  let kms: KMSClient;
  let s3: S3Client;
  let keyId: string;

  before(async () => {
    server = await startServer();
    kms = server.kms();
    s3 = server.s3();
    keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  });
  after(async () => {
    await server.destroy();
  });

  const validation = async (p: Promise<unknown>, member: string) => {
    const err = await rejection(p);
    assert.equal(err.name, 'ValidationException', err.message);
    assert.equal(err.$metadata?.httpStatusCode, 400);
    assert.match(err.message, new RegExp(`Value at '${member}' failed to satisfy constraint: Member must have a total size of keys and values less than or equal to ${LIMIT} bytes`));
    assert.ok(!err.message.includes('QQQQ'), 'the context is not echoed');
  };

  it(`every KMS operation that takes an encryption context accepts ${LIMIT} bytes and refuses one more (ValidationException)`, async () => {
    const ok = contextOf(LIMIT);
    const tooBig = contextOf(LIMIT + 1);
    const blob = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x'), EncryptionContext: ok }))).CiphertextBlob!;
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ok }))).Plaintext!).toString(), 'x');

    await validation(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x'), EncryptionContext: tooBig })), 'encryptionContext');
    await validation(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: tooBig })), 'encryptionContext');
    await validation(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: tooBig })), 'encryptionContext');
    await validation(kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: tooBig })), 'encryptionContext');
    await validation(kms.send(new ReEncryptCommand({ CiphertextBlob: blob, SourceEncryptionContext: tooBig, DestinationKeyId: keyId })), 'sourceEncryptionContext');
    await validation(kms.send(new ReEncryptCommand({ CiphertextBlob: blob, SourceEncryptionContext: ok, DestinationKeyId: keyId, DestinationEncryptionContext: tooBig })), 'destinationEncryptionContext');
    // Counted in UTF-8 bytes, keys included: 8,192 "é" are 16,384 bytes.
    await validation(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x'), EncryptionContext: { ['Q'.repeat(LIMIT / 2)]: 'é'.repeat(LIMIT / 4 + 1) } })), 'encryptionContext');
    // Grant constraints: the documented 8 pairs of at most 384-character values leave the keys, which are bounded too.
    await validation(
      kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: ROOT, Operations: ['Decrypt'], Constraints: { EncryptionContextSubset: { ['Q'.repeat(LIMIT)]: 'v' } } })),
      'constraints.encryptionContextSubset',
    );
  });

  it('the issue case: a 400 KB encryption context is refused at once, before any policy sees it', async () => {
    const started = Date.now();
    await validation(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x'), EncryptionContext: contextOf(400_000) })), 'encryptionContext');
    assert.ok(Date.now() - started < 5_000);
  });

  it(`S3 refuses an x-amz-server-side-encryption-context of more than ${LIMIT} bytes with InvalidArgument, and stores nothing`, async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bounded' }));
    const header = (ctx: Record<string, string>) => Buffer.from(JSON.stringify(ctx)).toString('base64');
    // aws:s3:arn, which S3 adds, counts against the same bound at KMS; leave it room.
    await s3.send(new PutObjectCommand({ Bucket: 'bounded', Key: 'ok', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId, SSEKMSEncryptionContext: header(contextOf(LIMIT - 100)) }));
    const err = await rejection(
      s3.send(new PutObjectCommand({ Bucket: 'bounded', Key: 'big', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId, SSEKMSEncryptionContext: header(contextOf(LIMIT + 1)) })),
    );
    assert.equal(err.name, 'InvalidArgument', err.message);
    assert.equal(err.$metadata?.httpStatusCode, 400);
    assert.ok(!err.message.includes('QQQQ'));
    assert.equal((await rejection(s3.send(new GetObjectCommand({ Bucket: 'bounded', Key: 'big' })))).name, 'NoSuchKey');
  });

  it('an adversarial 32 KB key policy against a maximal context answers quickly, fails closed, and does not hold up other calls', async () => {
    const adversary = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const bystander = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    // The default statement first (so the policy keeps its admin), then Deny statements with long "?"
    // patterns that the old matcher took O(pattern × value) to reject.
    const statements: object[] = [{ Sid: 'Enable IAM policies', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' }];
    const policy = () => JSON.stringify({ Version: '2012-10-17', Statement: statements });
    for (let i = 0; ; i++) {
      statements.push({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:Encrypt', Resource: '*', Condition: { StringLike: { 'kms:EncryptionContext:k': `*${'Q'.repeat(1000)}?${i}*` } } });
      if (Buffer.byteLength(policy()) > 32_768) {
        statements.pop();
        break;
      }
    }
    await kms.send(new PutKeyPolicyCommand({ KeyId: adversary, PolicyName: 'default', Policy: policy() }));

    const timedCall = async <T>(p: Promise<T>): Promise<{ ms: number; result: T | Error }> => {
      const started = performance.now();
      const result = await p.catch((e: Error) => e);
      return { ms: performance.now() - started, result };
    };
    const attack = () => kms.send(new EncryptCommand({ KeyId: adversary, Plaintext: Buffer.from('x'), EncryptionContext: contextOf(LIMIT) }));
    // Several attacking requests in flight, and meanwhile another caller's ordinary calls.
    const attacks = Array.from({ length: 4 }, () => timedCall(attack()));
    const others = Array.from({ length: 4 }, () => timedCall(kms.send(new DescribeKeyCommand({ KeyId: bystander }))));
    const [a, o] = [await Promise.all(attacks), await Promise.all(others)];
    for (const { ms, result } of a) {
      assert.ok(result instanceof Error && result.name === 'AccessDeniedException', String(result));
      assert.match((result as Error).message, /exceeded the policy evaluation work limit/);
      assert.ok(ms < 2_000, `the attacking call took ${ms.toFixed(0)} ms`);
    }
    for (const { ms, result } of o) {
      assert.ok(!(result instanceof Error), String(result));
      assert.ok(ms < 2_000, `a bystander's call took ${ms.toFixed(0)} ms`);
    }
    // A context the Deny patterns are quick to rule out is evaluated in full: the Allow applies.
    await kms.send(new EncryptCommand({ KeyId: adversary, Plaintext: Buffer.from('x'), EncryptionContext: { k: 'short' } }));
  });
});

// The AWS Encryption SDK for JavaScript (@aws-crypto/client-node v5) with KMS keyrings whose clients talk to a real
// in-process Strongroom server: envelope encryption of large messages, where every data key is generated,
// wrapped and unwrapped by Strongroom (GenerateDataKey, Encrypt, Decrypt with the message's encryption context).
import {
  AlgorithmSuiteIdentifier, CommitmentPolicy, KmsKeyringNode, KmsNodeClientSupplier, MessageHeader, buildClient,
} from '@aws-crypto/client-node';
import { CreateKeyCommand, DecryptCommand, DisableKeyCommand, KMS, KMSClient } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

const MIB = 1024 * 1024;
const PUBLIC_KEY_CONTEXT = 'aws-crypto-public-key';

const { encrypt, decrypt, encryptStream, decryptStream, decryptUnsignedMessageStream } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

/** One KMS call the SDK made through our client provider. */
interface KmsCall {
  op: 'GenerateDataKey' | 'Encrypt' | 'Decrypt';
  keyId: string | undefined;
  context: Record<string, string> | undefined;
}

/** Pipes `input`, in 64 KiB chunks, through an SDK stream and returns everything it produced. */
async function through(input: Buffer, stream: Duplex, onHeader?: (h: MessageHeader) => void): Promise<Buffer> {
  if (onHeader) stream.once('MessageHeader', onHeader);
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i += 64 * 1024) chunks.push(input.subarray(i, i + 64 * 1024));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    stream,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

describe('AWS Encryption SDK (client-node v5) with KMS keyrings on Strongroom', () => {
  let server: TestServer;
  let admin: KMSClient;
  const sdkClients: KMS[] = [];
  const calls: KmsCall[] = [];
  const regionsAsked: string[] = [];
  let arnA: string;
  let arnB: string;
  let arnC: string;

  /** What the keyrings use instead of real AWS: an @aws-sdk/client-kms KMS client on our server, recording each call. */
  const clientProvider: KmsNodeClientSupplier = (region: string) => {
    regionsAsked.push(region);
    const kms = new KMS({ endpoint: server.url, region: region || TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    sdkClients.push(kms);
    return {
      generateDataKey: (args) => {
        calls.push({ op: 'GenerateDataKey', keyId: args.KeyId, context: args.EncryptionContext });
        return kms.generateDataKey(args);
      },
      encrypt: (args) => {
        calls.push({ op: 'Encrypt', keyId: args.KeyId, context: args.EncryptionContext });
        return kms.encrypt(args);
      },
      decrypt: (args) => {
        calls.push({ op: 'Decrypt', keyId: args.KeyId, context: args.EncryptionContext });
        return kms.decrypt(args);
      },
    };
  };
  const keyring = (generatorKeyId: string, keyIds: string[] = []) => new KmsKeyringNode({ clientProvider, generatorKeyId, keyIds });
  /** The calls made by `fn`. */
  const callsOf = async <T>(fn: () => Promise<T>): Promise<{ value: T; calls: KmsCall[] }> => {
    const start = calls.length;
    const value = await fn();
    return { value, calls: calls.slice(start) };
  };
  const newKey = async (description: string) => (await admin.send(new CreateKeyCommand({ Description: description }))).KeyMetadata!.Arn!;

  const message = randomBytes(10 * MIB);
  const context = { dept: 'hr', purpose: 'esdk e2e', 'unicode-ключ': 'значение ✓' };
  let ciphertext: Buffer;
  let header: MessageHeader;

  before(async () => {
    server = await startServer();
    admin = server.kms();
    [arnA, arnB, arnC] = [await newKey('esdk A'), await newKey('esdk B'), await newKey('esdk C')];
  });
  after(async () => {
    for (const c of sdkClients) c.destroy();
    await server.destroy();
  });

  it('encrypts 10 MiB under key A with one GenerateDataKey call that carries the encryption context', async () => {
    const { value, calls: made } = await callsOf(() => encrypt(keyring(arnA), message, { encryptionContext: context }));
    ciphertext = value.result;
    header = value.messageHeader;
    assert.ok(ciphertext.length > message.length);
    // Default suite under REQUIRE_ENCRYPT_REQUIRE_DECRYPT: key-committing and signed, so the SDK adds its public key to the context.
    assert.equal(header.suiteId, AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384);
    assert.equal(typeof header.encryptionContext[PUBLIC_KEY_CONTEXT], 'string');
    assert.deepEqual(header.encryptedDataKeys.map((k) => [k.providerId, k.providerInfo]), [['aws-kms', arnA]]);
    assert.equal(made.length, 1);
    assert.equal(made[0]!.op, 'GenerateDataKey');
    assert.equal(made[0]!.keyId, arnA);
    assert.deepEqual({ ...made[0]!.context }, { ...header.encryptionContext });
    assert.ok(regionsAsked.every((r) => r === TEST_REGION), `regions from key ARNs: ${regionsAsked.join(', ')}`);
  });

  it('decrypts it byte-identically with key A via one Decrypt call, and the header gives the encryption context back', async () => {
    const { value, calls: made } = await callsOf(() => decrypt(keyring(arnA), ciphertext));
    assert.equal(value.plaintext.length, message.length);
    assert.ok(value.plaintext.equals(message), 'round trip is byte-identical');
    const ec = value.messageHeader.encryptionContext;
    for (const [k, v] of Object.entries(context)) assert.equal(ec[k], v, `context ${k}`);
    assert.deepEqual(Object.keys(ec).sort(), [...Object.keys(context), PUBLIC_KEY_CONTEXT].sort());
    assert.deepEqual(made.map((c) => [c.op, c.keyId]), [['Decrypt', arnA]]);
    assert.deepEqual({ ...made[0]!.context }, { ...ec });
  });

  it('the encrypted data key in the message is a Strongroom ciphertext under A, bound to the message context', async () => {
    const edk = header.encryptedDataKeys[0]!.encryptedDataKey;
    const ok = await admin.send(new DecryptCommand({ CiphertextBlob: edk, EncryptionContext: { ...header.encryptionContext } }));
    assert.equal(ok.KeyId, arnA);
    assert.equal(ok.Plaintext!.length, 32, 'AES-256 data key');
    const { [PUBLIC_KEY_CONTEXT]: _dropped, ...withoutPublicKey } = header.encryptionContext;
    for (const ctx of [undefined, withoutPublicKey, { ...header.encryptionContext, dept: 'finance' }]) {
      const err = await rejection(admin.send(new DecryptCommand({ CiphertextBlob: edk, ...(ctx ? { EncryptionContext: ctx } : {}) })));
      assert.equal(err.name, 'InvalidCiphertextException');
    }
    const wrongKey = await rejection(admin.send(new DecryptCommand({ CiphertextBlob: edk, KeyId: arnC, EncryptionContext: { ...header.encryptionContext } })));
    assert.equal(wrongKey.name, 'IncorrectKeyException');
  });

  it('a keyring for another of our keys (C) cannot decrypt the message: no data key is wrapped under C', async () => {
    const { value: err, calls: made } = await callsOf(() => rejection(decrypt(keyring(arnC), ciphertext)));
    assert.match(err.message, /unencryptedDataKey has not been set/);
    assert.deepEqual(made, [], 'the keyring never asks KMS about EDKs of keys it was not given');
  });

  it('a multi-key keyring wraps the data key under A (GenerateDataKey) and B (Encrypt); a keyring with only B decrypts', async () => {
    const small = randomBytes(MIB + 17);
    const enc = await callsOf(() => encrypt(keyring(arnA, [arnB]), small, { encryptionContext: { tenant: 'b' } }));
    assert.deepEqual(enc.calls.map((c) => [c.op, c.keyId]), [['GenerateDataKey', arnA], ['Encrypt', arnB]]);
    assert.deepEqual({ ...enc.calls[1]!.context }, { ...enc.value.messageHeader.encryptionContext });
    assert.deepEqual(enc.value.messageHeader.encryptedDataKeys.map((k) => k.providerInfo), [arnA, arnB]);
    const dec = await callsOf(() => decrypt(keyring(arnB), enc.value.result));
    assert.ok(dec.value.plaintext.equals(small));
    assert.equal(dec.value.messageHeader.encryptionContext.tenant, 'b');
    assert.deepEqual(dec.calls.map((c) => [c.op, c.keyId]), [['Decrypt', arnB]]);
  });

  it('when the generator key is disabled, its DisabledException surfaces and the keyring falls back to the other key', async () => {
    const [d, e] = [await newKey('esdk D'), await newKey('esdk E')];
    const small = randomBytes(4096);
    const { result } = await encrypt(keyring(d, [e]), small, { encryptionContext: { k: 'v' } });
    await admin.send(new DisableKeyCommand({ KeyId: d }));
    const both = await callsOf(() => decrypt(keyring(d, [e]), result));
    assert.ok(both.value.plaintext.equals(small));
    assert.deepEqual(both.calls.map((c) => [c.op, c.keyId]), [['Decrypt', d], ['Decrypt', e]]);
    const onlyD = await rejection(decrypt(keyring(d), result));
    assert.match(onlyD.message, /Unable to decrypt data key and one or more KMS CMKs had an error/);
    assert.match(onlyD.message, /DisabledException/);
  });

  it('a discovery keyring decrypts when its filter names our account and refuses when it names another', async () => {
    const discovery = (accountIDs: string[]) => new KmsKeyringNode({ clientProvider, discovery: true, discoveryFilter: { accountIDs, partition: 'aws' } });
    const ok = await decrypt(discovery([TEST_ACCOUNT]), ciphertext);
    assert.ok(ok.plaintext.equals(message));
    const { value: err, calls: made } = await callsOf(() => rejection(decrypt(discovery(['444455556666']), ciphertext)));
    assert.match(err.message, /unencryptedDataKey has not been set/);
    assert.deepEqual(made, [], 'EDKs of keys outside the filter are never sent to KMS');
  });

  it('streams 10 MiB through encryptStream and decryptStream, byte-identical, header context on the MessageHeader event', async () => {
    let encHeader: MessageHeader | undefined;
    let decHeader: MessageHeader | undefined;
    const streamed = await through(message, encryptStream(keyring(arnA), { encryptionContext: context }), (h) => (encHeader = h));
    const back = await through(streamed, decryptStream(keyring(arnA)), (h) => (decHeader = h));
    assert.ok(back.equals(message), 'streamed round trip is byte-identical');
    assert.ok(encHeader && decHeader);
    assert.deepEqual({ ...decHeader.encryptionContext }, { ...encHeader.encryptionContext });
    for (const [k, v] of Object.entries(context)) assert.equal(decHeader.encryptionContext[k], v);
    // A fresh data key per message: the two encryptions of the same plaintext wrap different keys.
    assert.notDeepEqual(Buffer.from(decHeader.encryptedDataKeys[0]!.encryptedDataKey), Buffer.from(header.encryptedDataKeys[0]!.encryptedDataKey));
  });

  it('streams an unsigned (committing, non-ECDSA) message through decryptUnsignedMessageStream', async () => {
    let decHeader: MessageHeader | undefined;
    const suiteId = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
    const input = message.subarray(0, 3 * MIB + 5);
    const streamed = await through(input, encryptStream(keyring(arnB), { suiteId, encryptionContext: { unsigned: 'yes' } }));
    const back = await through(streamed, decryptUnsignedMessageStream(keyring(arnB)), (h) => (decHeader = h));
    assert.ok(back.equals(input));
    assert.ok(decHeader);
    assert.equal(decHeader.suiteId, suiteId);
    assert.deepEqual({ ...decHeader.encryptionContext }, { unsigned: 'yes' });
  });
});

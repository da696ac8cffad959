/**
 * Plaintexts and data keys must never come to rest: not in the data dir, not in a log line, not in an
 * error message. The test plants unique markers through every door a plaintext can come in by (Encrypt,
 * requests that fail for many reasons) and collects every secret the server hands out (GenerateDataKey,
 * GenerateRandom, Decrypt), then stops the server and searches everything it wrote — raw bytes and their
 * base64 and hex spellings.
 */
import {
  CreateAliasCommand, CreateKeyCommand, DecryptCommand, DisableKeyCommand, EncryptCommand, GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand, GenerateRandomCommand, KMSClient, ReEncryptCommand, SignCommand, VerifyCommand,
  GenerateMacCommand, VerifyMacCommand, DeriveSharedSecretCommand, GenerateDataKeyPairCommand, GenerateDataKeyPairWithoutPlaintextCommand,
  EncapsulateCommand, DecapsulateCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, DeleteImportedKeyMaterialCommand,
} from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { constants, createCipheriv, createPrivateKey, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { buildApp } from '../../../src/app.js';
import { CREDENTIALS_FILE } from '../../../src/bootstrap.js';
import { DEFAULT_S3_CONFIG } from '../../../src/config/config.js';
import { ROOT_KEY_FILE } from '../../../src/core/crypto/root-of-trust/file.js';
import { awsJsonError, sendRaw, signedJsonRequest } from '../../helpers/raw-request.js';
import { filesUnder } from '../../helpers/files.js';
import { TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

interface Secret {
  readonly what: string;
  readonly bytes: Buffer;
}

/**
 * The spellings a secret could be found in: its raw bytes, hex (both cases) and base64 at each of the three
 * alignments it can have inside a longer base64 text (the edge characters, which depend on neighbouring
 * bytes, are cut off), plus base64url.
 */
function spellings(bytes: Buffer): Buffer[] {
  const out = [bytes, Buffer.from(bytes.toString('hex')), Buffer.from(bytes.toString('hex').toUpperCase())];
  for (let k = 0; k < 3; k++) {
    const b64 = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    const core = b64.slice(k === 0 ? 0 : 4, b64.length - 4);
    out.push(Buffer.from(core), Buffer.from(core.replace(/\+/g, '-').replace(/\//g, '_')));
  }
  return out.filter((n) => n.length >= 12);
}

/** Every (secret, place) pair where a spelling of the secret occurs. */
function findSecrets(secrets: readonly Secret[], places: readonly { name: string; bytes: Buffer }[]): string[] {
  const found: string[] = [];
  for (const s of secrets) {
    const needles = spellings(s.bytes);
    for (const place of places) {
      const hit = needles.find((n) => place.bytes.includes(n));
      if (hit) found.push(`${s.what} found in ${place.name} (as ${JSON.stringify(hit.toString('latin1').slice(0, 60))})`);
    }
  }
  return found;
}

const marker = () => `PLANTED-${randomBytes(16).toString('hex')}`;

describe('no plaintext or data key comes to rest in the data dir, the logs or error messages', () => {
  let server: TestServer;
  let kms: KMSClient;
  let keyId: string;
  const secrets: Secret[] = [];
  /** Every error message (and raw error body) a client received. */
  const clientErrors: string[] = [];

  const plant = (what: string, text = marker()): Buffer => {
    const bytes = Buffer.from(text, 'utf8');
    secrets.push({ what: `${what} (${text.slice(0, 24)}…)`, bytes });
    return bytes;
  };
  const expectError = async (p: Promise<unknown>, code: string): Promise<void> => {
    const err = await rejection(p);
    clientErrors.push(`${err.name}: ${err.message} ${JSON.stringify(err)}`);
    assert.equal(err.name, code, err.message);
  };

  before(async () => {
    server = await startServer();
    kms = server.kms();
    keyId = (await kms.send(new CreateKeyCommand({ Description: 'no-secrets' }))).KeyMetadata!.KeyId!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/no-secrets', TargetKeyId: keyId }));
    const otherKey = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const disabledKey = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await kms.send(new DisableKeyCommand({ KeyId: disabledKey }));

    // Plaintexts that succeed: Encrypt, Decrypt, ReEncrypt.
    for (let i = 0; i < 5; i++) {
      const pt = plant(`encrypted plaintext #${i}`);
      const enc = await kms.send(new EncryptCommand({ KeyId: i % 2 ? 'alias/no-secrets' : keyId, Plaintext: pt, EncryptionContext: { n: String(i) } }));
      const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { n: String(i) } }));
      assert.deepEqual(Buffer.from(dec.Plaintext!), pt);
      await kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { n: String(i) }, DestinationKeyId: otherKey }));
      // ...and the same ciphertext with a wrong context.
      await expectError(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { n: 'wrong' } })), 'InvalidCiphertextException');
      await expectError(kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: otherKey })), 'InvalidCiphertextException');
    }
    // A binary plaintext (not text) too.
    const binary = randomBytes(48);
    secrets.push({ what: 'binary plaintext', bytes: binary });
    await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: binary }));

    // Secrets the server hands out.
    for (const params of [{ KeySpec: 'AES_256' as const }, { KeySpec: 'AES_128' as const }, { NumberOfBytes: 64 }, { NumberOfBytes: 1024 }]) {
      const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, ...params }));
      secrets.push({ what: `data key ${JSON.stringify(params)}`, bytes: Buffer.from(dk.Plaintext!) });
      const back = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
      assert.deepEqual(Buffer.from(back.Plaintext!), Buffer.from(dk.Plaintext!));
    }
    const noPlain = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    const hidden = await kms.send(new DecryptCommand({ CiphertextBlob: noPlain.CiphertextBlob }));
    secrets.push({ what: 'data key of GenerateDataKeyWithoutPlaintext', bytes: Buffer.from(hidden.Plaintext!) });
    for (const n of [16, 32, 1024]) {
      const r = await kms.send(new GenerateRandomCommand({ NumberOfBytes: n }));
      secrets.push({ what: `GenerateRandom(${n})`, bytes: Buffer.from(r.Plaintext!) });
    }

    // Asymmetric signing keys: their private keys (read here from the server's memory) and the messages signed
    // and verified, which are as secret as plaintexts (the Message member is sensitive in the model).
    // (ML-DSA's material is its 32-byte key-generation seed.)
    for (const [KeySpec, SigningAlgorithm] of [['ECC_NIST_P256', 'ECDSA_SHA_256'], ['RSA_2048', 'RSASSA_PSS_SHA_256'], ['ECC_NIST_EDWARDS25519', 'ED25519_SHA_512'], ['ML_DSA_65', 'ML_DSA_SHAKE_256']] as const) {
      const signing = (await kms.send(new CreateKeyCommand({ KeySpec, KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
      const record = (await server.app.kms.resolver.byIdAnywhere(signing))!;
      const privateKey = (await server.app.kms.deps.materials.get(record, record.currentMaterialId))!.reveal();
      secrets.push({ what: `${KeySpec} private key (PKCS#8 or seed)`, bytes: Buffer.from(privateKey) });
      const message = plant(`message signed with ${KeySpec}`);
      const signature = (await kms.send(new SignCommand({ KeyId: signing, Message: message, SigningAlgorithm }))).Signature!;
      await kms.send(new VerifyCommand({ KeyId: signing, Message: message, Signature: signature, SigningAlgorithm }));
      await expectError(kms.send(new VerifyCommand({ KeyId: signing, Message: plant(`message wrongly verified with ${KeySpec}`), Signature: signature, SigningAlgorithm })), 'KMSInvalidSignatureException');
      await expectError(kms.send(new SignCommand({ KeyId: signing, Message: plant(`message signed with a wrong algorithm (${KeySpec})`), SigningAlgorithm: 'ECDSA_SHA_512' })), 'InvalidKeyUsageException');
    }

    // An HMAC key: its secret key (read from the server's memory) and the messages it MACs.
    {
      const hmac = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.KeyId!;
      const record = (await server.app.kms.resolver.byIdAnywhere(hmac))!;
      secrets.push({ what: 'HMAC_256 key', bytes: Buffer.from((await server.app.kms.deps.materials.get(record, record.currentMaterialId))!.reveal()) });
      const message = plant('message MACed with HMAC_256');
      const mac = (await kms.send(new GenerateMacCommand({ KeyId: hmac, Message: message, MacAlgorithm: 'HMAC_SHA_256' }))).Mac!;
      await kms.send(new VerifyMacCommand({ KeyId: hmac, Message: message, Mac: mac, MacAlgorithm: 'HMAC_SHA_256' }));
      await expectError(kms.send(new VerifyMacCommand({ KeyId: hmac, Message: plant('message with a wrong MAC'), Mac: mac, MacAlgorithm: 'HMAC_SHA_256' })), 'KMSInvalidMacException');
    }

    // A shared secret of DeriveSharedSecret (ECDH with a KEY_AGREEMENT key and a local key pair).
    {
      const agreement = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' }))).KeyMetadata!.KeyId!;
      const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
      const derived = await kms.send(new DeriveSharedSecretCommand({ KeyId: agreement, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer }));
      secrets.push({ what: 'ECDH shared secret', bytes: Buffer.from(derived.SharedSecret!) });
    }

    // An ML-KEM key: its 64-byte seed (read from the server's memory) and the shared secrets of Encapsulate and
    // Decapsulate, the latter of an altered ciphertext (implicit rejection's pseudo-random secret).
    {
      const kem = (await kms.send(new CreateKeyCommand({ KeySpec: 'ML_KEM_768', KeyUsage: 'ENCAPSULATE_DECAPSULATE' }))).KeyMetadata!.KeyId!;
      const record = (await server.app.kms.resolver.byIdAnywhere(kem))!;
      secrets.push({ what: 'ML_KEM_768 seed', bytes: Buffer.from((await server.app.kms.deps.materials.get(record, record.currentMaterialId))!.reveal()) });
      const enc = await kms.send(new EncapsulateCommand({ KeyId: kem, EncapsulationAlgorithm: 'ML_KEM' }));
      secrets.push({ what: 'Encapsulate shared secret', bytes: Buffer.from(enc.SharedSecret!) });
      const altered = Buffer.from(enc.SharedSecretCiphertextBlob!);
      altered[0]! ^= 1;
      const dec = await kms.send(new DecapsulateCommand({ KeyId: kem, SharedSecretCiphertextBlob: altered, EncapsulationAlgorithm: 'ML_KEM' }));
      secrets.push({ what: 'Decapsulate shared secret', bytes: Buffer.from(dec.SharedSecret!) });
      const pair = await kms.send(new GenerateDataKeyPairCommand({ KeyId: keyId, KeyPairSpec: 'ML_KEM_1024' }));
      secrets.push({ what: 'ML_KEM_1024 data key pair private key', bytes: Buffer.from(pair.PrivateKeyPlaintext!) });
    }

    // Each kind of private key also as its bare components (RSA's private exponent and primes, the ECC private
    // scalar): a leak in another encoding (PKCS#1, SEC1, JWK, a debug dump) holds those even when not the PKCS#8 bytes.
    // With an RSA ENCRYPT_DECRYPT key and a KEY_AGREEMENT key, plaintexts through asymmetric Encrypt and Decrypt.
    {
      const components = async (keyId: string, what: string) => {
        const record = (await server.app.kms.resolver.byIdAnywhere(keyId))!;
        const der = Buffer.from((await server.app.kms.deps.materials.get(record, record.currentMaterialId))!.reveal());
        secrets.push({ what: `${what} private key (PKCS#8)`, bytes: der });
        const jwk = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
        for (const part of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
          if (jwk[part] !== undefined) secrets.push({ what: `${what} private key component ${part}`, bytes: Buffer.from(jwk[part], 'base64url') });
        }
      };
      for (const [KeySpec, SigningAlgorithm] of [['RSA_3072', 'RSASSA_PKCS1_V1_5_SHA_384'], ['ECC_SECG_P256K1', 'ECDSA_SHA_256'], ['ECC_NIST_P521', 'ECDSA_SHA_512']] as const) {
        const signing = (await kms.send(new CreateKeyCommand({ KeySpec, KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
        await components(signing, KeySpec);
        await kms.send(new SignCommand({ KeyId: signing, Message: plant(`message signed with ${KeySpec}`), SigningAlgorithm }));
      }
      const rsaEncrypt = (await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata!.KeyId!;
      await components(rsaEncrypt, 'RSA_2048 ENCRYPT_DECRYPT');
      const rsaPlain = plant('plaintext encrypted with an RSA key');
      const rsaCiphertext = (await kms.send(new EncryptCommand({ KeyId: rsaEncrypt, Plaintext: rsaPlain, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))).CiphertextBlob!;
      assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ KeyId: rsaEncrypt, CiphertextBlob: rsaCiphertext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))).Plaintext!), rsaPlain);
      await expectError(kms.send(new DecryptCommand({ KeyId: rsaEncrypt, CiphertextBlob: rsaCiphertext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })), 'InvalidCiphertextException');
      await expectError(kms.send(new EncryptCommand({ KeyId: rsaEncrypt, Plaintext: plant('plaintext too long for RSA_2048 OAEP SHA-256', marker().repeat(6)), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })), 'ValidationException');
      const agreement = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P384', KeyUsage: 'KEY_AGREEMENT' }))).KeyMetadata!.KeyId!;
      await components(agreement, 'ECC_NIST_P384 KEY_AGREEMENT');
      const peer = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
      const derived = await kms.send(new DeriveSharedSecretCommand({ KeyId: agreement, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.publicKey.export({ type: 'spki', format: 'der' }) }));
      secrets.push({ what: 'ECDH P-384 shared secret', bytes: Buffer.from(derived.SharedSecret!) });
      // The peer's private key is the caller's secret: nothing it sent may hold it either.
      secrets.push({ what: 'the peer\'s private scalar', bytes: Buffer.from(peer.privateKey.export({ format: 'jwk' }).d!, 'base64url') });
      const hmac = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_512', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.KeyId!;
      await components(hmac, 'HMAC_512').catch(() => undefined); // an HMAC key is no PKCS#8: only its raw bytes are planted
      const macMessage = plant('message MACed with HMAC_512');
      const mac512 = (await kms.send(new GenerateMacCommand({ KeyId: hmac, Message: macMessage, MacAlgorithm: 'HMAC_SHA_512' }))).Mac!;
      secrets.push({ what: 'HMAC_SHA_512 MAC of a planted message', bytes: Buffer.from(mac512) });
      await expectError(kms.send(new GenerateMacCommand({ KeyId: hmac, Message: plant('message MACed with a wrong algorithm'), MacAlgorithm: 'HMAC_SHA_256' })), 'InvalidKeyUsageException');
    }

    // Data key pairs: the private key handed out, and the one only the ciphertext holds.
    {
      const pair = await kms.send(new GenerateDataKeyPairCommand({ KeyId: keyId, KeyPairSpec: 'ECC_NIST_P256' }));
      secrets.push({ what: 'GenerateDataKeyPair private key', bytes: Buffer.from(pair.PrivateKeyPlaintext!) });
      const hiddenPair = await kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keyId, KeyPairSpec: 'RSA_2048' }));
      const opened = await kms.send(new DecryptCommand({ CiphertextBlob: hiddenPair.PrivateKeyCiphertextBlob }));
      secrets.push({ what: 'GenerateDataKeyPairWithoutPlaintext private key', bytes: Buffer.from(opened.Plaintext!) });
    }

    // Imported key material (symmetric, HMAC, RSA and ECC private keys), the AES keys that wrapped it
    // (RSA_AES_KEY_WRAP_SHA_256) and the RSA wrapping private keys of GetParametersForImport (read here from the
    // store, unwrapped by the root of trust); a deleted symmetric material must not stay either.
    {
      const imports: [string, string | undefined, Buffer][] = [
        ['SYMMETRIC_DEFAULT', undefined, randomBytes(32)],
        ['HMAC_384', 'GENERATE_VERIFY_MAC', randomBytes(64)],
        ['RSA_2048', 'SIGN_VERIFY', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'der' })],
        ['ECC_NIST_P384', 'SIGN_VERIFY', generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'der' })],
      ];
      for (const [KeySpec, KeyUsage, material] of imports) {
        const external = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', KeySpec: KeySpec as 'RSA_2048', ...(KeyUsage ? { KeyUsage: KeyUsage as 'SIGN_VERIFY' } : {}) }))).KeyMetadata!;
        const p = await kms.send(new GetParametersForImportCommand({ KeyId: external.KeyId, WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
        const params = (await server.app.kms.deps.store.getImportParameters(external.KeyId!))!;
        const wrappingKey = await server.app.kms.deps.root.unwrap(params.privateKeyWrapped, Buffer.from(`strongroom:kms-import-wrapping-key:v1\0${external.Arn}\0${params.tokenId}`));
        secrets.push({ what: `${KeySpec} import's wrapping private key`, bytes: Buffer.from(wrappingKey.reveal()) });
        secrets.push({ what: `imported ${KeySpec} material`, bytes: material });
        const aesKey = randomBytes(32);
        secrets.push({ what: `AES key wrapping the ${KeySpec} material`, bytes: aesKey });
        const kwp = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'));
        const EncryptedKeyMaterial = Buffer.concat([
          publicEncrypt({ key: createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, aesKey),
          kwp.update(material),
          kwp.final(),
        ]);
        await kms.send(new ImportKeyMaterialCommand({ KeyId: external.KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
        if (KeySpec === 'SYMMETRIC_DEFAULT') {
          await kms.send(new EncryptCommand({ KeyId: external.KeyId, Plaintext: plant('plaintext encrypted under imported material') }));
          await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: external.KeyId }));
          // A wrong material on reimport fails without echoing it.
          const wrong = randomBytes(32);
          secrets.push({ what: 'wrong material offered for reimport', bytes: wrong });
          const wrongWrapped = publicEncrypt({ key: createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
          await expectError(kms.send(new ImportKeyMaterialCommand({ KeyId: external.KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrongWrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })), 'InvalidCiphertextException');
          const kwp2 = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'));
          const wrongMaterial = Buffer.concat([EncryptedKeyMaterial.subarray(0, 256), kwp2.update(wrong), kwp2.final()]);
          await expectError(kms.send(new ImportKeyMaterialCommand({ KeyId: external.KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrongMaterial, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })), 'IncorrectKeyMaterialException');
        }
      }
    }

    // Requests that carry a plaintext and fail.
    await expectError(kms.send(new EncryptCommand({ KeyId: 'alias/does-not-exist', Plaintext: plant('plaintext sent to a missing alias') })), 'NotFoundException');
    await expectError(kms.send(new EncryptCommand({ KeyId: '0b0b0b0b-0000-4000-8000-000000000000', Plaintext: plant('plaintext sent to a missing key') })), 'NotFoundException');
    await expectError(kms.send(new EncryptCommand({ KeyId: 'not a key id', Plaintext: plant('plaintext sent to an invalid key id') })), 'NotFoundException');
    await expectError(kms.send(new EncryptCommand({ KeyId: disabledKey, Plaintext: plant('plaintext sent to a disabled key') })), 'DisabledException');
    await expectError(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plant('plaintext of a dry run'), DryRun: true })), 'DryRunOperationException');
    await expectError(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plant('plaintext with a bad algorithm'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })), 'InvalidKeyUsageException');
    const big = marker();
    plant('marker inside a 5000-byte plaintext', big);
    const oversized = Buffer.alloc(5000, 0x2e);
    oversized.write(big, 2000);
    await expectError(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: oversized })), 'ValidationException');
    // Both a plaintext over 4096 bytes and a missing key: several validation errors at once.
    const big2 = marker();
    plant('marker inside a 4097-byte plaintext to a missing key', big2);
    const oversized2 = Buffer.alloc(4097, 0x41);
    oversized2.write(big2, 17);
    await expectError(kms.send(new EncryptCommand({ KeyId: '', Plaintext: oversized2 })), 'ValidationException');

    // Raw requests: the plaintext inside bodies the server cannot take.
    const raw = async (what: string, target: string, body: string, mutate?: (h: Record<string, string>) => void): Promise<void> => {
      const req = await signedJsonRequest(server.url, `TrentService.${target}`, body);
      mutate?.(req.headers);
      const res = await sendRaw(server.url, req);
      // Only the answer's content matters here (its status is the fuzz test's business).
      assert.notEqual(res.status, 200, `${what}: ${res.text.slice(0, 200)}`);
      clientErrors.push(`${what}: ${res.text}`);
      awsJsonError(res);
    };
    const b64 = (what: string) => plant(what).toString('base64');
    await raw('bad signature', 'Encrypt', JSON.stringify({ KeyId: keyId, Plaintext: b64('plaintext in a request with a bad signature') }), (h) => {
      h.authorization = h.authorization!.replace(/Signature=([0-9a-f])/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
    });
    await raw('unsigned', 'Encrypt', JSON.stringify({ KeyId: keyId, Plaintext: b64('plaintext in an unsigned request') }), (h) => {
      delete h.authorization;
    });
    await raw('truncated JSON', 'Encrypt', JSON.stringify({ KeyId: keyId, Plaintext: b64('plaintext in truncated JSON') }).slice(0, -3));
    await raw('plaintext not base64', 'Encrypt', JSON.stringify({ KeyId: keyId, Plaintext: plant('plaintext sent as text, not base64').toString('utf8') }));
    await raw('plaintext as a number-array', 'Encrypt', JSON.stringify({ KeyId: keyId, Plaintext: [...plant('plaintext sent as an array')] }));
    await raw('plaintext as an object', 'Encrypt', JSON.stringify({ KeyId: keyId, Plaintext: { value: b64('plaintext wrapped in an object') } }));
    await raw('plaintext with a wrong-typed key id', 'Encrypt', JSON.stringify({ KeyId: 42, Plaintext: b64('plaintext next to a numeric KeyId') }));
    await raw('plaintext to an unknown operation', 'EncryptPlease', JSON.stringify({ KeyId: keyId, Plaintext: b64('plaintext sent to an unknown operation') }));
    await raw('plaintext as a context value of Decrypt with a bad blob', 'Decrypt', JSON.stringify({ CiphertextBlob: 'AAAA', Plaintext: b64('plaintext in an unexpected member') }));
    await raw('deeply nested grant tokens next to a plaintext', 'Encrypt', `{"KeyId":"${keyId}","Plaintext":"${b64('plaintext next to a nested list')}","GrantTokens":${'['.repeat(50_000)}"x"${']'.repeat(50_000)}}`);
    await raw('plaintext in a body over 1 MiB', 'Encrypt', JSON.stringify({ KeyId: keyId, Plaintext: b64('plaintext in an oversized body'), Pad: ' '.repeat(1024 * 1024) }));

    await server.stop();
  });
  after(() => server.destroy());

  it('plants what it means to, and the search finds what is there (controls)', () => {
    assert.ok(secrets.length >= 30, `${secrets.length} secrets`);
    assert.ok(clientErrors.length >= 20, `${clientErrors.length} client errors`);
    assert.ok(server.logs.length > 50, `${server.logs.length} log lines`);
    // The search finds a secret inside a longer text in each spelling, at each base64 alignment.
    const probe: Secret = { what: 'probe', bytes: randomBytes(20) };
    for (let pad = 0; pad < 3; pad++) {
      const around = Buffer.concat([randomBytes(pad), probe.bytes, randomBytes(5)]);
      for (const text of [around, Buffer.from(around.toString('base64')), Buffer.from(around.toString('hex')), Buffer.from(around.toString('base64url'))]) {
        assert.equal(findSecrets([probe], [{ name: 'text', bytes: Buffer.concat([Buffer.from('{"x":"'), text, Buffer.from('"}')]) }]).length, 1);
      }
    }
    // What the server does store (the key id) is found in the data dir; so the files are readable as searched.
    const stored = filesUnder(server.dataDir).map((f) => ({ name: f, bytes: readFileSync(f) }));
    assert.ok(findSecrets([{ what: 'key id', bytes: Buffer.from(keyId) }], stored).length > 0, 'the key id is not in the data dir');
  });

  it('no file in the data dir contains a planted plaintext or returned data key (raw, base64 or hex)', () => {
    const files = filesUnder(server.dataDir).map((f) => ({ name: f.slice(server.dataDir.length + 1), bytes: readFileSync(f) }));
    assert.ok(files.some((f) => f.name.endsWith('.db')), files.map((f) => f.name).join(', '));
    assert.deepEqual(findSecrets(secrets, files), []);
  });

  it('no log line contains a planted plaintext or returned data key', () => {
    const logs = server.logs.map((line, i) => ({ name: `log line ${i}: ${line.slice(0, 160)}`, bytes: Buffer.from(line, 'utf8') }));
    assert.deepEqual(findSecrets(secrets, logs), []);
  });

  it('no error message a client received contains a planted plaintext', () => {
    const errors = clientErrors.map((e, i) => ({ name: `client error ${i}: ${e.slice(0, 160)}`, bytes: Buffer.from(e, 'utf8') }));
    assert.deepEqual(findSecrets(secrets, errors), []);
  });

  it('the root secret access key is stored only wrapped: neither the data dir nor the logs hold it', () => {
    const secret: Secret = { what: 'root secret access key', bytes: Buffer.from(TEST_CREDENTIALS.secretAccessKey, 'utf8') };
    const files = filesUnder(server.dataDir).map((f) => ({ name: f, bytes: readFileSync(f) }));
    const logs = server.logs.map((line, i) => ({ name: `log line ${i}`, bytes: Buffer.from(line, 'utf8') }));
    assert.deepEqual(findSecrets([secret], [...files, ...logs]), []);
  });

  it('the root-of-trust key file is mode 0600 and the data dir is not readable by others', () => {
    assert.equal(statSync(join(server.dataDir, ROOT_KEY_FILE)).mode & 0o777, 0o600);
    assert.equal(statSync(server.dataDir).mode & 0o077, 0, `data dir mode ${(statSync(server.dataDir).mode & 0o777).toString(8)}`);
  });
});

describe('files a fresh deployment writes', () => {
  // startServer() always configures root credentials, and then no credentials file is written; this test
  // builds the same real app without them so that it generates (and writes) the root credentials.
  it('generated root credentials go to a 0600 credentials file, the root key to a 0600 file, in a 0700 data dir', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'strongroom-fresh-'));
    const dataDir = join(parent, 'data');
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString('utf8'));
        cb();
      },
    });
    const app = await buildApp(
      { host: '127.0.0.1', port: 0, dataDir, rootOfTrustFile: join(dataDir, ROOT_KEY_FILE), workers: 1, region: TEST_REGION, logLevel: 'debug', sweepIntervalMs: 60_000, s3: DEFAULT_S3_CONFIG },
      { logger: pino({ level: 'debug' }, sink) },
    );
    try {
      const url = await app.listen();
      const generated = app.deployment.generatedRoot;
      assert.ok(generated, 'root credentials were generated');
      const credentialsFile = join(dataDir, CREDENTIALS_FILE);
      assert.equal(statSync(credentialsFile).mode & 0o777, 0o600);
      assert.match(readFileSync(credentialsFile, 'utf8'), new RegExp(`aws_access_key_id = ${generated.accessKeyId}`));
      assert.equal(statSync(join(dataDir, ROOT_KEY_FILE)).mode & 0o777, 0o600);
      assert.equal(statSync(dataDir).mode & 0o077, 0, `data dir mode ${(statSync(dataDir).mode & 0o777).toString(8)}`);
      // The generated credentials work, and their secret is in no log line.
      const client = new KMSClient({ endpoint: url, region: TEST_REGION, credentials: generated, maxAttempts: 1 });
      try {
        await client.send(new GenerateRandomCommand({ NumberOfBytes: 8 }));
      } finally {
        client.destroy();
      }
      assert.deepEqual(logs.filter((l) => l.includes(generated.secretAccessKey)), []);
    } finally {
      await app.close();
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES, open, seal } from '../crypto/aes-gcm.js';
import { KeyWrapper } from '../crypto/root-of-trust/root-of-trust.js';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { AwsError } from '../errors/aws-error.js';
import { S3Errors } from '../errors/s3.js';
import { ObjectEncryption, S3Store, SealedKey, SseAlgorithm } from '../../store/metadata/s3-types.js';
import { bucketArn, objectArn } from './names.js';

/**
 * Server-side encryption keys of S3 objects (see src/core/crypto/README.md, "S3 objects"). Every object
 * (every multipart upload) gets a fresh random 256-bit object key; only a sealed form of it is stored:
 * - SSE-S3: sealed (AES-256-GCM) by the service key, itself stored wrapped by the root of trust.
 * - SSE-KMS: the object key IS a KMS data key (GenerateDataKey with context aws:s3:arn = the object's
 *   ARN); only its CiphertextBlob is kept and Decrypt (as the requester, via S3) opens it.
 * - SSE-KMS with a bucket key: a KMS data key for the bucket (context aws:s3:arn = the bucket's ARN),
 *   reused for a bounded time, seals the random object keys: far fewer KMS calls.
 * - SSE-C: sealed by HKDF(customer key, salt); a salted HMAC of the customer key tells a wrong key apart
 *   (403) without trying to decrypt. The customer key is never stored.
 * The sealed object key's AAD names the bucket and the key, so a sealed key moved to another object fails.
 */

/** What the request (or the bucket default) asks for. */
export type SseChoice =
  | { readonly kind: 'AES256' }
  | {
      readonly kind: 'kms';
      readonly algorithm: Extract<SseAlgorithm, 'aws:kms' | 'aws:kms:dsse'>;
      /** undefined: the AWS managed key aws/s3. */
      readonly keyId: string | undefined;
      readonly context: Readonly<Record<string, string>> | undefined;
      readonly bucketKey: boolean;
    }
  | { readonly kind: 'SSE-C'; readonly key: SecretBytes; readonly keyMd5: string };

/** KMS as S3 calls it on the requester's behalf (kms:ViaService = s3.<region>.amazonaws.com). */
export interface KmsForS3 {
  /** The requester's identity: bucket keys opened for one caller are not reused for another. */
  readonly callerArn: string;
  generateDataKey(keyId: string | undefined, context: Readonly<Record<string, string>>): Promise<{ plaintext: SecretBytes; ciphertextBlob: Buffer; keyArn: string }>;
  decrypt(ciphertextBlob: Buffer, context: Readonly<Record<string, string>>): Promise<{ plaintext: SecretBytes; keyArn: string }>;
}

export interface ObjectIdentity {
  readonly bucket: string;
  readonly key: string;
}

/** S3 reuses a bucket key for a limited time; ours lives at most this long for new objects. */
const BUCKET_KEY_TTL_MS = 5 * 60 * 1000;
const SSE_C_INFO = Buffer.from('strongroom s3 sse-c key-encryption key');

export class ObjectKeys {
  #serviceKey: Promise<Buffer> | undefined;
  /** Bucket keys for new objects, by bucket + KMS key + caller. */
  readonly #bucketKeys = new Map<string, { plaintext: Buffer; blob: Buffer; keyArn: string; expires: number }>();
  /** Opened bucket keys, by blob + caller (each caller's kms:Decrypt was checked once per period). */
  readonly #openedBucketKeys = new Map<string, { plaintext: Buffer; expires: number }>();

  constructor(
    private readonly root: KeyWrapper,
    private readonly store: S3Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** `operator seal`: wipes the unwrapped service key and bucket keys; they are unwrapped again after the next unseal. */
  forget(): void {
    const service = this.#serviceKey;
    this.#serviceKey = undefined;
    void service?.then((k) => k.fill(0), () => undefined);
    for (const k of this.#bucketKeys.values()) k.plaintext.fill(0);
    for (const k of this.#openedBucketKeys.values()) k.plaintext.fill(0);
    this.#bucketKeys.clear();
    this.#openedBucketKeys.clear();
  }

  /** A fresh object key and how it is sealed, for a new object (or upload) at `id`. */
  async create(choice: SseChoice, id: ObjectIdentity, kms: KmsForS3): Promise<{ objectKey: Buffer; encryption: ObjectEncryption }> {
    switch (choice.kind) {
      case 'AES256': {
        const objectKey = randomBytes(KEY_BYTES);
        return { objectKey, encryption: { algorithm: 'AES256', key: { kind: 's3', sealed: sealKey(await this.#service(), objectKey, aad(id)) } } };
      }
      case 'SSE-C': {
        const objectKey = randomBytes(KEY_BYTES);
        const salt = randomBytes(32);
        const key: SealedKey = {
          kind: 'sse-c',
          salt: salt.toString('base64'),
          keyHmac: customerKeyHmac(choice.key, salt).toString('base64'),
          sealed: sealKey(customerKek(choice.key, salt), objectKey, aad(id)),
        };
        return { objectKey, encryption: { algorithm: 'SSE-C', customerKeyMd5: choice.keyMd5, key } };
      }
      case 'kms': {
        const base = { algorithm: choice.algorithm, ...(choice.context ? { context: choice.context } : {}) };
        if (choice.bucketKey) {
          const bk = await this.#bucketKey(id.bucket, choice.keyId, kms);
          const objectKey = randomBytes(KEY_BYTES);
          return {
            objectKey,
            encryption: { ...base, kmsKeyArn: bk.keyArn, bucketKeyEnabled: true, key: { kind: 'bucket-key', bucketKeyBlob: bk.blob.toString('base64'), sealed: sealKey(bk.plaintext, objectKey, aad(id)) } },
          };
        }
        const dk = await kms.generateDataKey(choice.keyId, kmsContext(id, choice.context));
        return { objectKey: dk.plaintext.reveal(), encryption: { ...base, kmsKeyArn: dk.keyArn, key: { kind: 'kms', ciphertextBlob: dk.ciphertextBlob.toString('base64') } } };
      }
    }
  }

  /**
   * The object key of a stored object. SSE-C needs the customer's key: missing → InvalidRequest (400),
   * wrong → AccessDenied (403), as S3 answers. SSE-KMS decrypts as the requester.
   */
  async open(enc: ObjectEncryption, id: ObjectIdentity, kms: KmsForS3, customer?: { key: SecretBytes; keyMd5: string }): Promise<Buffer> {
    const k = enc.key;
    switch (k.kind) {
      case 's3':
        return openKey(await this.#service(), k.sealed, aad(id));
      case 'sse-c': {
        if (!customer) {
          throw new AwsError(S3Errors.InvalidRequest, 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
        }
        const salt = Buffer.from(k.salt, 'base64');
        const expected = Buffer.from(k.keyHmac, 'base64');
        const given = customerKeyHmac(customer.key, salt);
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          throw new AwsError(S3Errors.AccessDenied, 'The provided encryption parameters did not match the ones used originally.');
        }
        return openKey(customerKek(customer.key, salt), k.sealed, aad(id));
      }
      case 'kms':
        return (await kms.decrypt(Buffer.from(k.ciphertextBlob, 'base64'), kmsContext(id, enc.context))).plaintext.reveal();
      case 'bucket-key': {
        const cacheKey = `${k.bucketKeyBlob}\n${kms.callerArn}`;
        let opened = this.#openedBucketKeys.get(cacheKey);
        if (!opened || opened.expires <= this.now()) {
          const res = await kms.decrypt(Buffer.from(k.bucketKeyBlob, 'base64'), { 'aws:s3:arn': bucketArn(id.bucket) });
          opened = { plaintext: res.plaintext.reveal(), expires: this.now() + BUCKET_KEY_TTL_MS };
          this.#remember(this.#openedBucketKeys, cacheKey, opened);
        }
        return openKey(opened.plaintext, k.sealed, aad(id));
      }
    }
  }

  /** Whether a customer key matches the object's (copy-source checks, HEAD). */
  static customerKeyMatches(enc: ObjectEncryption, key: SecretBytes): boolean {
    if (enc.key.kind !== 'sse-c') return false;
    const expected = Buffer.from(enc.key.keyHmac, 'base64');
    const given = customerKeyHmac(key, Buffer.from(enc.key.salt, 'base64'));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  async #bucketKey(bucket: string, keyId: string | undefined, kms: KmsForS3) {
    const cacheKey = `${bucket}\n${keyId ?? ''}\n${kms.callerArn}`;
    const hit = this.#bucketKeys.get(cacheKey);
    if (hit && hit.expires > this.now()) return hit;
    const dk = await kms.generateDataKey(keyId, { 'aws:s3:arn': bucketArn(bucket) });
    const entry = { plaintext: dk.plaintext.reveal(), blob: dk.ciphertextBlob, keyArn: dk.keyArn, expires: this.now() + BUCKET_KEY_TTL_MS };
    this.#remember(this.#bucketKeys, cacheKey, entry);
    return entry;
  }

  #remember<V extends { plaintext: Buffer }>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= 1024) {
      for (const [k, v] of map) {
        v.plaintext.fill(0);
        map.delete(k);
        if (map.size < 512) break;
      }
    }
    map.set(key, value);
  }

  /** The SSE-S3 service key: created (and wrapped by the root of trust) on first use, unwrapped once. */
  #service(): Promise<Buffer> {
    this.#serviceKey ??= (async () => {
      const aadBytes = Buffer.from('strongroom s3 service key');
      let wrapped = await this.store.getServiceKey();
      if (!wrapped) wrapped = await this.store.putServiceKey(await this.root.wrap(SecretBytes.adopt(randomBytes(KEY_BYTES)), aadBytes));
      return (await this.root.unwrap(wrapped, aadBytes)).reveal();
    })().catch((err: unknown) => {
      this.#serviceKey = undefined;
      throw err;
    });
    return this.#serviceKey;
  }
}

/** The encryption context S3 sends to KMS for an object: aws:s3:arn plus what the caller added. */
export function kmsContext(id: ObjectIdentity, extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return { ...(extra ?? {}), 'aws:s3:arn': objectArn(id.bucket, id.key) };
}

function aad(id: ObjectIdentity): Buffer {
  return Buffer.from(`strongroom s3 object key\0${id.bucket}\0${id.key}`, 'utf8');
}

function sealKey(kek: Buffer, objectKey: Buffer, aadBytes: Buffer): string {
  const s = seal(kek, objectKey, aadBytes);
  return Buffer.concat([s.nonce, s.ciphertext, s.tag]).toString('base64');
}

function openKey(kek: Buffer, sealedB64: string, aadBytes: Buffer): Buffer {
  const b = Buffer.from(sealedB64, 'base64');
  const key = b.length === NONCE_BYTES + KEY_BYTES + TAG_BYTES
    ? open(kek, b.subarray(0, NONCE_BYTES), b.subarray(NONCE_BYTES, NONCE_BYTES + KEY_BYTES), b.subarray(NONCE_BYTES + KEY_BYTES), aadBytes)
    : undefined;
  if (!key) throw new AwsError(S3Errors.InternalError, 'The object key could not be unsealed.');
  return key;
}

function customerKek(key: SecretBytes, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', key.reveal(), salt, SSE_C_INFO, KEY_BYTES));
}

function customerKeyHmac(key: SecretBytes, salt: Buffer): Buffer {
  return createHmac('sha256', salt).update('strongroom s3 sse-c key check').update(key.reveal()).digest();
}

/** A part's (or a single-part object's) body key: HMAC(object key, part number ‖ random salt). */
export function partKey(objectKey: Buffer, partNumber: number, salt: Buffer): Buffer {
  const n = Buffer.alloc(4);
  n.writeUInt32BE(partNumber);
  return createHmac('sha256', objectKey).update('strongroom s3 part key\0').update(n).update(salt).digest();
}

/** What binds a part's packages to it (the packages' AAD): bucket, key, part number and salt. */
export function partBinding(id: ObjectIdentity, partNumber: number, salt: Buffer): Buffer {
  return createHash('sha256').update(`${id.bucket}\0${id.key}\0${partNumber}\0`).update(salt).digest();
}

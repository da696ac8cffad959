import { createHmac, timingSafeEqual } from 'node:crypto';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { AwsError } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { KmsDeps } from './context.js';
import { needsAlgorithm } from './key-usage.js';

/** HMAC (RFC 2104) with the SHA-2 hash each MacAlgorithmSpec names. */
const HASH: Readonly<Record<string, string>> = { HMAC_SHA_224: 'sha224', HMAC_SHA_256: 'sha256', HMAC_SHA_384: 'sha384', HMAC_SHA_512: 'sha512' };

/**
 * GenerateMac and VerifyMac with HMAC keys (https://docs.aws.amazon.com/kms/latest/developerguide/hmac.html):
 * a standard HMAC over the message with the key's material, which never leaves the server; VerifyMac
 * compares in constant time and answers KMSInvalidMacException on a mismatch.
 */
export class Macs {
  constructor(private readonly deps: KmsDeps) {}

  async generate(key: KeyRecord, algorithm: string, message: SecretBytes): Promise<Buffer> {
    this.#check(key, algorithm, 'GenerateMac');
    return this.#mac(await this.#material(key), algorithm, message);
  }

  async verify(key: KeyRecord, algorithm: string, message: SecretBytes, mac: Buffer): Promise<void> {
    this.#check(key, algorithm, 'VerifyMac');
    const expected = this.#mac(await this.#material(key), algorithm, message);
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
      throw new AwsError(KmsErrors.KMSInvalidMacException, 'The HMAC verification failed: the MAC is not valid for this message, key and algorithm.');
    }
  }

  #mac(material: SecretBytes, algorithm: string, message: SecretBytes): Buffer {
    return createHmac(HASH[algorithm]!, material.reveal()).update(message.reveal()).digest();
  }

  #check(key: KeyRecord, algorithm: string, operation: string): void {
    needsAlgorithm(key, 'GENERATE_VERIFY_MAC', algorithm, operation, HASH[algorithm] !== undefined);
  }

  #material(key: KeyRecord): Promise<SecretBytes> {
    return this.deps.materials.current(key);
  }
}

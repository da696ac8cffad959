import { createHash, createPrivateKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { KeyWrapper } from '../crypto/root-of-trust/root-of-trust.js';
import { SigningKeyRecord, TrailStore } from '../../store/metadata/trail-types.js';

/** How long a region's digest signing key signs before a new one replaces it (its public key stays listed). */
export const SIGNING_KEY_VALIDITY_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * The digest signing keys: one RSA 2048 key pair per region at a time, as CloudTrail has. The public key is
 * what ListPublicKeys returns — DER PKCS#1 RSAPublicKey, fingerprint = MD5 of those bytes in hex, which is
 * what a digest file's `digestPublicKeyFingerprint` names and `aws cloudtrail validate-logs` matches.
 * The private key is stored only wrapped by the root of trust (AAD names region and fingerprint) and
 * unwrapped into memory when a digest is signed.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_ListPublicKeys.html
 */
export class DigestSigningKeys {
  readonly #private = new Map<string, KeyObject>();

  constructor(
    private readonly store: TrailStore,
    private readonly root: KeyWrapper,
  ) {}

  /** `operator seal`: drops the unwrapped private keys (KeyObjects cannot be wiped; they are unreachable from here on). */
  forget(): void {
    this.#private.clear();
  }

  /** The region's keys whose validity overlaps [start, end], oldest first. */
  async list(region: string, start: number, end: number): Promise<SigningKeyRecord[]> {
    return (await this.store.signingKeys(region)).filter((k) => k.validFrom <= end && k.validTo >= start);
  }

  /** The key that signs now in `region`, made when there is none (or the last one's validity ended). */
  async current(region: string, now: number): Promise<SigningKeyRecord> {
    const valid = (await this.store.signingKeys(region)).filter((k) => k.validFrom <= now && now < k.validTo);
    const newest = valid[valid.length - 1];
    if (newest) return newest;
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const der = publicKey.export({ format: 'der', type: 'pkcs1' });
    const fingerprint = createHash('md5').update(der).digest('hex');
    const wrapped = await this.root.wrap(SecretBytes.adopt(privateKey.export({ format: 'der', type: 'pkcs8' })), aad(region, fingerprint));
    const record: SigningKeyRecord = { region, fingerprint, publicKey: der, wrappedPrivateKey: wrapped, validFrom: now, validTo: now + SIGNING_KEY_VALIDITY_MS };
    await this.store.addSigningKey(record);
    this.#private.set(`${region}/${fingerprint}`, privateKey);
    return record;
  }

  /** The private key of `key`, unwrapped once and kept in memory. */
  async privateKey(key: SigningKeyRecord): Promise<KeyObject> {
    const id = `${key.region}/${key.fingerprint}`;
    let k = this.#private.get(id);
    if (!k) {
      const der = await this.root.unwrap(key.wrappedPrivateKey, aad(key.region, key.fingerprint));
      try {
        k = createPrivateKey({ key: der.reveal(), format: 'der', type: 'pkcs8' });
      } finally {
        der.wipe();
      }
      this.#private.set(id, k);
    }
    return k;
  }
}

function aad(region: string, fingerprint: string): Buffer {
  return Buffer.from(`strongroom:cloudtrail-digest-key:${region}:${fingerprint}`, 'utf8');
}

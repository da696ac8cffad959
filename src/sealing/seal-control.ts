import { RootOfTrustError } from '../core/crypto/root-of-trust/root-of-trust.js';
import { ShamirParameters, ShareCollector, ShareError, decodeShare } from '../core/crypto/root-of-trust/shamir.js';
import { SecretBytes } from '../core/crypto/secret-bytes.js';

/** What `operator unseal`, `seal` and `seal-status` are told (no secret). */
export interface SealStatus {
  readonly sealed: boolean;
  /** Key shares given towards the next unseal. */
  readonly progress: number;
  readonly threshold: number;
  readonly shares: number;
  readonly setId: string;
}

/** The shares rebuilt a key that does not open the keyring: wrong shares (or altered ones), progress reset. */
export class WrongSharesError extends RootOfTrustError {
  constructor(threshold: number) {
    super(
      `the ${threshold} key shares given do not rebuild this deployment's root key (it does not open the keyring): at least one of them is wrong; ` +
        `progress is reset to 0 of ${threshold} — give ${threshold} shares again`,
    );
    this.name = 'WrongSharesError';
  }
}

/** One server's sealing, as app.ts exposes it: unseal with a rebuilt key (RootOfTrustError if it is not the root), seal. */
export interface Sealable {
  readonly params: ShamirParameters;
  readonly sealed: boolean;
  unsealWith(key: SecretBytes): Promise<void>;
  seal(): Promise<void>;
}

/** Where the operator routes send shares and seal requests: this process, or the primary of the workers (main.ts). */
export interface SealControl {
  unseal(share: string): Promise<SealStatus>;
  seal(): Promise<SealStatus>;
  status(): Promise<SealStatus>;
}

/** A single process: its shares are collected here and the rebuilt key unseals it. */
export class LocalSealControl implements SealControl {
  readonly #collector: ShareCollector;

  constructor(private readonly target: Sealable) {
    this.#collector = new ShareCollector(target.params);
  }

  async unseal(text: string): Promise<SealStatus> {
    if (!this.target.sealed) throw new ShareError('the server is already unsealed');
    const key = await this.#collector.add(decodeShare(text));
    if (key) {
      try {
        await this.target.unsealWith(key);
      } catch (err) {
        if (err instanceof RootOfTrustError) throw new WrongSharesError(this.target.params.threshold);
        throw err;
      }
    }
    return this.status();
  }

  async seal(): Promise<SealStatus> {
    this.#collector.reset();
    await this.target.seal();
    return this.status();
  }

  async status(): Promise<SealStatus> {
    const { shares, threshold, setId } = this.target.params;
    return { sealed: this.target.sealed, progress: this.#collector.progress, threshold, shares, setId };
  }
}

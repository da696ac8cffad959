import { Clock } from '../clock.js';
import { KeyWrapper } from '../crypto/root-of-trust/root-of-trust.js';
import { MetadataStore } from '../../store/metadata/types.js';
import { Materials } from './materials.js';

/** Where a KMS request lives: the caller's account and the region of its SigV4 scope. */
export interface KmsScope {
  readonly accountId: string;
  readonly region: string;
  /**
   * Set for an operation AWS documents as "Cross-account use: No": a key ARN or alias ARN of another account
   * then names no key (resolver.ts), whatever that key's policy says.
   */
  readonly ownAccountOnly?: boolean;
}

/** What the KMS core parts share. */
export interface KmsDeps {
  readonly store: MetadataStore;
  readonly root: KeyWrapper;
  readonly clock: Clock;
  readonly materials: Materials;
}

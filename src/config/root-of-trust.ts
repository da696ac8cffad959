import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './config.js';

/** Which root of trust wraps the keyring (README "Root of trust and sealing"). */
export type RootOfTrustSettings =
  | { readonly kind: 'file'; readonly file: string }
  /** Key shares (operator init --key-shares): the server starts sealed; README "Sealed start". */
  | { readonly kind: 'shamir' }
  | {
      readonly kind: 'pkcs11';
      /** The PKCS#11 module (.so): STRONGROOM_PKCS11_MODULE. */
      readonly module: string;
      /** STRONGROOM_PKCS11_TOKEN_LABEL */
      readonly tokenLabel: string;
      /** STRONGROOM_PKCS11_KEY_LABEL (default strongroom-root). */
      readonly keyLabel: string;
      /** Read when the root opens: STRONGROOM_PKCS11_PIN, or the first line of STRONGROOM_PKCS11_PIN_FILE. */
      readonly pin: () => string;
    };

export const DEFAULT_PKCS11_KEY_LABEL = 'strongroom-root';

/**
 * `--root-of-trust file|pkcs11` (STRONGROOM_ROOT_OF_TRUST, default file) and its settings. The PIN is never
 * kept in the configuration itself: `pin()` reads it when the root opens.
 */
export function rootOfTrustSettings(kind: string | undefined, rootOfTrustFile: string, env: NodeJS.ProcessEnv, prefix = 'STRONGROOM_PKCS11_'): RootOfTrustSettings {
  const k = kind === undefined || kind === '' ? 'file' : kind;
  if (k === 'file') return { kind: 'file', file: rootOfTrustFile };
  if (k === 'shamir') return { kind: 'shamir' };
  if (k !== 'pkcs11') throw new ConfigError(`--root-of-trust (STRONGROOM_ROOT_OF_TRUST) must be file, pkcs11 or shamir, not ${k}`);
  const need = (name: string): string => {
    const v = env[prefix + name];
    if (v === undefined || v === '') throw new ConfigError(`the pkcs11 root of trust needs ${prefix}${name}`);
    return v;
  };
  const module = resolve(need('MODULE'));
  const tokenLabel = need('TOKEN_LABEL');
  const keyLabel = env[prefix + 'KEY_LABEL'] || DEFAULT_PKCS11_KEY_LABEL;
  const pin = env[prefix + 'PIN'];
  const pinFile = env[prefix + 'PIN_FILE'];
  if ((pin === undefined || pin === '') === (pinFile === undefined || pinFile === '')) {
    throw new ConfigError(`the pkcs11 root of trust needs one of ${prefix}PIN and ${prefix}PIN_FILE`);
  }
  return {
    kind: 'pkcs11',
    module,
    tokenLabel,
    keyLabel,
    pin: () => {
      if (pin !== undefined && pin !== '') return pin;
      try {
        return readFileSync(pinFile!, 'utf8').split(/\r?\n/)[0]!;
      } catch (err) {
        throw new ConfigError(`cannot read ${prefix}PIN_FILE ${pinFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    },
  };
}

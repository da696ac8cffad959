import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's softhsm2 package puts the PKCS#11 module. */
export const SOFTHSM_MODULE = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so'].find((p) => existsSync(p));

/** Skip reason when SoftHSM2 is missing (CI must have it: .ci/run installs softhsm2). */
export function softhsmSkip(): string | false {
  let missing: string | undefined;
  if (!SOFTHSM_MODULE) missing = 'libsofthsm2.so not found';
  else {
    try {
      execFileSync('softhsm2-util', ['--version'], { stdio: 'ignore' });
    } catch {
      missing = 'softhsm2-util not found';
    }
  }
  if (!missing) return false;
  if (process.env.CI) throw new Error(`${missing} (CI is set, so SoftHSM2 must be installed)`);
  return `${missing}; skipped because CI is not set`;
}

/** A throwaway SoftHSM2 token store: its own SOFTHSM2_CONF and token directory. */
export interface SoftHsm {
  readonly conf: string;
  readonly tokenDir: string;
  /** Initialises a token in a free slot. */
  initToken(label: string, pin: string): void;
  /** The serve/operator environment for the pkcs11 root on `token` with `pin` and `keyLabel`. */
  env(token: string, pin: string, keyLabel?: string): NodeJS.ProcessEnv;
  /** Removes every token (the HSM "goes away"). */
  removeTokens(): void;
  destroy(): void;
}

export function softHsm(): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), 'sr-softhsm-'));
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  return {
    conf,
    tokenDir,
    initToken(label, pin) {
      execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', `${pin}-so`], { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'ignore' });
    },
    env(token, pin, keyLabel = 'strongroom-root') {
      return {
        SOFTHSM2_CONF: conf,
        STRONGROOM_ROOT_OF_TRUST: 'pkcs11',
        STRONGROOM_PKCS11_MODULE: SOFTHSM_MODULE!,
        STRONGROOM_PKCS11_TOKEN_LABEL: token,
        STRONGROOM_PKCS11_PIN: pin,
        STRONGROOM_PKCS11_KEY_LABEL: keyLabel,
      };
    },
    removeTokens() {
      rmSync(tokenDir, { recursive: true, force: true });
      mkdirSync(tokenDir);
    },
    destroy() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

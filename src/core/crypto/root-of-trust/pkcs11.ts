import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Pkcs11js from 'pkcs11js';
import { NONCE_BYTES, TAG_BYTES } from '../aes-gcm.js';
import { SecretBytes } from '../secret-bytes.js';
import { RootOfTrust, RootOfTrustError } from './root-of-trust.js';

// pkcs11js is CommonJS with a native addon: loaded on first use only, so deployments on the file root never load it.
const require = createRequire(import.meta.url);
let binding: typeof Pkcs11js | undefined;
const pkcs11js = (): typeof Pkcs11js => (binding ??= require('pkcs11js') as typeof Pkcs11js);

const FORMAT = 0x01;
const KEY_BYTES = 32;

/** Where the root key is: the PKCS#11 module (.so), the token's label, its user PIN and the key's label. */
export interface Pkcs11Settings {
  readonly module: string;
  readonly tokenLabel: string;
  readonly pin: string;
  readonly keyLabel: string;
}

/**
 * One loaded module per path, initialised once per process and finalised when its last root closes: PKCS#11
 * allows one C_Initialize per library per process (a second answers CKR_CRYPTOKI_ALREADY_INITIALIZED), and
 * rotate-root may hold two roots of one module at once.
 */
const modules = new Map<string, { lib: Pkcs11js.PKCS11; users: number }>();

function loadModule(path: string): Pkcs11js.PKCS11 {
  const known = modules.get(path);
  if (known) {
    known.users += 1;
    return known.lib;
  }
  const lib = new (pkcs11js().PKCS11)();
  try {
    lib.load(path);
  } catch (err) {
    throw new RootOfTrustError(`cannot load the PKCS#11 module ${path} (STRONGROOM_PKCS11_MODULE): ${errorText(err)}`);
  }
  try {
    lib.C_Initialize();
  } catch (err) {
    if (!isCode(err, 'CKR_CRYPTOKI_ALREADY_INITIALIZED')) throw new RootOfTrustError(`the PKCS#11 module ${path} did not initialise: ${errorText(err)}`);
  }
  modules.set(path, { lib, users: 1 });
  return lib;
}

function releaseModule(path: string): void {
  const known = modules.get(path);
  if (!known || --known.users > 0) return;
  modules.delete(path);
  try {
    known.lib.C_Finalize();
  } catch {
    // A module that is gone or broken has nothing left to release.
  }
}

/**
 * The root key is an AES-256 secret key inside a PKCS#11 token (an HSM; SoftHSM2 in the tests), marked
 * CKA_SENSITIVE and not CKA_EXTRACTABLE: it never leaves the token. wrap/unwrap are CKM_AES_GCM operations in
 * the token (a fresh random 96-bit IV, 128-bit tag, the aad bound), blobs `0x01 ‖ iv ‖ ciphertext ‖ tag`.
 * The root wraps only the keyring (keyring.ts), so the token is used once at start, not per request.
 * Every failure is a RootOfTrustError naming the token and the PKCS#11 return value, never the PIN.
 */
export class Pkcs11RootOfTrust implements RootOfTrust {
  readonly kind = 'pkcs11';
  readonly description: string;
  #lib: Pkcs11js.PKCS11 | undefined;
  #session: Buffer;
  #key: Buffer;

  private constructor(
    private readonly settings: Pkcs11Settings,
    lib: Pkcs11js.PKCS11,
    session: Buffer,
    key: Buffer,
    /** Whether this open generated the key (a new deployment, or rotate-root to a new key label). */
    readonly created: boolean,
  ) {
    this.description = describePkcs11(settings);
    this.#lib = lib;
    this.#session = session;
    this.#key = key;
  }

  /**
   * Opens the token and finds the key; with `createKey`, generates it when the token has none of that label.
   * Refuses (RootOfTrustError) a module that does not load, a missing token, a wrong PIN, a missing key, two
   * keys of one label, and a key that is not a sensitive, non-extractable AES-256 key.
   */
  static open(settings: Pkcs11Settings, options: { createKey?: boolean } = {}): Pkcs11RootOfTrust {
    const p = pkcs11js();
    const lib = loadModule(settings.module);
    let session: Buffer | undefined;
    try {
      const slot = findSlot(lib, settings);
      session = lib.C_OpenSession(slot, p.CKF_SERIAL_SESSION | p.CKF_RW_SESSION);
      try {
        lib.C_Login(session, p.CKU_USER, settings.pin);
      } catch (err) {
        if (isCode(err, 'CKR_PIN_INCORRECT')) throw new RootOfTrustError(`the PIN of PKCS#11 token "${settings.tokenLabel}" is wrong (STRONGROOM_PKCS11_PIN / STRONGROOM_PKCS11_PIN_FILE)`);
        if (isCode(err, 'CKR_PIN_LOCKED')) throw new RootOfTrustError(`the PIN of PKCS#11 token "${settings.tokenLabel}" is locked`);
        if (!isCode(err, 'CKR_USER_ALREADY_LOGGED_IN')) throw err;
      }
      let created = false;
      let key = findKey(lib, session, settings);
      if (!key) {
        if (!options.createKey) {
          throw new RootOfTrustError(`PKCS#11 token "${settings.tokenLabel}" has no AES key labelled "${settings.keyLabel}" (STRONGROOM_PKCS11_KEY_LABEL): the root key is missing`);
        }
        key = generateKey(lib, session, settings.keyLabel);
        created = true;
      }
      checkKey(lib, session, key, settings);
      return new Pkcs11RootOfTrust(settings, lib, session, key, created);
    } catch (err) {
      if (session) {
        try {
          lib.C_CloseSession(session);
        } catch {
          // closing what failed to open
        }
      }
      releaseModule(settings.module);
      throw err instanceof RootOfTrustError ? err : new RootOfTrustError(`PKCS#11 token "${settings.tokenLabel}" (${settings.module}): ${errorText(err)}`);
    }
  }

  async wrap(plaintext: SecretBytes, aad: Buffer): Promise<Buffer> {
    const lib = this.#open();
    const iv = randomBytes(NONCE_BYTES);
    try {
      lib.C_EncryptInit(this.#session, this.#mechanism(iv, aad), this.#key);
      const out = lib.C_Encrypt(this.#session, plaintext.reveal(), Buffer.alloc(plaintext.length + TAG_BYTES + 16));
      return Buffer.concat([Buffer.of(FORMAT), iv, out]);
    } catch (err) {
      throw new RootOfTrustError(`the HSM (${this.description}) could not wrap: ${errorText(err)}`);
    }
  }

  async unwrap(wrapped: Buffer, aad: Buffer): Promise<SecretBytes> {
    if (wrapped.length < 1 + NONCE_BYTES + TAG_BYTES || wrapped[0] !== FORMAT) throw new RootOfTrustError('wrapped blob is malformed');
    const lib = this.#open();
    const iv = wrapped.subarray(1, 1 + NONCE_BYTES);
    const body = wrapped.subarray(1 + NONCE_BYTES);
    let out: Buffer;
    try {
      lib.C_DecryptInit(this.#session, this.#mechanism(iv, aad), this.#key);
      out = Buffer.from(lib.C_Decrypt(this.#session, body, Buffer.alloc(body.length)));
    } catch (err) {
      // A tag that does not verify is CKR_ENCRYPTED_DATA_INVALID in the standard, CKR_GENERAL_ERROR in SoftHSM2.
      throw new RootOfTrustError(`wrapped blob does not authenticate under the HSM key (${this.description}: ${errorText(err)})`);
    }
    return SecretBytes.adopt(out);
  }

  async close(): Promise<void> {
    const lib = this.#lib;
    if (!lib) return;
    this.#lib = undefined;
    try {
      lib.C_CloseSession(this.#session);
    } catch {
      // the token may be gone
    }
    releaseModule(this.settings.module);
  }

  #open(): Pkcs11js.PKCS11 {
    if (!this.#lib) throw new RootOfTrustError(`the HSM root of trust (${this.description}) is closed`);
    return this.#lib;
  }

  #mechanism(iv: Buffer, aad: Buffer): Pkcs11js.Mechanism {
    const p = pkcs11js();
    const parameter: Pkcs11js.GcmParams = { type: p.CK_PARAMS_AES_GCM, iv, ivBits: NONCE_BYTES * 8, aad, tagBits: TAG_BYTES * 8 };
    return { mechanism: p.CKM_AES_GCM, parameter };
  }
}

export function describePkcs11(s: { tokenLabel: string; keyLabel: string }): string {
  return `PKCS#11 token "${s.tokenLabel}", key "${s.keyLabel}"`;
}

function findSlot(lib: Pkcs11js.PKCS11, settings: Pkcs11Settings): Buffer {
  const labels: string[] = [];
  for (const slot of lib.C_GetSlotList(true)) {
    const label = lib.C_GetTokenInfo(slot).label.trim();
    if (label === settings.tokenLabel) return slot;
    labels.push(`"${label}"`);
  }
  throw new RootOfTrustError(
    `the PKCS#11 module ${settings.module} has no token labelled "${settings.tokenLabel}" (STRONGROOM_PKCS11_TOKEN_LABEL)` +
      (labels.length > 0 ? `; its tokens: ${labels.join(', ')}` : '; it has no initialised token'),
  );
}

function findKey(lib: Pkcs11js.PKCS11, session: Buffer, settings: Pkcs11Settings): Buffer | undefined {
  const p = pkcs11js();
  lib.C_FindObjectsInit(session, [
    { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
    { type: p.CKA_LABEL, value: settings.keyLabel },
  ]);
  let found: Buffer[];
  try {
    found = lib.C_FindObjects(session, 2);
  } finally {
    lib.C_FindObjectsFinal(session);
  }
  if (found.length > 1) throw new RootOfTrustError(`PKCS#11 token "${settings.tokenLabel}" has several secret keys labelled "${settings.keyLabel}": refusing to guess`);
  return found[0];
}

function generateKey(lib: Pkcs11js.PKCS11, session: Buffer, label: string): Buffer {
  const p = pkcs11js();
  return lib.C_GenerateKey(session, { mechanism: p.CKM_AES_KEY_GEN }, [
    { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
    { type: p.CKA_KEY_TYPE, value: p.CKK_AES },
    { type: p.CKA_VALUE_LEN, value: KEY_BYTES },
    { type: p.CKA_LABEL, value: label },
    { type: p.CKA_TOKEN, value: true },
    { type: p.CKA_PRIVATE, value: true },
    { type: p.CKA_SENSITIVE, value: true },
    { type: p.CKA_EXTRACTABLE, value: false },
    { type: p.CKA_ENCRYPT, value: true },
    { type: p.CKA_DECRYPT, value: true },
    { type: p.CKA_WRAP, value: false },
    { type: p.CKA_UNWRAP, value: false },
  ]);
}

/** A root key must be AES-256, sensitive and never extractable: anything weaker is refused, not used. */
function checkKey(lib: Pkcs11js.PKCS11, session: Buffer, key: Buffer, settings: Pkcs11Settings): void {
  const p = pkcs11js();
  const [type, length, sensitive, extractable] = lib.C_GetAttributeValue(session, key, [
    { type: p.CKA_KEY_TYPE },
    { type: p.CKA_VALUE_LEN },
    { type: p.CKA_SENSITIVE },
    { type: p.CKA_EXTRACTABLE },
  ]).map((a) => a.value as Buffer);
  const num = (b: Buffer | undefined) => (b && b.length > 0 ? Number(b.length >= 8 ? b.readBigUInt64LE(0) : b.readUIntLE(0, Math.min(b.length, 6))) : -1);
  const problems: string[] = [];
  if (num(type) !== p.CKK_AES) problems.push('not an AES key');
  if (num(length) !== KEY_BYTES) problems.push(`not ${KEY_BYTES * 8} bits`);
  if (sensitive?.[0] !== 1) problems.push('not CKA_SENSITIVE');
  if (extractable?.[0] !== 0) problems.push('CKA_EXTRACTABLE');
  if (problems.length > 0) {
    throw new RootOfTrustError(`the key "${settings.keyLabel}" of PKCS#11 token "${settings.tokenLabel}" is ${problems.join(', ')}: a root key must be a sensitive, non-extractable AES-256 key`);
  }
}

function isCode(err: unknown, name: string): boolean {
  return err instanceof Error && err.message.split('\n')[0]!.trim() === name;
}

/** The PKCS#11 return value's name (CKR_…) or the error's first line: never a stack, never an argument. */
function errorText(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]!.trim() : String(err);
}

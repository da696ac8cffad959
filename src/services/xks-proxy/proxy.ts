import { IncomingMessage } from 'node:http';
import { hkdfSync } from 'node:crypto';
import { Logger } from 'pino';
import { open, seal } from '../../core/crypto/aes-gcm.js';
import { SecretBytes } from '../../core/crypto/secret-bytes.js';
import { SigV4Error, verifySigV4, Credential, parseAmzDate } from '../../core/identity/sigv4/verify.js';
import { sha256Hex } from '../../core/identity/sigv4/canonical-request.js';
import { Clock } from '../../core/clock.js';
import { Materials } from '../../core/kms/materials.js';
import { XKS_SIGNING_SERVICE, ciphertextDataIntegrityValue, decodeBase64 } from '../../core/kms/xks/wire.js';
import { BodyTooLargeError, readBody } from '../../http/body.js';
import { Exchange, splitUrl } from '../../http/exchange.js';
import { KeyRecord, MetadataStore } from '../../store/metadata/types.js';
import { statSync } from 'node:fs';
import { XksProxyConfig, XksProxyCredential, readXksProxyCredentials } from './credentials.js';
import { XksError } from './errors.js';

/**
 * Strongroom as an External Key Store proxy (AWS's XKS Proxy API v1,
 * https://github.com/aws/aws-kms-xksproxy-api-spec/blob/main/xks_proxy_api_spec.md): AWS KMS — or any XKS
 * client, Strongroom's own KMS included — uses keys that live in Strongroom.
 *
 * - Where: POST https://<server>/_strongroom/xks/<accountId>/kms/xks/v1/{health | keys/<keyId>/{metadata,encrypt,decrypt}}
 *   (the XksProxyUriPath is `/_strongroom/xks/<accountId>/kms/xks/v1`; the spec's optional path prefix keeps
 *   the accounts apart).
 * - Which keys: an XKS key is a symmetric KMS key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT) of that account, by
 *   its key id, with key material made or imported in Strongroom — wrapped at rest by the root of trust as
 *   every material is. Its KMS key state is its XKS keyStatus (ENABLED only when Enabled). Keys that are
 *   themselves in an external key store are not served (no chains of proxies).
 * - Who: SigV4 with service `kms-xks-proxy` and a credential configured for that account
 *   (STRONGROOM_XKS_PROXY_CREDENTIALS_FILE); signatures compared in constant time; requests more than 5
 *   minutes off the server's clock are refused, as the spec's Appendix A says.
 * - Ciphertext: AES-256-GCM with a random 96-bit IV under the key's current material. ciphertextMetadata
 *   names the material (a version byte and the first 16 bytes of its id), so ciphertexts made before a
 *   rotation still decrypt; the GCM AAD is the spec's (2-byte length || AAD || 1-byte length || metadata).
 */
export const XKS_ROUTE_PREFIX = 'xks/';

/**
 * The AES-256 key the proxy encrypts with: HKDF-SHA256 of the KMS key's material, never the material itself.
 * KMS's own ciphertexts are AES-GCM under the material with AAD = header ‖ encryption context; the proxy's
 * Decrypt takes the caller's IV, AAD and metadata, so with one key for both a caller holding only the proxy's
 * credential could present a KMS ciphertext whose AAD it can reproduce and have it decrypted without kms:Decrypt
 * or the encryption context the key policy asks for. A key of its own for each use (key separation) rules that
 * out, whatever the two AAD formats are.
 */
function proxyKey(material: SecretBytes): Buffer {
  return Buffer.from(hkdfSync('sha256', material.reveal(), Buffer.alloc(0), 'strongroom xks-proxy aes-256-gcm v1', 32));
}

/** Encrypt's plaintext is at most 4300 bytes and AAD 8192 (spec): the JSON of both, base64, fits in 64 KiB. */
const BODY_LIMIT = 64 * 1024;
/** Appendix A: "Any requests more than 5 minutes in the past (or future ...) SHOULD fail authentication." */
const XKS_MAX_SKEW_MS = 5 * 60 * 1000;
/** ciphertextMetadata: this version byte, then the first bytes of the material id (at most 20 bytes in all). */
const METADATA_VERSION = 1;
const METADATA_MATERIAL_BYTES = 16;
const PATH = /^\/_strongroom\/xks\/(\d{12})\/kms\/xks\/v1\/(?:(health)|keys\/([A-Za-z0-9._-]{1,128})\/(metadata|encrypt|decrypt))$/;

export interface XksProxyDeps {
  readonly config: XksProxyConfig;
  readonly store: MetadataStore;
  readonly materials: Materials;
  readonly clock: Clock;
  readonly log: Logger;
  /** Whether the database answers (the health check is deep: it says UNAVAILABLE when not). */
  readonly reachable: () => boolean;
  readonly version: string;
}

type Operation = 'GetHealthStatus' | 'GetKeyMetadata' | 'Encrypt' | 'Decrypt';
const OPERATIONS: Record<string, Operation> = { health: 'GetHealthStatus', metadata: 'GetKeyMetadata', encrypt: 'Encrypt', decrypt: 'Decrypt' };

interface RequestMetadata {
  readonly kmsRequestId: string;
  readonly kmsOperation: string;
  readonly awsPrincipalArn?: string;
  readonly kmsKeyArn?: string;
  readonly kmsViaService?: string;
}

/** How often the credentials file's modification time is looked at (a rotation takes effect within this). */
const RELOAD_CHECK_MS = 1000;

export class XksProxy {
  #credentials: Map<string, ProxyCredential>;
  #fileVersion: string | undefined;
  #checkedAt = 0;

  constructor(private readonly deps: XksProxyDeps) {
    this.#credentials = credentialMap(deps.config.credentials);
    this.#fileVersion = deps.config.file === undefined ? undefined : fileVersion(deps.config.file);
  }

  /**
   * The spec's "SigV4 credentials rotation": the proxy SHOULD accept changed credentials without a restart. The
   * file is looked at at most once a second; a changed file that does not parse is logged and the credentials
   * in use are kept.
   */
  #reload(): void {
    const file = this.deps.config.file;
    const now = Date.now();
    if (file === undefined || now - this.#checkedAt < RELOAD_CHECK_MS) return;
    this.#checkedAt = now;
    const version = fileVersion(file);
    if (version === this.#fileVersion) return;
    this.#fileVersion = version;
    try {
      const next = readXksProxyCredentials(file, (m) => new Error(m));
      this.#credentials = credentialMap(next.credentials);
      this.deps.log.info({ file, credentials: next.credentials.map((c) => ({ accountId: c.accountId, accessKeyId: c.accessKeyId })) }, 'XKS proxy credentials reloaded');
    } catch (err) {
      this.deps.log.error({ file, error: (err as Error).message }, 'XKS proxy credentials file changed but could not be read; the previous credentials stay in use');
    }
  }

  /** The edge's route for /_strongroom/xks/…: answers every request itself, errors included. */
  readonly route = (ex: Exchange): void => {
    ex.note.service = XKS_SIGNING_SERVICE;
    this.#handle(ex).then(
      (body) => this.#send(ex, 200, body),
      (err: unknown) => {
        const e = err instanceof XksError ? err : new XksError('InternalException', 'The XKS proxy failed to process the request.');
        if (!(err instanceof XksError)) this.deps.log.error({ err, requestId: ex.requestId }, 'XKS proxy request failed');
        ex.note.errorCode = e.errorName;
        this.#send(ex, e.status, { errorName: e.errorName, errorMessage: e.message });
      },
    );
  };

  async #handle(ex: Exchange): Promise<unknown> {
    const { rawPath, rawQuery } = splitUrl(ex.req.url ?? '/');
    const m = PATH.exec(rawPath);
    if (!m || rawQuery !== '') throw new XksError('InvalidUriPathException', 'The request URI path is not a path of this XKS proxy.');
    const [, accountId, health, keyId, opName] = m;
    const operation = OPERATIONS[health ?? opName!]!;
    ex.note.operation = operation;
    // The spec: a GET (or any method but POST) at an API's URI is refused with 405 Method Not Allowed.
    if (ex.req.method !== 'POST') throw new XksError('ValidationException', 'XKS proxy API requests are POSTs.', 405);
    let body: Buffer;
    try {
      body = await readBody(ex.req, BODY_LIMIT);
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw new XksError('ValidationException', `The request body is larger than ${BODY_LIMIT} bytes.`);
      throw err;
    }
    await this.#authenticate(ex.req, rawPath, body, accountId!);
    const input = parseJson(body);
    const meta = requestMetadata(input, operation);
    // The spec asks the proxy to log the request metadata (kmsRequestId ties it to the caller's CloudTrail).
    this.deps.log.info(
      { requestId: ex.requestId, xks: { operation, accountId, keyId, kmsRequestId: meta.kmsRequestId, kmsOperation: meta.kmsOperation, awsPrincipalArn: meta.awsPrincipalArn, kmsKeyArn: meta.kmsKeyArn, kmsViaService: meta.kmsViaService } },
      'xks proxy request',
    );
    if (operation === 'GetHealthStatus') return this.#health();
    const key = await this.#key(accountId!, keyId!);
    if (operation === 'GetKeyMetadata') {
      return { keySpec: 'AES_256', keyUsage: ['ENCRYPT', 'DECRYPT'], keyStatus: key.keyState === 'Enabled' ? 'ENABLED' : 'DISABLED' };
    }
    if (key.keyState !== 'Enabled') throw new XksError('InvalidStateException', `The key ${key.keyId} is not enabled (${key.keyState}).`);
    checkAlgorithm(input);
    return operation === 'Encrypt' ? this.#encrypt(key, input) : this.#decrypt(key, input);
  }

  async #authenticate(req: IncomingMessage, rawPath: string, body: Buffer, accountId: string): Promise<void> {
    this.#reload();
    const now = this.deps.clock.now();
    try {
      const verified = await verifySigV4(
        { method: req.method ?? 'POST', rawPath, rawQuery: '', rawHeaders: req.rawHeaders },
        {
          s3: false,
          now: Date.now(),
          sessionNow: now,
          bodySha256: () => sha256Hex(body),
          // A credential serves only its own account's path.
          lookup: async (id) => {
            const c = this.#credentials.get(id);
            return c && c.accountId === accountId ? c : undefined;
          },
          checkScope: (_region, service) => {
            if (service !== XKS_SIGNING_SERVICE) throw new SigV4Error('scope', `The credential scope names service ${service.slice(0, 64)}, not ${XKS_SIGNING_SERVICE}.`);
          },
        },
      );
      if (Math.abs(Date.now() - parseAmzDate(verified.amzDate)) > XKS_MAX_SKEW_MS) throw new SigV4Error('expired', 'The request was signed more than 5 minutes from the proxy\'s time.');
    } catch (err) {
      if (err instanceof SigV4Error) throw new XksError('AuthenticationFailedException', `SigV4 authentication failed: ${err.message}`.slice(0, 500));
      throw err;
    }
  }

  #health(): unknown {
    return {
      xksProxyFleetSize: 1,
      xksProxyVendor: 'Strongroom',
      xksProxyModel: `Strongroom XKS proxy ${this.deps.version}`,
      ekmVendor: 'Strongroom',
      ekmFleetDetails: [{ id: 'strongroom', model: `Strongroom KMS ${this.deps.version}`, healthStatus: this.deps.reachable() ? 'ACTIVE' : 'UNAVAILABLE' }],
    };
  }

  async #key(accountId: string, keyId: string): Promise<KeyRecord> {
    const key = await this.deps.store.getKey(keyId);
    const notFound = () => new XksError('KeyNotFoundException', `The external key ${keyId} was not found.`);
    if (!key || key.accountId !== accountId) throw notFound();
    // Only symmetric encryption keys with material in Strongroom are XKS keys.
    if (key.keySpec !== 'SYMMETRIC_DEFAULT' || key.keyUsage !== 'ENCRYPT_DECRYPT' || key.origin === 'EXTERNAL_KEY_STORE' || key.origin === 'AWS_CLOUDHSM') throw notFound();
    return key;
  }

  async #encrypt(key: KeyRecord, input: Record<string, unknown>): Promise<unknown> {
    const plaintext = base64Field(input, 'plaintext', true)!;
    const aad = base64Field(input, 'additionalAuthenticatedData', false);
    const cdivAlgorithm = input.ciphertextDataIntegrityValueAlgorithm;
    if (cdivAlgorithm !== undefined && cdivAlgorithm !== 'SHA_256') {
      throw new XksError('UnsupportedOperationException', 'ciphertextDataIntegrityValueAlgorithm must be SHA_256.');
    }
    const xksKey = proxyKey(await this.deps.materials.current(key));
    const metadata = Buffer.concat([Buffer.of(METADATA_VERSION), Buffer.from(key.currentMaterialId, 'hex').subarray(0, METADATA_MATERIAL_BYTES)]);
    const fullAad = gcmAad(aad, metadata);
    const sealed = seal(xksKey, plaintext, fullAad);
    plaintext.fill(0);
    const out: Record<string, string> = {
      ciphertext: sealed.ciphertext.toString('base64'),
      ciphertextMetadata: metadata.toString('base64'),
      initializationVector: sealed.nonce.toString('base64'),
      authenticationTag: sealed.tag.toString('base64'),
    };
    if (cdivAlgorithm !== undefined) {
      // Appendix C: the CDIV is computed over the output first, then the output is proven to decrypt.
      out.ciphertextDataIntegrityValue = ciphertextDataIntegrityValue({ aad, metadata, iv: sealed.nonce, ciphertext: sealed.ciphertext, tag: sealed.tag }).toString('base64');
      const check = open(xksKey, sealed.nonce, sealed.ciphertext, sealed.tag, fullAad);
      if (!check) throw new XksError('InternalException', 'The ciphertext made did not decrypt.');
      check.fill(0);
    }
    xksKey.fill(0);
    return out;
  }

  async #decrypt(key: KeyRecord, input: Record<string, unknown>): Promise<unknown> {
    const ciphertext = base64Field(input, 'ciphertext', true)!;
    const iv = base64Field(input, 'initializationVector', true)!;
    const tag = base64Field(input, 'authenticationTag', true)!;
    const aad = base64Field(input, 'additionalAuthenticatedData', false);
    const metadata = base64Field(input, 'ciphertextMetadata', false);
    const invalid = () => new XksError('InvalidCiphertextException', 'The ciphertext, initialization vector, additional authenticated data, metadata or authentication tag is invalid.');
    if ((iv.length !== 12 && iv.length !== 16) || tag.length !== 16) {
      throw new XksError('ValidationException', 'initializationVector must be 12 or 16 bytes and authenticationTag 16 bytes.');
    }
    if (!metadata || metadata.length !== 1 + METADATA_MATERIAL_BYTES || metadata[0] !== METADATA_VERSION) throw invalid();
    const material = await this.#material(key, metadata.subarray(1).toString('hex'));
    if (!material) throw invalid();
    const xksKey = proxyKey(material);
    const plaintext = open(xksKey, iv, ciphertext, tag, gcmAad(aad, metadata));
    xksKey.fill(0);
    if (!plaintext) throw invalid();
    const out = { plaintext: plaintext.toString('base64') };
    plaintext.fill(0);
    return out;
  }

  /** The key's material whose id begins with `prefix` (hex): the current one, else found among its others. */
  async #material(key: KeyRecord, prefix: string): Promise<SecretBytes | undefined> {
    if (key.currentMaterialId.startsWith(prefix)) return this.deps.materials.current(key);
    let after: string | undefined;
    for (;;) {
      const page = await this.deps.store.listMaterials(key.keyId, after, 100);
      const hit = page.items.find((m) => m.materialId.startsWith(prefix));
      if (hit) return this.deps.materials.get(key, hit.materialId);
      if (page.next === undefined) return undefined;
      after = page.next;
    }
  }

  #send(ex: Exchange, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
    if (status === 405) headers.allow = 'POST';
    ex.res.writeHead(status, headers);
    ex.res.end(text);
  }
}

/** The spec's AAD for the key manager: 2-byte big-endian length || AAD || 1-byte length || ciphertextMetadata. */
function gcmAad(aad: Buffer | undefined, metadata: Buffer): Buffer {
  const a = aad ?? Buffer.alloc(0);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(a.length);
  return Buffer.concat([len, a, Buffer.of(metadata.length), metadata]);
}

function parseJson(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new XksError('ValidationException', 'The request body is not JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new XksError('ValidationException', 'The request body is not a JSON object.');
  return value as Record<string, unknown>;
}

/** requestMetadata with the fields the spec marks REQUIRED for the operation (it validates nothing else in it). */
function requestMetadata(input: Record<string, unknown>, operation: Operation): RequestMetadata {
  const meta = input.requestMetadata;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new XksError('ValidationException', 'requestMetadata is required.');
  const m = meta as Record<string, unknown>;
  const required = ['kmsRequestId', 'kmsOperation', ...(operation === 'GetHealthStatus' ? [] : ['awsPrincipalArn']), ...(operation === 'Encrypt' || operation === 'Decrypt' ? ['kmsKeyArn'] : [])];
  for (const name of required) {
    if (typeof m[name] !== 'string' || m[name] === '') throw new XksError('ValidationException', `requestMetadata.${name} is required.`);
  }
  for (const name of ['awsPrincipalArn', 'kmsKeyArn', 'kmsViaService', 'awsSourceVpc', 'awsSourceVpce']) {
    if (m[name] !== undefined && typeof m[name] !== 'string') throw new XksError('ValidationException', `requestMetadata.${name} must be a string.`);
  }
  const s = (v: unknown) => (typeof v === 'string' ? v.slice(0, 2048) : undefined);
  return {
    kmsRequestId: s(m.kmsRequestId)!,
    kmsOperation: s(m.kmsOperation)!,
    ...(typeof m.awsPrincipalArn === 'string' ? { awsPrincipalArn: s(m.awsPrincipalArn)! } : {}),
    ...(typeof m.kmsKeyArn === 'string' ? { kmsKeyArn: s(m.kmsKeyArn)! } : {}),
    ...(typeof m.kmsViaService === 'string' ? { kmsViaService: s(m.kmsViaService)! } : {}),
  };
}

function checkAlgorithm(input: Record<string, unknown>): void {
  const alg = input.encryptionAlgorithm;
  if (typeof alg !== 'string') throw new XksError('ValidationException', 'encryptionAlgorithm is required.');
  if (alg !== 'AES_GCM') throw new XksError('UnsupportedOperationException', 'encryptionAlgorithm must be AES_GCM.');
}

function base64Field(input: Record<string, unknown>, name: string, required: boolean): Buffer | undefined {
  const v = input[name];
  if (v === undefined || v === null) {
    if (required) throw new XksError('ValidationException', `${name} is required.`);
    return undefined;
  }
  const bytes = typeof v === 'string' ? decodeBase64(v) : undefined;
  if (!bytes) throw new XksError('ValidationException', `${name} must be a base64 string.`);
  return bytes;
}

type ProxyCredential = Credential & { accountId: string };

function credentialMap(credentials: readonly XksProxyCredential[]): Map<string, ProxyCredential> {
  return new Map(
    credentials.map((c) => [
      c.accessKeyId,
      {
        accountId: c.accountId,
        secret: SecretBytes.adopt(Buffer.from(c.secretAccessKey, 'utf8')),
        active: true,
        signingKeys: new Map(),
        // The verifier wants a principal; the proxy's caller is the holder of this credential, nothing in IAM.
        principal: { type: 'Root', accountId: c.accountId, arn: `xks-proxy-credential/${c.accessKeyId}`, principalId: c.accessKeyId, accessKeyId: c.accessKeyId },
      },
    ]),
  );
}

/** What tells a changed file: its modification time and size (undefined when it cannot be read). */
function fileVersion(file: string): string | undefined {
  try {
    const st = statSync(file);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Throws thousands of mutated requests at a real server and checks that every answer is well-formed:
 * 200, or a 4xx whose body is `{"__type": <a known AWS code>, "message": <string>}` — never a 5xx, never
 * a hang, never a body that is not JSON. Every input comes from a seeded PRNG; the seed is printed and
 * FUZZ_SEED=<seed> (and FUZZ_COUNT=<n>) reproduce a run.
 */
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { CommonErrors } from '../../../src/core/errors/common.js';
import { KmsErrors } from '../../../src/core/errors/kms.js';
import { KMS_MODEL } from '../../../src/services/kms/index.js';
import { JSON_CONTENT_TYPE, RawRequest, RawResponse, sendRaw, signedJsonRequest } from '../../helpers/raw-request.js';
import { TEST_CREDENTIALS, TestServer, startServer } from '../../helpers/server.js';

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : randomInt(2 ** 31);
const COUNT = Number(process.env.FUZZ_COUNT ?? 3000);
const CONCURRENCY = 16;
const REQUEST_TIMEOUT_MS = 10_000;

const KNOWN_CODES = new Set([...Object.keys(CommonErrors), ...Object.keys(KmsErrors)]);
const AUTH_CODES = new Set([
  'MissingAuthenticationTokenException', 'IncompleteSignatureException', 'InvalidSignatureException', 'UnrecognizedClientException',
]);
const OPERATIONS = Object.keys(KMS_MODEL.operations);
const TARGET_PREFIX = KMS_MODEL.metadata.targetPrefix;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_CIPHERTEXT_BYTES = 6144;

// --- seeded randomness --------------------------------------------------------------------------------

class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 0x9e3779b9;
  }
  /** mulberry32 */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
  /** Printable ASCII, unicode, control characters and lone surrogates, mixed. */
  string(n: number): string {
    const pools = [
      'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
      ' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
      'äöüßéèçñ日本語中文한국어🙂🔑€',
      '\u0000\u0001\u0007\b\t\n\r\u001f\u007f\u2028\u2029\ufeff\ud800\udfff',
    ];
    let out = '';
    for (let i = 0; i < n; i++) out += this.pick([...this.pick(pools)]);
    return out;
  }
}

// --- what the fuzzer knows of the world ---------------------------------------------------------------

interface World {
  /** A key the generic fuzz may do anything to (disable, delete, re-policy). */
  victimId: string;
  victimArn: string;
  victimAlias: string;
  victimCiphertext: string;
  /** A key only the ciphertext mutations use: it stays enabled, so they can expect InvalidCiphertextException. */
  guardedArn: string;
  guardedCiphertext: Buffer;
}

type Category = 'mutated-body' | 'ciphertext' | 'random-bytes' | 'truncated-json' | 'target' | 'unsigned' | 'garbage-signature' | 'mutated-headers';

interface Case {
  readonly index: number;
  readonly category: Category;
  /** How to build the request (signing happens at send time, so the date is current). */
  readonly build: (url: string) => Promise<RawRequest>;
  /** Codes allowed besides the generic rule; undefined = any known code (or 200). */
  readonly expectCodes?: ReadonlySet<string>;
  /** Whether 200 is an acceptable answer. */
  readonly maySucceed: boolean;
  /** Short description for the failure report. */
  readonly describe: string;
}

function garbageValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(0, depth > 3 ? 7 : 11)) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick([0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1.5, -0.0, 1e308, Number.MIN_VALUE]);
    case 3: return rng.string(rng.int(0, 40));
    case 4: return rng.bytes(rng.int(0, 64)).toString('base64');
    case 5: return rng.pick(['', ' ', 'null', 'true', '0', 'alias/', 'arn:aws:kms:us-east-1:111122223333:key/', '../../etc/passwd', '%00', '${jndi:x}', "' OR 1=1 --"]);
    case 6: return 'x'.repeat(rng.int(1000, 200_000));
    case 7: return rng.string(rng.int(1000, 20_000));
    case 8: return Array.from({ length: rng.int(0, 5) }, () => garbageValue(rng, depth + 1));
    case 9: return Object.fromEntries(Array.from({ length: rng.int(0, 5) }, () => [rng.string(rng.int(0, 10)), garbageValue(rng, depth + 1)]));
    case 10: return nested(rng.int(10, 100_000), rng.chance(0.5));
    default: return { ['__proto__']: garbageValue(rng, depth + 1), constructor: { prototype: 1 }, toString: 'x' };
  }
}

/**
 * Deep nesting is written into the JSON text directly (JSON.stringify itself would overflow the stack):
 * the value is a token that `serialize` expands.
 */
function nested(depth: number, arrays: boolean): string {
  return `@@DEEP:${depth}:${arrays ? 'a' : 'o'}@@`;
}

function serialize(body: unknown): string {
  const text = JSON.stringify(body) ?? 'null';
  return text.replace(/"@@DEEP:(\d+):([ao])@@"/g, (_m, n: string, kind: string) =>
    kind === 'a' ? '['.repeat(+n) + '"leaf"' + ']'.repeat(+n) : '{"a":'.repeat(+n) + '"leaf"' + '}'.repeat(+n),
  );
}

/** A plausible value for a member, by its name and its shape in the model. */
function plausible(rng: Rng, world: World, member: string, shapeName: string, depth = 0): unknown {
  const shape = KMS_MODEL.shapes[shapeName]!;
  if (/KeyId$/.test(member) && shape.type === 'string') {
    return rng.pick([world.victimId, world.victimArn, world.victimAlias, 'alias/does-not-exist', '00000000-0000-0000-0000-000000000000', rng.string(8)]);
  }
  switch (member) {
    case 'AliasName': return `alias/fuzz-${rng.int(0, 50)}`;
    case 'Policy': return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' }] });
    case 'Plaintext': return rng.bytes(rng.int(1, 64)).toString('base64');
    case 'CiphertextBlob': return world.victimCiphertext;
    case 'NumberOfBytes': return rng.int(1, 1024);
    case 'Limit': return rng.int(1, 1000);
    case 'PendingWindowInDays': return rng.int(7, 30);
    case 'RotationPeriodInDays': return rng.int(90, 2560);
    case 'Recipient': return undefined;
  }
  if (shape.enum) return rng.pick(shape.enum);
  switch (shape.type) {
    case 'string': return rng.string(rng.int(1, 20));
    case 'blob': return rng.bytes(rng.int(1, 32)).toString('base64');
    case 'integer':
    case 'long': return rng.int(shape.min ?? 0, Math.min(shape.max ?? 100, 10_000));
    case 'boolean': return rng.chance(0.5);
    case 'map': return Object.fromEntries(Array.from({ length: rng.int(0, 3) }, () => [rng.string(rng.int(1, 8)), rng.string(rng.int(0, 8))]));
    case 'list': return depth > 2 ? [] : Array.from({ length: rng.int(0, 3) }, () => plausible(rng, world, 'member', shape.member!.shape, depth + 1));
    case 'structure':
      return depth > 2 ? {} : Object.fromEntries(Object.entries(shape.members ?? {}).map(([m, ref]) => [m, plausible(rng, world, m, ref.shape, depth + 1)]));
    default: return undefined;
  }
}

function plausibleInput(rng: Rng, world: World, op: string): Record<string, unknown> {
  const shape = KMS_MODEL.shapes[KMS_MODEL.operations[op]!.input]!;
  const out: Record<string, unknown> = {};
  for (const [member, ref] of Object.entries(shape.members ?? {})) {
    if ((shape.required ?? []).includes(member) || rng.chance(0.3)) {
      const v = plausible(rng, world, member, ref.shape);
      if (v !== undefined) out[member] = v;
    }
  }
  return out;
}

function mutateInput(rng: Rng, op: string, input: Record<string, unknown>): unknown {
  const shape = KMS_MODEL.shapes[KMS_MODEL.operations[op]!.input]!;
  const members = Object.keys(shape.members ?? {});
  const blobMembers = members.filter((m) => KMS_MODEL.shapes[shape.members![m]!.shape]!.type === 'blob');
  const n = rng.int(1, 3);
  let body: unknown = input;
  for (let i = 0; i < n; i++) {
    const obj = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    const kind = rng.int(0, 9);
    if (kind <= 2 && members.length > 0) obj[rng.pick(members)] = garbageValue(rng);
    else if (kind === 3 && Object.keys(obj).length > 0) delete obj[rng.pick(Object.keys(obj))];
    else if (kind === 4) obj[rng.string(rng.int(1, 12))] = garbageValue(rng);
    else if (kind === 5 && blobMembers.length > 0) {
      const m = rng.pick(blobMembers);
      obj[m] = rng.pick([
        rng.bytes(rng.int(0, 8000)).toString('base64'),
        rng.bytes(rng.int(1, 100)).toString('base64url'),
        rng.bytes(rng.int(1, 100)).toString('base64').replace(/=+$/, ''),
        rng.string(rng.int(1, 100)),
        rng.bytes(rng.int(1, 100)).toString('hex'),
        '====',
        '',
      ]);
    } else if (kind === 6 && members.length > 0) obj[rng.pick(members)] = rng.chance(0.5) ? 'A'.repeat(rng.int(5000, 300_000)) : rng.string(rng.int(2000, 20_000));
    else if (kind === 7) obj[rng.pick(members.length > 0 ? members : ['X'])] = nested(rng.int(50, 200_000), rng.chance(0.5));
    else if (kind === 8) return garbageValue(rng);
    else if (members.length > 0) {
      // A structurally right but semantically odd value: an integer as a string, a string as a number...
      const m = rng.pick(members);
      const v = obj[m];
      obj[m] = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.length : typeof v === 'boolean' ? (v ? 'true' : 1) : [v];
    }
    body = obj;
  }
  return body;
}

function mutateCiphertext(rng: Rng, blob: Buffer): { value: string; describe: string } {
  const b = Buffer.from(blob);
  switch (rng.int(0, 9)) {
    case 0:
    case 1:
    case 2: {
      const flips = rng.int(1, 4);
      for (let i = 0; i < flips; i++) b[rng.int(0, b.length - 1)]! ^= 1 << rng.int(0, 7);
      if (b.equals(blob)) b[0]! ^= 0x80;
      return { value: b.toString('base64'), describe: `${flips} bit flips` };
    }
    case 3: {
      const len = rng.int(1, b.length - 1);
      return { value: b.subarray(0, len).toString('base64'), describe: `truncated to ${len}` };
    }
    case 4: return { value: Buffer.concat([b, rng.bytes(rng.int(1, 64))]).toString('base64'), describe: 'extended' };
    case 5: {
      const at = rng.int(0, b.length - 1);
      rng.bytes(Math.min(b.length - at, rng.int(1, 16))).copy(b, at);
      if (b.equals(blob)) b[at]! ^= 0xff;
      return { value: b.toString('base64'), describe: `overwritten at ${at}` };
    }
    case 6: return { value: rng.bytes(rng.int(1, 400)).toString('base64'), describe: 'random bytes' };
    case 7: {
      const big = rng.int(MAX_CIPHERTEXT_BYTES + 1, 3 * MAX_CIPHERTEXT_BYTES);
      return { value: Buffer.concat([b, rng.bytes(big - b.length)]).toString('base64'), describe: `too long (${big})` };
    }
    case 8: {
      let value = rng.pick(['', b.toString('base64url'), b.toString('base64').replace(/=+$/, '') + '!', b.toString('hex'), b.toString('base64') + '\n', ' ' + b.toString('base64')]);
      // base64url of a blob without '+', '/' or padding is the blob itself: make it differ.
      if (BASE64.test(value) && Buffer.from(value, 'base64').equals(blob)) value += 'AAAA';
      return { value, describe: 'odd encoding' };
    }
    default: {
      // Header intact, body and tag swapped with another blob's: must not authenticate.
      const other = rng.bytes(b.length);
      const headerLen = 3 + b.readUInt16BE(1) + 32 + 12;
      other.copy(b, headerLen, headerLen);
      return { value: b.toString('base64'), describe: 'header kept, rest random' };
    }
  }
}

function expectedCiphertextCode(value: string): string {
  if (!BASE64.test(value)) return 'SerializationException';
  const n = Buffer.from(value, 'base64').length;
  if (n < 1 || n > MAX_CIPHERTEXT_BYTES) return 'ValidationException';
  return 'InvalidCiphertextException';
}

function randomTarget(rng: Rng): string {
  const op = rng.pick(OPERATIONS);
  return rng.pick([
    `${TARGET_PREFIX}.${op}`,
    `${TARGET_PREFIX}.${op.toLowerCase()}`,
    `${TARGET_PREFIX}.${op}${rng.string(rng.int(1, 4))}`,
    `${TARGET_PREFIX}.${rng.string(rng.int(0, 30))}`,
    `${TARGET_PREFIX}.${op.slice(0, rng.int(0, op.length - 1))}`,
    `${TARGET_PREFIX}..${op}`,
    `${TARGET_PREFIX}.${op}.${op}`,
    `${rng.string(rng.int(0, 12))}.${op}`,
    `${TARGET_PREFIX}.constructor`,
    `${TARGET_PREFIX}.__proto__`,
    `${TARGET_PREFIX}.hasOwnProperty`,
    `${TARGET_PREFIX}.toString`,
    `${TARGET_PREFIX}`,
    `Kms_20141101.${op}`,
  ]).replace(/[^\t\x20-\x7e]/g, '?'); // header values must be sendable
}

function headerSafe(rng: Rng, n: number): string {
  return rng.string(n).replace(/[^\t\x20-\x7e]/g, '');
}

function makeCase(rng: Rng, world: World, index: number): Case {
  const roll = rng.next();
  const op = rng.pick(OPERATIONS);
  const target = `${TARGET_PREFIX}.${op}`;
  const anyCode = { maySucceed: true } as const;

  if (roll < 0.35) {
    const body = serialize(mutateInput(rng, op, plausibleInput(rng, world, op)));
    return { index, category: 'mutated-body', ...anyCode, describe: `${target} ${body.slice(0, 300)}`, build: (url) => signedJsonRequest(url, target, body) };
  }
  if (roll < 0.5) {
    const { value, describe } = mutateCiphertext(rng, world.guardedCiphertext);
    const reEncrypt = rng.chance(0.3);
    const input = reEncrypt
      ? { CiphertextBlob: value, DestinationKeyId: world.guardedArn }
      : { CiphertextBlob: value, ...(rng.chance(0.3) ? { EncryptionContext: { purpose: 'fuzz' } } : {}) };
    const t = `${TARGET_PREFIX}.${reEncrypt ? 'ReEncrypt' : 'Decrypt'}`;
    const body = JSON.stringify(input);
    return {
      index,
      category: 'ciphertext',
      maySucceed: false,
      expectCodes: new Set([expectedCiphertextCode(value)]),
      describe: `${t} (${describe}) ${body.slice(0, 300)}`,
      build: (url) => signedJsonRequest(url, t, body),
    };
  }
  if (roll < 0.58) {
    const body = rng.bytes(rng.int(0, rng.chance(0.1) ? 200_000 : 2000));
    return { index, category: 'random-bytes', ...anyCode, describe: `${target} ${body.length} random bytes ${body.subarray(0, 40).toString('hex')}`, build: (url) => signedJsonRequest(url, target, body) };
  }
  if (roll < 0.66) {
    const full = JSON.stringify(plausibleInput(rng, world, op));
    const body = full.slice(0, rng.int(0, Math.max(0, full.length - 1))) + rng.pick(['', '', ',', '"', '\\', '{', ']', '\u0000', '\ud800']);
    return { index, category: 'truncated-json', ...anyCode, describe: `${target} ${JSON.stringify(body.slice(0, 300))}`, build: (url) => signedJsonRequest(url, target, body) };
  }
  if (roll < 0.76) {
    const t = randomTarget(rng);
    const body = JSON.stringify(rng.chance(0.5) ? plausibleInput(rng, world, rng.pick(OPERATIONS)) : {});
    return { index, category: 'target', ...anyCode, describe: `${JSON.stringify(t)} ${body.slice(0, 200)}`, build: (url) => signedJsonRequest(url, t, body) };
  }
  if (roll < 0.84) {
    const body = JSON.stringify(plausibleInput(rng, world, op));
    const extra: Record<string, string> = {};
    if (rng.chance(0.5)) extra['x-amz-date'] = rng.pick(['20240101T000000Z', new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, ''), headerSafe(rng, 16)]);
    if (rng.chance(0.3)) extra['x-amz-content-sha256'] = headerSafe(rng, 64);
    return {
      index,
      category: 'unsigned',
      maySucceed: false,
      expectCodes: AUTH_CODES,
      describe: `${target} unsigned ${JSON.stringify(extra)}`,
      build: async (url) => ({
        headers: { host: new URL(url).host, 'content-type': JSON_CONTENT_TYPE, 'x-amz-target': target, 'content-length': String(Buffer.byteLength(body)), ...extra },
        body,
      }),
    };
  }
  if (roll < 0.92) {
    const body = JSON.stringify(plausibleInput(rng, world, op));
    const variant = rng.int(0, 8);
    const sig = rng.bytes(32).toString('hex');
    const garbage = headerSafe(rng, rng.int(0, 200));
    const badKeyId = headerSafe(rng, 20).replace(/[\s/,=]/g, 'A') || 'A';
    const skewMinutes = rng.int(16, 100_000);
    const badService = rng.pick(['s3', 'iam', 'sts', 'KMS', 'kmss']);
    return {
      index,
      category: 'garbage-signature',
      maySucceed: false,
      expectCodes: AUTH_CODES,
      describe: `${target} garbage signature variant ${variant} ${JSON.stringify(garbage.slice(0, 80))}`,
      build: async (url) => {
        const opts =
          variant === 0 ? { credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' } }
          : variant === 1 ? { credentials: { accessKeyId: badKeyId, secretAccessKey: 'x' } }
          : variant === 2 ? { region: 'xx-nowhere-9' }
          : variant === 3 ? { signingDate: new Date(Date.now() - skewMinutes * 60_000) }
          : variant === 4 ? { service: badService }
          : {};
        const req = await signedJsonRequest(url, target, body, opts);
        if (variant === 5) req.headers.authorization = req.headers.authorization!.replace(/Signature=[0-9a-f]+/, `Signature=${sig}`);
        if (variant === 6) req.headers.authorization = garbage;
        if (variant === 7) req.headers.authorization = req.headers.authorization!.replace(/(Credential|SignedHeaders|Signature)=[^,]*/, (_m, k: string) => `${k}=${garbage.replace(/,/g, '')}`);
        if (variant === 8) req.headers.authorization = `AWS4-HMAC-SHA256 ${garbage}`;
        return req;
      },
    };
  }
  // Headers changed after signing.
  const body = JSON.stringify(plausibleInput(rng, world, op));
  const variant = rng.int(0, 9);
  const value = headerSafe(rng, rng.int(0, 60));
  const otherTarget = randomTarget(rng);
  const port = rng.int(1, 65535);
  return {
    index,
    category: 'mutated-headers',
    maySucceed: variant === 6 || variant === 7, // unsigned headers may change freely
    ...(variant === 6 || variant === 7 ? {} : { expectCodes: new Set([...AUTH_CODES, 'UnknownOperationException']) }),
    describe: `${target} header mutation ${variant} ${variant === 5 ? JSON.stringify(otherTarget) : JSON.stringify(value)}`,
    build: async (url) => {
      const req = await signedJsonRequest(url, target, body, { headers: { 'x-amz-meta-fuzz': 'signed' } });
      const h = req.headers;
      switch (variant) {
        case 0: h['content-type'] = value; break;
        case 1: h['x-amz-meta-fuzz'] = value + '!'; break;
        case 2: h['x-amz-date'] = value; break;
        case 3: h['x-amz-content-sha256'] = value; break;
        case 4: h.host = `evil.example:${port}`; break;
        case 5: h['x-amz-target'] = otherTarget; break;
        case 6: h['user-agent'] = value; break;
        case 7: h[`x-unsigned-${port % 10}`] = value; break;
        case 8: delete h['x-amz-content-sha256']; delete h['x-amz-date']; break;
        default: h.authorization = h.authorization!.replace('SignedHeaders=', 'SignedHeaders=x-amz-meta-fuzz;'); break;
      }
      // HTTP drops leading and trailing spaces and tabs of a header value (RFC 9110 §5.5): a target that differs
      // from the signed one only by them is the same request, not a changed one.
      if (variant === 5 && h['x-amz-target']!.replace(/^[ \t]+|[ \t]+$/g, '') === target) h['x-amz-target'] = target + 'X';
      return req;
    },
  };
}

// --- judging an answer --------------------------------------------------------------------------------

function judge(c: Case, res: RawResponse): string | undefined {
  if (res.status >= 500) return `status ${res.status}: ${res.text.slice(0, 200)}`;
  if (res.status !== 200 && (res.status < 400 || res.status > 499)) return `status ${res.status}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    return `status ${res.status}, body not JSON: ${JSON.stringify(res.text.slice(0, 200))}`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return `body is not a JSON object: ${res.text.slice(0, 200)}`;
  if (res.status === 200) return c.maySucceed ? undefined : `succeeded (200) but must not: ${res.text.slice(0, 200)}`;
  const err = parsed as { __type?: unknown; message?: unknown };
  if (typeof err.__type !== 'string' || typeof err.message !== 'string') return `not {"__type","message"}: ${res.text.slice(0, 200)}`;
  if (!KNOWN_CODES.has(err.__type)) return `unknown code ${err.__type}`;
  if (c.expectCodes && !c.expectCodes.has(err.__type)) return `got ${err.__type} (${err.message.slice(0, 160)}), expected one of ${[...c.expectCodes].join(', ')}`;
  return undefined;
}

async function runPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

describe(`KMS fuzz: ${COUNT} mutated requests (FUZZ_SEED=${SEED})`, () => {
  let server: TestServer;
  let kms: KMSClient;
  let world: World;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  before(async () => {
    console.log(`fuzz seed: ${SEED} (rerun with FUZZ_SEED=${SEED})`);
    server = await startServer();
    kms = server.kms();
    const victim = (await kms.send(new CreateKeyCommand({ Description: 'fuzz victim' }))).KeyMetadata!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/fuzz-victim', TargetKeyId: victim.KeyId }));
    const guarded = (await kms.send(new CreateKeyCommand({ Description: 'fuzz guarded' }))).KeyMetadata!;
    const victimEnc = await kms.send(new EncryptCommand({ KeyId: victim.KeyId, Plaintext: Buffer.from('victim') }));
    const guardedEnc = await kms.send(new EncryptCommand({ KeyId: guarded.KeyId, Plaintext: Buffer.from('guarded plaintext'), EncryptionContext: { purpose: 'fuzz' } }));
    world = {
      victimId: victim.KeyId!,
      victimArn: victim.Arn!,
      victimAlias: 'alias/fuzz-victim',
      victimCiphertext: Buffer.from(victimEnc.CiphertextBlob!).toString('base64'),
      guardedArn: guarded.Arn!,
      guardedCiphertext: Buffer.from(guardedEnc.CiphertextBlob!),
    };
  });
  after(async () => {
    agent.destroy();
    await server.destroy();
  });

  it('answers every request with 200 or a well-formed AWS JSON 4xx, never a 5xx, non-JSON or hang', { timeout: 120_000 }, async () => {
    const rng = new Rng(SEED);
    const cases = Array.from({ length: COUNT }, (_, i) => makeCase(rng, world, i));
    const failures: string[] = [];
    const byCategory = new Map<string, { n: number; ok200: number; codes: Map<string, number> }>();
    const started = Date.now();
    await runPool(cases, CONCURRENCY, async (c) => {
      let res: RawResponse;
      try {
        res = await sendRaw(server.url, await c.build(server.url), { timeoutMs: REQUEST_TIMEOUT_MS, agent });
      } catch (err) {
        failures.push(`#${c.index} [${c.category}] ${c.describe.slice(0, 400)}\n    -> ${String(err)}`);
        return;
      }
      const stats = byCategory.get(c.category) ?? { n: 0, ok200: 0, codes: new Map<string, number>() };
      byCategory.set(c.category, stats);
      stats.n++;
      if (res.status === 200) stats.ok200++;
      else {
        const code = /"__type":"([^"]*)"/.exec(res.text)?.[1] ?? `status ${res.status}`;
        stats.codes.set(code, (stats.codes.get(code) ?? 0) + 1);
      }
      const problem = judge(c, res);
      if (problem) failures.push(`#${c.index} [${c.category}] ${c.describe.slice(0, 400)}\n    -> ${problem}`);
    });
    const ms = Date.now() - started;
    console.log(`fuzz: ${COUNT} requests in ${ms} ms, seed ${SEED}`);
    for (const [cat, s] of [...byCategory].sort()) {
      console.log(`  ${cat}: ${s.n} requests, ${s.ok200} x 200, ${[...s.codes].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} x${v}`).join(', ')}`);
    }
    assert.equal(
      failures.length,
      0,
      `FUZZ_SEED=${SEED}: ${failures.length} bad answers; first ones:\n${failures.slice(0, 25).join('\n')}`,
    );
    const internal = server.logs.filter((l) => /"msg":"(internal error|unhandled error)"/.test(l));
    assert.deepEqual(internal.map((l) => l.slice(0, 300)), [], 'the server logged internal errors');
  });

  it('is still healthy afterwards: /_strongroom/health is 200 and Encrypt/Decrypt work', async () => {
    const health = await sendRaw(server.url, { method: 'GET', path: '/_strongroom/health', headers: {} });
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.text).status, 'ok');
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const enc = await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('after the storm'), EncryptionContext: { a: 'b' } }));
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: 'b' } }));
    assert.equal(Buffer.from(dec.Plaintext!).toString(), 'after the storm');
    const guarded = await kms.send(new DecryptCommand({ CiphertextBlob: world.guardedCiphertext, EncryptionContext: { purpose: 'fuzz' } }));
    assert.equal(Buffer.from(guarded.Plaintext!).toString(), 'guarded plaintext');
  });
});

/** Minimal reproductions of what the fuzzer found, each asserting what AWS KMS answers. */
describe('KMS malformed-input edge cases (found by the fuzzer)', () => {
  let server: TestServer;
  let kms: KMSClient;
  let keyId: string;

  before(async () => {
    server = await startServer();
    kms = server.kms();
    keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  });
  after(() => server.destroy());

  async function call(target: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await sendRaw(server.url, await signedJsonRequest(server.url, `${TARGET_PREFIX}.${target}`, body));
    return { status: res.status, json: JSON.parse(res.text) as Record<string, unknown> };
  }

  it('Decrypt and ReEncrypt without a CiphertextBlob are ValidationException (400), not a 500', async () => {
    for (const [op, body] of [
      ['Decrypt', '{}'],
      ['Decrypt', `{"KeyId":"${keyId}"}`],
      ['ReEncrypt', `{"DestinationKeyId":"${keyId}"}`],
    ] as const) {
      const res = await call(op, body);
      assert.equal(res.status, 400, `${op} ${body}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json.__type, 'ValidationException', `${op} ${body}: ${JSON.stringify(res.json)}`);
      assert.match(String(res.json.message), /ciphertext/i);
    }
  });

  it('a deeply nested array in a list member (GrantTokens, TagKeys) is SerializationException, not a stack overflow', async () => {
    const deep = (n: number) => '['.repeat(n) + '"x"' + ']'.repeat(n);
    for (const [op, body] of [
      ['DescribeKey', `{"KeyId":"${keyId}","GrantTokens":${deep(100_000)}}`],
      ['UntagResource', `{"KeyId":"${keyId}","TagKeys":${deep(100_000)}}`],
      ['Encrypt', `{"KeyId":"${keyId}","Plaintext":"AA==","GrantTokens":${deep(20_000)}}`],
    ] as const) {
      const res = await call(op, body);
      assert.equal(res.status, 400, `${op}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json.__type, 'SerializationException', `${op}: ${JSON.stringify(res.json)}`);
    }
  });

  it("an encryption context key named '__proto__' is bound like any other key", async () => {
    const enc = await call('Encrypt', JSON.stringify({ KeyId: keyId, Plaintext: 'aGVsbG8=', EncryptionContext: { purpose: 'x' } }).replace('"purpose"', '"__proto__"'));
    assert.equal(enc.status, 200, JSON.stringify(enc.json));
    const blob = String(enc.json.CiphertextBlob);
    const withoutContext = await call('Decrypt', JSON.stringify({ CiphertextBlob: blob }));
    assert.equal(withoutContext.json.__type, 'InvalidCiphertextException', 'decrypted without the __proto__ pair');
    const right = await call('Decrypt', JSON.stringify({ CiphertextBlob: blob, EncryptionContext: { purpose: 'x' } }).replace('"purpose"', '"__proto__"'));
    assert.equal(right.status, 200, JSON.stringify(right.json));
    // And an extra '__proto__' pair must not be ignored when decrypting a ciphertext bound to {a: '1'}.
    const other = await call('Encrypt', JSON.stringify({ KeyId: keyId, Plaintext: 'aGVsbG8=', EncryptionContext: { a: '1' } }));
    const extra = await call('Decrypt', JSON.stringify({ CiphertextBlob: other.json.CiphertextBlob, EncryptionContext: { a: '1', purpose: 'y' } }).replace('"purpose"', '"__proto__"'));
    assert.equal(extra.json.__type, 'InvalidCiphertextException', 'decrypted with an extra __proto__ pair');
  });
});

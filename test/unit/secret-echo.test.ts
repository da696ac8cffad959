/**
 * Issue 9, item 9: validation messages echoed ciphertext blobs and MFA token codes, and the audit record
 * (its errorMessage, its requestParameters) kept them. The rule, checked here over every operation of every
 * model Strongroom serves: a value of a blob, of a `sensitive` shape or of a secret member
 * (src/services/secret-members.ts), or anything inside one, is never echoed by a validation message of the
 * JSON or the Query codec, and never appears in the audit view of a request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditView } from '../../src/services/audit.js';
import { CLOUDTRAIL_CODEC } from '../../src/services/cloudtrail/index.js';
import { IAM_CODEC } from '../../src/services/iam/index.js';
import { KMS_CODEC } from '../../src/services/kms/index.js';
import { SECRET_MEMBERS } from '../../src/services/secret-members.js';
import { Shape } from '../../src/services/shapes.js';
import { STS_CODEC } from '../../src/services/sts/index.js';

interface Codec {
  readonly model: { readonly operations: Record<string, { input: string | null; output: string | null }>; readonly shapes: Record<string, Shape> };
  decodeInput(operation: string, raw: unknown): Record<string, unknown>;
}

const SERVICES: [string, Codec, 'json' | 'query'][] = [
  ['kms', KMS_CODEC as unknown as Codec, 'json'],
  ['cloudtrail', CLOUDTRAIL_CODEC as unknown as Codec, 'json'],
  ['iam', IAM_CODEC as unknown as Codec, 'query'],
  ['sts', STS_CODEC as unknown as Codec, 'query'],
];

const MARKER = 'SECRETMARKERq7Zt';

/** A step of the way to a member: a structure member's name, or a list's element. */
type Step = { member: string } | { item: true };

interface SecretLeaf {
  readonly path: readonly Step[];
  readonly shape: Shape;
}

/** Every scalar reachable from `shapeName` that is secret or inside something secret (depth-bounded). */
function secretLeaves(shapes: Record<string, Shape>, shapeName: string, secret = false, path: Step[] = [], depth = 0): SecretLeaf[] {
  const shape = shapes[shapeName]!;
  const hidden = secret || shape.sensitive === true || shape.type === 'blob';
  if (depth > 6) return [];
  switch (shape.type) {
    case 'structure':
      return Object.entries(shape.members ?? {}).flatMap(([name, ref]) =>
        secretLeaves(shapes, ref.shape, hidden || SECRET_MEMBERS.has(name), [...path, { member: name }], depth + 1),
      );
    case 'list':
      return secretLeaves(shapes, shape.member!.shape, hidden, [...path, { item: true }], depth + 1);
    case 'map':
      return [];
    default:
      return hidden ? [{ path, shape }] : [];
  }
}

/** A value of `shape` that carries MARKER and breaks one of its constraints, or undefined if none can be broken. */
function offending(shape: Shape): string | undefined {
  if (shape.type === 'blob') {
    // Valid base64 of bytes that spell the marker, one byte past the maximum (or short of the minimum).
    const bytes = shape.max !== undefined ? Buffer.from(MARKER.repeat(Math.ceil((shape.max + 1) / MARKER.length))) : shape.min !== undefined && shape.min > 1 ? Buffer.from(MARKER.slice(0, shape.min - 1)) : undefined;
    return bytes?.toString('base64');
  }
  if (shape.type === 'string') {
    if (shape.max !== undefined) return MARKER.padEnd(shape.max + 1, 'Z');
    if (shape.pattern !== undefined || shape.enum !== undefined || (shape.min !== undefined && shape.min > MARKER.length)) return `${MARKER}\u0001!`;
    return undefined;
  }
  return undefined;
}

/** The JSON input with `value` at `path`. */
function jsonInput(path: readonly Step[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [step, ...rest] = path;
  return 'item' in step! ? [jsonInput(rest, value)] : { [step!.member]: jsonInput(rest, value) };
}

/** The Query parameters with `value` at `path` (lists as `Name.member.1`). */
function queryInput(path: readonly Step[], value: string): Map<string, string> {
  let key = '';
  for (const step of path) key = 'item' in step ? `${key}.member.1` : key === '' ? step.member : `${key}.${step.member}`;
  return new Map([[key, value]]);
}

function spellingsOf(value: string): string[] {
  return [MARKER, value.slice(0, 24), Buffer.from(MARKER).toString('base64').slice(0, 16)];
}

describe('secret values are never echoed by validation messages nor kept in audit records', () => {
  it('the generic walk finds the members the issue names (a sanity check of the walk itself)', () => {
    const names = (codec: Codec, op: string) => secretLeaves(codec.model.shapes, codec.model.operations[op]!.input!).map((l) => l.path.map((s) => ('item' in s ? '[]' : s.member)).join('.'));
    assert.ok(names(KMS_CODEC as unknown as Codec, 'Decrypt').includes('CiphertextBlob'));
    assert.ok(names(KMS_CODEC as unknown as Codec, 'Encrypt').includes('Plaintext'));
    assert.ok(names(STS_CODEC as unknown as Codec, 'AssumeRole').includes('TokenCode'));
    assert.ok(names(STS_CODEC as unknown as Codec, 'GetSessionToken').includes('TokenCode'));
  });

  for (const [service, codec, protocol] of SERVICES) {
    it(`${service}: every secret member with a constraint to break fails validation without its value in the message`, () => {
      let checked = 0;
      for (const [op, { input }] of Object.entries(codec.model.operations)) {
        if (input === null) continue;
        for (const leaf of secretLeaves(codec.model.shapes, input)) {
          const value = offending(leaf.shape);
          if (value === undefined) continue;
          const raw = protocol === 'json' ? jsonInput(leaf.path, value) : queryInput(leaf.path, value);
          let message: string | undefined;
          try {
            codec.decodeInput(op, raw);
          } catch (err) {
            message = (err as Error).message;
          }
          const where = `${service} ${op} ${leaf.path.map((s) => ('item' in s ? '[]' : s.member)).join('.')}`;
          assert.ok(message !== undefined, `${where}: the value was accepted`);
          for (const s of spellingsOf(value)) assert.ok(!message.includes(s), `${where}: "${message}" echoes the value`);
          checked++;
        }
      }
      if (service === 'kms' || service === 'sts') assert.ok(checked > 0, 'nothing was checked');
    });

    it(`${service}: the audit view of a request shows no secret member, whatever it holds`, () => {
      for (const [op, { input }] of Object.entries(codec.model.operations)) {
        if (input === null) continue;
        for (const leaf of secretLeaves(codec.model.shapes, input)) {
          // The value as the codec would have decoded it: a Buffer for blobs, the text otherwise.
          const value = leaf.shape.type === 'blob' ? Buffer.from(MARKER) : MARKER;
          const shown = JSON.stringify(auditView(codec.model, input, jsonInput(leaf.path, value)) ?? null);
          assert.ok(!shown.includes(MARKER) && !shown.includes(Buffer.from(MARKER).toString('base64').slice(0, 16)), `${service} ${op}: ${shown}`);
        }
      }
    });
  }
});

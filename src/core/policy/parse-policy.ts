import { PolicyError, quote } from './policy-error.js';
import { CompiledStatement, PolicyKind, compileStatement } from './statement.js';

/**
 * Parsing, validating and compiling a policy document, once; evaluation then reads no JSON and builds no
 * regular expression except for patterns that contain policy variables.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 */
export type PolicyVersion = '2012-10-17' | '2008-10-17';

export interface CompiledPolicy {
  readonly kind: PolicyKind;
  /** 2008-10-17 when the document has no Version ("If you do not include a Version element, the value defaults to 2008-10-17"). */
  readonly version: PolicyVersion;
  readonly id: string | undefined;
  /** In document order. */
  readonly statements: readonly CompiledStatement[];
}

const TOP_LEVEL = new Set(['Version', 'Id', 'Statement']);

/** Parses a policy document; throws PolicyError naming the first problem. */
export function parsePolicy(json: string, kind: PolicyKind): CompiledPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    // JSON.parse's message quotes the document; it is not passed on.
    throw new PolicyError('', 'The policy is not valid JSON');
  }
  return compilePolicy(doc, kind);
}

/** Compiles an already-parsed document (a JSON value). */
export function compilePolicy(doc: unknown, kind: PolicyKind): CompiledPolicy {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new PolicyError('', 'The policy must be a JSON object');
  const d = doc as Record<string, unknown>;
  for (const name of Object.keys(d)) if (!TOP_LEVEL.has(name)) throw new PolicyError('', `The policy has an unknown element ${quote(name)}`);

  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
  if (d.Version !== undefined && d.Version !== '2012-10-17' && d.Version !== '2008-10-17') {
    throw new PolicyError('Version', 'must be "2012-10-17" or "2008-10-17"');
  }
  const version: PolicyVersion = d.Version ?? '2008-10-17';
  if (d.Id !== undefined && typeof d.Id !== 'string') throw new PolicyError('Id', 'must be a string');
  if (d.Statement === undefined) throw new PolicyError('', 'The policy must have a Statement');

  // Policy variables exist from 2012-10-17 on; before, "${aws:username}" is literal text.
  const variables = version === '2012-10-17';
  const list = Array.isArray(d.Statement) ? d.Statement : [d.Statement];
  if (list.length === 0) throw new PolicyError('Statement', 'must have at least one statement');
  const statements = list.map((s, i) => compileStatement(s, Array.isArray(d.Statement) ? `Statement[${i}]` : 'Statement', i, kind, variables));
  return Object.freeze({ kind, version, id: d.Id, statements: Object.freeze(statements) });
}

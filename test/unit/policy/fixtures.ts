import { evaluate } from '../../../src/core/policy/evaluate.js';
import { CompiledPolicy, parsePolicy } from '../../../src/core/policy/parse-policy.js';
import { ContextValue, RequestPrincipal } from '../../../src/core/policy/request.js';
import { PolicyKind } from '../../../src/core/policy/statement.js';

export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';
export const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

export function user(name: string, accountId = ACCOUNT, tags?: Record<string, string>): RequestPrincipal {
  return { type: 'IAMUser', accountId, arn: `arn:aws:iam::${accountId}:user/${name}`, userName: name, principalId: `AIDA${name.toUpperCase()}`, tags };
}

export function root(accountId = ACCOUNT): RequestPrincipal {
  return { type: 'Root', accountId, arn: `arn:aws:iam::${accountId}:root`, principalId: accountId };
}

export function roleSession(role: string, session: string, accountId = ACCOUNT): RequestPrincipal {
  return {
    type: 'AssumedRole',
    accountId,
    arn: `arn:aws:sts::${accountId}:assumed-role/${role}/${session}`,
    roleArn: `arn:aws:iam::${accountId}:role/${role}`,
    principalId: `AROA${role.toUpperCase()}:${session}`,
  };
}

export const alice = user('alice');
export const bob = user('bob');

export function compile(doc: unknown, kind: PolicyKind = 'identity'): CompiledPolicy {
  return parsePolicy(JSON.stringify(doc), kind);
}

export function named(name: string, doc: unknown, kind: PolicyKind = 'identity') {
  return { name, policy: compile(doc, kind) };
}

/** A 2012-10-17 document holding the given statements. */
export function doc(...statements: object[]) {
  return { Version: '2012-10-17', Statement: statements };
}

export interface Ask {
  principal?: RequestPrincipal;
  action?: string;
  resource?: string;
  context?: Record<string, ContextValue>;
}

/** The decision of one policy document for one request (defaults: alice, kms:Decrypt on KEY_ARN). */
export function decide(document: unknown, ask: Ask = {}, kind: PolicyKind = 'identity') {
  return evaluate([named('p', document, kind)], {
    principal: ask.principal ?? alice,
    action: ask.action ?? 'kms:Decrypt',
    resource: ask.resource ?? KEY_ARN,
    context: ask.context,
  }).decision;
}

/** Whether a Condition block holds for a request context (an Allow-everything statement guarded by it). */
export function holds(condition: object, context: Record<string, ContextValue> = {}, principal: RequestPrincipal = alice): boolean {
  return decide(doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: condition }), { context, principal }) === 'Allow';
}

/**
 * The IAM policy language: parse and compile documents, evaluate them, decide KMS access.
 * core/kms/access-control.ts puts it behind KMS; the IAM and STS services use `evaluate` directly.
 */
export { PolicyError } from './policy-error.js';
export {
  IAM_GROUP_INLINE_POLICIES_MAX_CHARS,
  IAM_MANAGED_POLICY_MAX_CHARS,
  IAM_ROLE_INLINE_POLICIES_MAX_CHARS,
  IAM_ROLE_TRUST_POLICY_MAX_CHARS,
  IAM_USER_INLINE_POLICIES_MAX_CHARS,
  KMS_KEY_POLICY_MAX_BYTES,
  iamPolicyLength,
} from './limits.js';
export { compilePolicy, parsePolicy } from './parse-policy.js';
export type { CompiledPolicy, PolicyVersion } from './parse-policy.js';
export type { CompiledStatement, Effect, MatchedVia, PolicyKind } from './statement.js';
export type { PrincipalMatch } from './principal-matcher.js';
export { ContextKeys } from './request.js';
export type { ContextValue, PolicyRequest, PrincipalType, RequestContext, RequestPrincipal, UnknownKeys } from './request.js';
export { OVER_BUDGET_REASON, evaluate } from './evaluate.js';
export type { Decision, EvaluationResult, NamedPolicy, StatementRef } from './evaluate.js';
export { accessDeniedMessage, decideKms, withGrantAllowing } from './kms-access.js';
export type { KmsAccessInput, KmsAllowBasis, KmsDecision } from './kms-access.js';
export { PolicyCache } from './policy-cache.js';
export { decideS3 } from './s3-access.js';
export type { S3AccessInput, S3Decision } from './s3-access.js';

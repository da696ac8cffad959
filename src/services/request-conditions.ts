import { ContextValue } from '../core/policy/index.js';

/**
 * The one builder of a request's condition keys, for every service (KMS, S3, IAM, STS, CloudTrail), for the
 * calls one service makes for a user through another (S3 → KMS), and for `explain`, so that a policy
 * condition means the same thing wherever it is evaluated (issue 9: aws:UserAgent was set for S3 and not
 * for KMS, so a Deny on it protected one service and not the other).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html (aws:*)
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html (kms:CallerAccount, kms:ViaService)
 * aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:userid, aws:username and aws:PrincipalTag/*
 * are derived from the principal by core/policy (ContextKeys) for every evaluation.
 *
 * A wire request knows every fact. `explain` may not: the facts named in `unknown` leave their keys out of
 * the context, and explain says which conditions then cannot be decided (FACT_KEYS names the keys of each).
 */
export interface RequestFacts {
  /** `awsService`: an AWS service principal writing as itself (CloudTrail delivering to a bucket). */
  readonly principal: { readonly accountId?: string; readonly sessionCreatedAt?: number; readonly awsService?: boolean };
  /** The region of the request's SigV4 credential scope. */
  readonly region?: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly secureTransport?: boolean;
  /** Set when another service calls on the caller's behalf, e.g. `s3.us-east-1.amazonaws.com`. */
  readonly viaService?: string;
  /** Facts not known (explain without the flag that gives them): their keys are left out. */
  readonly unknown?: ReadonlySet<Fact>;
}

/** Which fact each key comes from, and the `strongroom explain` flag / route field that supplies it. */
export const FACT_KEYS = {
  sourceIp: { keys: ['aws:SourceIp'], flag: '--source-ip', field: 'sourceIp' },
  userAgent: { keys: ['aws:UserAgent'], flag: '--user-agent', field: 'userAgent' },
  secureTransport: { keys: ['aws:SecureTransport'], flag: '--secure-transport', field: 'secureTransport' },
  viaService: { keys: ['kms:ViaService', 'aws:ViaAWSService'], flag: '--via-service', field: 'viaService' },
  region: { keys: ['aws:RequestedRegion'], flag: '--region', field: 'region' },
} as const;

export type Fact = keyof typeof FACT_KEYS;

/**
 * The request's condition keys as the service named by `signingName` (kms, s3, iam, sts, cloudtrail) sees them.
 * A call a service makes on the caller's behalf (a forward access session) reaches the downstream service from
 * that service, not from the caller: aws:ViaAWSService is true, aws:SourceIp is the calling service's own
 * address, which Strongroom does not have (so absent: an IpAddress condition does not match, a NotIpAddress
 * one does, as on AWS — https://repost.aws/knowledge-center/iam-restrict-calls-ip-addresses), the user agent
 * is the service's (as the CloudTrail record shows it) and the transport is the service's, TLS.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html
 */
export function requestConditions(signingName: string, facts: RequestFacts, now: number): Record<string, ContextValue> {
  const known = (f: Fact): boolean => facts.unknown?.has(f) !== true;
  const via = known('viaService') ? facts.viaService : undefined;
  const time = timeKeys(now);
  const out: Record<string, ContextValue> = {
    'aws:CurrentTime': time.currentTime,
    'aws:EpochTime': time.epochTime,
    'aws:PrincipalIsAWSService': String(facts.principal.awsService === true),
  };
  const set = (key: string, value: string | undefined): void => {
    if (value !== undefined) out[key] = value;
  };
  if (known('region')) set('aws:RequestedRegion', facts.region);
  if (known('viaService')) set('aws:ViaAWSService', String(via !== undefined));
  if (via !== undefined) {
    set('aws:UserAgent', `${via.split('.')[0]}.amazonaws.com`);
    set('aws:SecureTransport', 'true');
  } else {
    if (known('sourceIp')) set('aws:SourceIp', facts.sourceIp?.replace(/^::ffff:/, ''));
    if (known('userAgent')) set('aws:UserAgent', facts.userAgent);
    if (known('secureTransport') && facts.secureTransport !== undefined) set('aws:SecureTransport', String(facts.secureTransport));
  }
  // aws:TokenIssueTime: present only for temporary credentials (role sessions, GetSessionToken).
  if (facts.principal.sessionCreatedAt !== undefined) set('aws:TokenIssueTime', new Date(facts.principal.sessionCreatedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  if (signingName === 'kms') {
    set('kms:CallerAccount', facts.principal.accountId);
    if (known('viaService')) set('kms:ViaService', via);
  }
  return out;
}

/** aws:CurrentTime and aws:EpochTime, both to the second: formatted once per second, not once per request. */
function timeKeys(now: number): { readonly currentTime: string; readonly epochTime: string } {
  const second = Math.floor(now / 1000);
  if (second !== lastTime.second) {
    lastTime = { second, currentTime: new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'), epochTime: String(second) };
  }
  return lastTime;
}
let lastTime = { second: NaN, currentTime: '', epochTime: '' };

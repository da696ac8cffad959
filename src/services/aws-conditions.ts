import { ContextValue } from '../core/policy/index.js';
import { RequestContext } from './operation.js';

/**
 * The global condition keys every request carries (the principal's own — aws:PrincipalArn,
 * aws:PrincipalAccount, aws:userid, aws:username — are filled in by core/policy).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 */
export function awsConditions(request: RequestContext, now: number): Record<string, ContextValue> {
  return {
    'aws:SourceIp': request.sourceIp.replace(/^::ffff:/, ''),
    'aws:CurrentTime': new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'aws:EpochTime': String(Math.floor(now / 1000)),
    'aws:SecureTransport': String(request.secureTransport),
    'aws:RequestedRegion': request.region,
    'aws:UserAgent': request.userAgent,
  };
}

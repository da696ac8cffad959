import { Principal } from '../../core/identity/principal.js';
import { ContextValue } from '../../core/policy/index.js';
import { KMS_SIGNING_NAME } from '../kms/index.js';
import { FACT_KEYS, Fact, requestConditions } from '../request-conditions.js';

/**
 * What an explanation is told about the call it explains (CLI flags, route body fields). The time is always
 * known (now, by the server's clock); each other fact left out makes its condition keys unknown, and a
 * decision that depends on them is Undetermined rather than guessed.
 */
export interface SuppliedFacts {
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly secureTransport?: boolean;
  /** The calling service's endpoint (s3.us-east-1.amazonaws.com), or `none` for a call made directly. */
  readonly viaService?: string;
}

export const DIRECT = 'none';

/** A key no flag supplies: a role session's issue time is the session's own. */
const SESSION_KEYS = ['aws:TokenIssueTime'];

export function explainConditions(subject: Principal, region: string, supplied: SuppliedFacts, now: number): { conditions: Record<string, ContextValue>; unknownKeys: string[] } {
  const unknown = new Set<Fact>();
  if (supplied.sourceIp === undefined) unknown.add('sourceIp');
  if (supplied.userAgent === undefined) unknown.add('userAgent');
  if (supplied.secureTransport === undefined) unknown.add('secureTransport');
  if (supplied.viaService === undefined) unknown.add('viaService');
  const via = supplied.viaService === DIRECT ? undefined : supplied.viaService;
  // A call through a service comes from that service: its address, user agent and transport are the service's.
  if (via !== undefined) for (const f of ['sourceIp', 'userAgent', 'secureTransport'] as const) unknown.delete(f);
  const conditions = requestConditions(
    KMS_SIGNING_NAME,
    {
      principal: subject,
      region,
      ...(supplied.sourceIp !== undefined ? { sourceIp: supplied.sourceIp } : {}),
      ...(supplied.userAgent !== undefined ? { userAgent: supplied.userAgent } : {}),
      ...(supplied.secureTransport !== undefined ? { secureTransport: supplied.secureTransport } : {}),
      ...(via !== undefined ? { viaService: via } : {}),
      unknown,
    },
    now,
  );
  const unknownKeys = [...unknown].flatMap((f) => FACT_KEYS[f].keys as readonly string[]);
  if (subject.type === 'AssumedRole') unknownKeys.push(...SESSION_KEYS);
  return { conditions, unknownKeys };
}

/** How a key is supplied: its `strongroom explain` flag and its field in the route's body (none for a session's keys). */
export function howToSupply(key: string): { readonly flag: string; readonly field: string } | undefined {
  const lower = key.toLowerCase();
  for (const f of Object.values(FACT_KEYS)) if ((f.keys as readonly string[]).some((k) => k.toLowerCase() === lower)) return f;
  return undefined;
}

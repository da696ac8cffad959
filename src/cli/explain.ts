import { KmsAccessControl } from '../core/kms/access-control.js';
import { Explanation, explainKmsAccess, findKey, principalFromArn } from '../core/kms/explain.js';
import { SuppliedFacts, explainConditions, howToSupply } from '../services/explain/facts.js';
import { kmsConditions, keyResourceConditions } from '../services/kms/conditions.js';
import { DeploymentFlags, openDeployment } from './deployment.js';

export interface ExplainFlags extends DeploymentFlags {
  principal: string;
  action: string;
  key: string;
  context?: string[];
  region?: string;
  json?: boolean;
  sourceIp?: string;
  userAgent?: string;
  secureTransport?: string;
  viaService?: string;
}

/**
 * `strongroom explain`: the decision KMS makes for a principal, an action and a key, and why — evaluated now,
 * with what the flags say of the call (--source-ip, --secure-transport, --via-service, --user-agent). A
 * condition on something not said is not guessed: if the decision depends on it the answer is UNDETERMINED,
 * naming the statement, the key and the flag. Exit status: 0 allowed, 1 denied, 2 undetermined.
 */
export async function explainCommand(flags: ExplainFlags): Promise<number> {
  const supplied = suppliedFacts(flags);
  const opened = await openDeployment(flags);
  if (typeof opened === 'string') {
    process.stderr.write(`strongroom: ${opened}\n`);
    return 1;
  }
  const { stores } = opened;
  try {
    const region = flags.region ?? process.env.STRONGROOM_REGION ?? ((await stores.metadata.getSetting('home_region')) || 'us-east-1');
    const encryptionContext = Object.fromEntries(
      (flags.context ?? []).map((pair) => {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new Error(`--context takes key=value, got '${pair}'`);
        return [pair.slice(0, eq), pair.slice(eq + 1)];
      }),
    );
    const principal = principalFromArn(flags.principal);
    const key = await findKey(stores.metadata, flags.key, principal.accountId, region);
    const { conditions, unknownKeys } = explainConditions(principal, key.region, supplied, Date.now());
    const e = await explainKmsAccess(new KmsAccessControl(stores.identityPolicies, stores.grants, (k) => keyResourceConditions(stores.metadata, k)), {
      principal,
      action: flags.action,
      key,
      conditions: kmsConditions(conditions, { action: flags.action, key, encryptionContext: flags.context ? encryptionContext : undefined }),
      unknownKeys,
      ...(flags.context ? { encryptionContext } : {}),
    });
    process.stdout.write(flags.json ? JSON.stringify(e, null, 2) + '\n' : text(e));
    return e.decision === 'Allow' ? 0 : e.decision === 'Undetermined' ? 2 : 1;
  } finally {
    await opened.close();
  }
}

function suppliedFacts(flags: ExplainFlags): SuppliedFacts {
  const secure = flags.secureTransport;
  if (secure !== undefined && secure !== 'true' && secure !== 'false') throw new Error(`--secure-transport takes true or false, got '${secure}'`);
  return {
    ...(flags.sourceIp !== undefined ? { sourceIp: flags.sourceIp } : {}),
    ...(flags.userAgent !== undefined ? { userAgent: flags.userAgent } : {}),
    ...(secure !== undefined ? { secureTransport: secure === 'true' } : {}),
    ...(flags.viaService !== undefined ? { viaService: flags.viaService } : {}),
  };
}

function text(e: Explanation): string {
  const lines = [`${e.decision.toUpperCase()}: ${e.principal} → ${e.action} on ${e.resource}`];
  if (e.basis) lines.push(`  allowed by: ${e.basis}`);
  if (e.reason) lines.push(`  ${e.reason}`);
  if (e.possibleDecisions) lines.push(`  could be: ${e.possibleDecisions.join(' or ')}, depending on values not supplied`);
  for (const s of e.statements) {
    lines.push(`  ${s.effect.padEnd(5)} ${s.policy} statement ${s.index}${s.sid ? ` (Sid ${s.sid})` : ''}, principal matched via ${s.via}`);
  }
  if (e.statements.length === 0 && !e.dependsOn?.length) lines.push('  no statement applies');
  for (const d of e.dependsOn ?? []) {
    const keys = d.keys.map((k) => `${k}, which was not supplied${howToSupply(k) ? ` (${howToSupply(k)!.flag})` : ' (a role session\'s own value)'}`);
    const prefix = e.decision === 'Undetermined' ? 'UNDETERMINED' : 'note (does not change the decision)';
    lines.push(`  ${prefix}: ${d.effect} ${d.policy} statement ${d.index}${d.sid ? ` (Sid ${d.sid})` : ''}'s condition depends on ${keys.join(' and on ')}`);
  }
  return lines.join('\n') + '\n';
}

import { resolve } from 'node:path';
import { KmsAccessControl } from '../core/kms/access-control.js';
import { explainKmsAccess, findKey, principalFromArn } from '../core/kms/explain.js';
import { kmsConditions, keyResourceConditions } from '../services/kms/conditions.js';
import { KMS_SIGNING_NAME } from '../services/kms/index.js';
import { requestConditions } from '../services/request-conditions.js';
import { openStores } from '../stores.js';

export interface ExplainFlags {
  principal: string;
  action: string;
  key: string;
  context?: string[];
  region?: string;
  dataDir?: string;
  json?: boolean;
}

/** `strongroom explain`: the decision KMS makes for a principal, an action and a key, and why. */
export async function explainCommand(flags: ExplainFlags): Promise<number> {
  const stores = openStores(resolve(flags.dataDir ?? process.env.STRONGROOM_DATA_DIR ?? 'data'));
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
    const base = requestConditions(KMS_SIGNING_NAME, { principal, region: key.region }, Date.now());
    const e = await explainKmsAccess(new KmsAccessControl(stores.identityPolicies, stores.grants, (k) => keyResourceConditions(stores.metadata, k)), {
      principal,
      action: flags.action,
      key,
      conditions: kmsConditions(base, { action: flags.action, key, encryptionContext: flags.context ? encryptionContext : undefined }),
      ...(flags.context ? { encryptionContext } : {}),
    });
    if (flags.json) {
      process.stdout.write(JSON.stringify(e, null, 2) + '\n');
    } else {
      process.stdout.write(`${e.decision.toUpperCase()}: ${e.principal} → ${e.action} on ${e.resource}\n`);
      if (e.basis) process.stdout.write(`  allowed by: ${e.basis}\n`);
      if (e.reason) process.stdout.write(`  ${e.reason}\n`);
      for (const s of e.statements) {
        process.stdout.write(`  ${s.effect.padEnd(5)} ${s.policy} statement ${s.index}${s.sid ? ` (Sid ${s.sid})` : ''}, principal matched via ${s.via}\n`);
      }
      if (e.statements.length === 0) process.stdout.write('  no statement applies\n');
    }
    return e.decision === 'Allow' ? 0 : 1;
  } finally {
    await stores.close();
  }
}

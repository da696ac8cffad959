import { Principal } from '../identity/principal.js';
import { NamedPolicy, PolicyCache } from '../policy/index.js';
import { IdentityPolicySource } from '../policy/sources.js';
import { IamStore, PolicyOwner } from '../../store/metadata/iam-types.js';
import { IamChanges } from './deps.js';
import { Cache, CacheSettings } from '../cache/cache.js';
import { InProcessInvalidation, TOPICS } from '../cache/invalidation.js';
import { parseRoleArn } from './ids.js';

const MAX_CACHED = 10_000;
const MAX_GROUPS_READ = 100;

/**
 * A caller's identity-based policies, compiled:
 * - an IAM user: its inline and attached managed policies (default versions), and its groups' ones;
 * - a role session: its role's inline and attached managed policies;
 * - the root user: none (it may do anything in its own account without them).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_identity-vs-resource.html
 *
 * Names say where each policy comes from, for explanations: `user/alice/inline/p1`,
 * `group/devs/inline/p2`, `role/Admin/inline/p3`, or a managed policy's ARN.
 * Sets are cached per principal until the next IAM write that can change them (IamChanges, published on the
 * invalidation port), or the cache's TTL.
 * A principal whose user or role no longer exists (or was re-created under the same name: the unique id
 * differs) has none.
 */
export class IamIdentityPolicies implements IdentityPolicySource {
  readonly #cache: Cache<readonly NamedPolicy[]>;
  /** Announces every IAM write that can change a principal's policies (the IAM domain shares it). */
  readonly changes: IamChanges;

  constructor(
    private readonly store: IamStore,
    /** Compiled documents; the IAM domain validates into the same cache. */
    readonly compiled = new PolicyCache(),
    /** Without a port: this process's own (the store is not shared). */
    settings: Partial<CacheSettings> = {},
  ) {
    const port = settings.port ?? new InProcessInvalidation();
    this.changes = new IamChanges(port);
    this.#cache = new Cache({
      capacity: MAX_CACHED,
      ...(settings.ttlMs !== undefined ? { ttlMs: settings.ttlMs } : {}),
      ...(settings.now ? { now: settings.now } : {}),
    });
    this.#cache.listen(port, TOPICS.iamPolicies);
  }

  async policiesFor(principal: Principal): Promise<readonly NamedPolicy[]> {
    if (principal.type === 'Root') return [];
    const key = `${principal.type}\0${principal.accountId}\0${principal.arn}\0${principal.principalId}`;
    const policies = await this.#cache.load(key, async () =>
      Object.freeze(principal.type === 'IAMUser' ? await this.#forUser(principal) : await this.#forRoleSession(principal)),
    );
    return policies!;
  }

  async #forUser(p: Principal): Promise<NamedPolicy[]> {
    const user =
      p.principalId !== '' ? await this.store.getUserById(p.principalId) : p.userName !== undefined ? await this.store.getUser(p.accountId, p.userName) : undefined;
    if (!user || user.accountId !== p.accountId || user.arn !== p.arn) return [];
    const out = await this.#ownedBy({ kind: 'user', id: user.userId }, `user/${user.userName}`);
    const groups = await this.store.listGroupsForUser(user.userId, { limit: MAX_GROUPS_READ });
    for (const g of groups.items) out.push(...(await this.#ownedBy({ kind: 'group', id: g.groupId }, `group/${g.groupName}`)));
    return out;
  }

  async #forRoleSession(p: Principal): Promise<NamedPolicy[]> {
    // principalId is "AROA…:<session name>"; without it (explanations), the role ARN names the role.
    const roleId = p.principalId.split(':')[0] ?? '';
    const named = p.roleArn !== undefined ? parseRoleArn(p.roleArn) : undefined;
    const role = roleId !== '' ? await this.store.getRoleById(roleId) : named ? await this.store.getRole(named.accountId, named.roleName) : undefined;
    if (!role || role.accountId !== p.accountId || (p.roleArn !== undefined && role.arn !== p.roleArn)) return [];
    return this.#ownedBy({ kind: 'role', id: role.roleId }, `role/${role.roleName}`);
  }

  async #ownedBy(owner: PolicyOwner, label: string): Promise<NamedPolicy[]> {
    const out: NamedPolicy[] = [];
    for (const p of await this.store.listInlinePolicies(owner)) {
      out.push({ name: `${label}/inline/${p.policyName}`, policy: this.compiled.get(p.document, 'identity') });
    }
    for (const p of await this.store.attachedPolicyDocuments(owner)) {
      out.push({ name: p.policyArn, policy: this.compiled.get(p.document, 'identity') });
    }
    return out;
  }
}

import { Clock } from '../clock.js';
import { CredentialStore } from '../identity/credentials.js';
import { IamStore } from '../../store/metadata/iam-types.js';
import { MetadataStore } from '../../store/metadata/types.js';
import { AccessKeys } from './access-keys.js';
import { IamDeps } from './deps.js';
import { Groups } from './groups.js';
import { IamIdentityPolicies } from './identity-policies.js';
import { InlinePolicies } from './inline-policies.js';
import { ManagedPolicies } from './managed-policies.js';
import { Roles } from './roles.js';
import { Users } from './users.js';

/** The IAM domain: users, groups, roles, policies, access keys, and the identity policies they give callers. */
export class Iam {
  readonly deps: IamDeps;
  readonly users: Users;
  readonly groups: Groups;
  readonly roles: Roles;
  readonly inline: InlinePolicies;
  readonly managed: ManagedPolicies;
  readonly accessKeys: AccessKeys;
  /** The IdentityPolicySource every service's authorizer uses (KMS included). */
  readonly identityPolicies: IamIdentityPolicies;

  constructor(
    store: IamStore,
    /** The identity policy source over the same store (stores.ts opens it, for the server and offline commands). */
    identityPolicies: IamIdentityPolicies,
    credentials: CredentialStore,
    clock: Clock,
    /** Accounts (GetUser of the root user answers the account's creation date). */
    readonly accounts: Pick<MetadataStore, 'getAccount'>,
  ) {
    this.deps = { store, credentials, clock, policies: identityPolicies.compiled, changes: identityPolicies.changes };
    this.users = new Users(this.deps);
    this.groups = new Groups(this.deps);
    this.roles = new Roles(this.deps);
    this.inline = new InlinePolicies(this.deps);
    this.managed = new ManagedPolicies(this.deps);
    this.accessKeys = new AccessKeys(this.deps);
    this.identityPolicies = identityPolicies;
  }
}

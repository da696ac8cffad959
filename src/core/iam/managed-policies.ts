import { AwsError } from '../errors/aws-error.js';
import { IamErrors } from '../errors/iam.js';
import { AttachedPolicyRef, IamTag, ListOptions, ManagedPolicyRecord, PolicyVersionRecord } from '../../store/metadata/iam-types.js';
import { Page } from '../../store/metadata/types.js';
import { IamDeps } from './deps.js';
import { QUOTAS, policyNotFound, storeWrite } from './failures.js';
import { iamArn, newUniqueId } from './ids.js';
import { NamedOwner } from './inline-policies.js';
import { checkManagedPolicy } from './policy-documents.js';

/**
 * Customer managed policies, their versions (up to 5, one the default) and their attachments.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html
 */
export class ManagedPolicies {
  constructor(private readonly d: IamDeps) {}

  async create(
    accountId: string,
    input: { policyName: string; path?: string; document: string; description?: string; tags?: readonly IamTag[] },
  ): Promise<ManagedPolicyRecord> {
    checkManagedPolicy(this.d.policies, input.document);
    const path = input.path ?? '/';
    const now = this.d.clock.now();
    const policy = {
      accountId,
      policyId: newUniqueId('ANPA'),
      policyName: input.policyName,
      path,
      arn: iamArn(accountId, 'policy', path, input.policyName),
      description: input.description ?? null,
      createdAt: now,
      updatedAt: now,
      tags: input.tags ?? [],
    };
    await storeWrite({ policy: input.policyName }, () => this.d.store.createPolicy(policy, input.document));
    return { ...policy, defaultVersionId: 'v1', attachmentCount: 0 };
  }

  find(arn: string): Promise<ManagedPolicyRecord | undefined> {
    return this.d.store.getPolicy(arn);
  }

  /** "Policy arn:aws:iam::111122223333:policy/P was not found." */
  async get(arn: string): Promise<ManagedPolicyRecord> {
    const policy = await this.find(arn);
    if (!policy) throw new AwsError(IamErrors.NoSuchEntity, `Policy ${arn} was not found.`);
    return policy;
  }

  list(accountId: string, options: ListOptions & { onlyAttached: boolean }): Promise<Page<ManagedPolicyRecord>> {
    return this.d.store.listPolicies(accountId, options);
  }

  async delete(arn: string): Promise<void> {
    await storeWrite({ policy: arn }, () => this.d.store.deletePolicy(arn));
  }

  async createVersion(arn: string, document: string, setAsDefault: boolean): Promise<PolicyVersionRecord> {
    checkManagedPolicy(this.d.policies, document);
    const write = () => storeWrite({ policy: arn }, () => this.d.store.createPolicyVersion(arn, document, setAsDefault, this.d.clock.now(), QUOTAS.PolicyVersions!));
    // A new version that is not the default changes nobody's policies.
    return setAsDefault ? this.d.changes.after(write) : write();
  }

  async getVersion(arn: string, versionId: string): Promise<PolicyVersionRecord> {
    const version = await this.d.store.getPolicyVersion(arn, versionId);
    if (!version) throw new AwsError(IamErrors.NoSuchEntity, `Policy ${arn} version ${versionId} does not exist or is not attachable.`);
    return version;
  }

  async listVersions(arn: string): Promise<PolicyVersionRecord[]> {
    await this.get(arn);
    return this.d.store.listPolicyVersions(arn);
  }

  async deleteVersion(arn: string, versionId: string): Promise<void> {
    await storeWrite({ policy: arn, version: versionId }, () => this.d.store.deletePolicyVersion(arn, versionId));
  }

  async setDefaultVersion(arn: string, versionId: string): Promise<void> {
    await this.d.changes.after(() => storeWrite({ policy: arn, version: versionId }, () => this.d.store.setDefaultPolicyVersion(arn, versionId, this.d.clock.now())));
  }

  async attach(owner: NamedOwner, policyArn: string): Promise<void> {
    const quota = owner.kind === 'user' ? 'PoliciesPerUser' : owner.kind === 'group' ? 'PoliciesPerGroup' : 'PoliciesPerRole';
    await this.d.changes.after(() => storeWrite({ [owner.kind]: owner.name, policy: policyArn }, () => this.d.store.attachPolicy(owner, policyArn, QUOTAS[quota]!)));
  }

  /** AWS answers NoSuchEntity when the policy is not attached to the owner. */
  async detach(owner: NamedOwner, policyArn: string): Promise<void> {
    if (!(await this.d.changes.after(() => this.d.store.detachPolicy(owner, policyArn)))) throw policyNotFound(policyArn);
  }

  listAttached(owner: NamedOwner, options: ListOptions): Promise<Page<AttachedPolicyRef>> {
    return this.d.store.listAttachedPolicies(owner, options);
  }
}

import { AwsError } from '../errors/aws-error.js';
import { IamErrors } from '../errors/iam.js';
import { ListOptions, PolicyOwner } from '../../store/metadata/iam-types.js';
import { Page } from '../../store/metadata/types.js';
import { IamDeps } from './deps.js';
import { storeWrite } from './failures.js';
import { checkIdentityPolicy, inlineQuota } from './policy-documents.js';

/** An owner as the handlers know it: which kind, its unique id and its name (for messages). */
export interface NamedOwner extends PolicyOwner {
  readonly name: string;
}

/**
 * Inline policies, embedded in one user, group or role.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#inline-policies
 */
export class InlinePolicies {
  constructor(private readonly d: IamDeps) {}

  async put(owner: NamedOwner, policyName: string, document: string): Promise<void> {
    checkIdentityPolicy(this.d.policies, document);
    await this.d.changes.after(() => storeWrite({ [owner.kind]: owner.name }, () => this.d.store.putInlinePolicy(owner, policyName, document, inlineQuota(owner.kind))));
  }

  /** "The user policy with name P cannot be found." */
  async get(owner: NamedOwner, policyName: string): Promise<{ policyName: string; document: string }> {
    const found = await this.d.store.getInlinePolicy(owner, policyName);
    if (!found) throw missing(owner, policyName);
    return found;
  }

  listNames(owner: NamedOwner, options: ListOptions): Promise<Page<string>> {
    return this.d.store.listInlinePolicyNames(owner, options);
  }

  async delete(owner: NamedOwner, policyName: string): Promise<void> {
    if (!(await this.d.changes.after(() => this.d.store.deleteInlinePolicy(owner, policyName)))) throw missing(owner, policyName);
  }
}

function missing(owner: NamedOwner, policyName: string): AwsError {
  return new AwsError(IamErrors.NoSuchEntity, `The ${owner.kind} policy with name ${policyName} cannot be found.`);
}

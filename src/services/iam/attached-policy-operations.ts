import { parsePolicyArn } from '../../core/iam/ids.js';
import { policyNotFound } from '../../core/iam/failures.js';
import { Kind, Named, WIRE, entityOperation, ownerOf } from './call.js';
import { PageInput, listOptions, pageOutput } from './paging.js';

/**
 * Attach/Detach/ListAttached{User,Group,Role}Policies, alike for the three kinds of owner.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachUserPolicy.html and its twins.
 * Only the caller's own account's customer managed policies can be attached (this server has no AWS
 * managed policies): any other ARN is NoSuchEntity, as AWS answers an unknown policy.
 */

export function attachPolicy(kind: Kind) {
  const { entity, member } = WIRE[kind];
  return entityOperation({
    name: `Attach${entity}Policy`,
    readOnly: false,
    kind,
    entityName: (input: Named & { PolicyArn: string }) => input[member]!,
    handle: async (input, call, owner) => {
      if (parsePolicyArn(input.PolicyArn)?.accountId !== call.accountId) throw policyNotFound(input.PolicyArn);
      await call.iam.managed.attach(ownerOf(kind, owner), input.PolicyArn);
      return {};
    },
  });
}

export function detachPolicy(kind: Kind) {
  const { entity, member } = WIRE[kind];
  return entityOperation({
    name: `Detach${entity}Policy`,
    readOnly: false,
    kind,
    entityName: (input: Named & { PolicyArn: string }) => input[member]!,
    handle: async (input, call, owner) => {
      await call.iam.managed.detach(ownerOf(kind, owner), input.PolicyArn);
      return {};
    },
  });
}

export function listAttachedPolicies(kind: Kind) {
  const { entity, member } = WIRE[kind];
  const name = `ListAttached${entity}Policies`;
  return entityOperation({
    name,
    readOnly: true,
    kind,
    entityName: (input: Named & PageInput) => input[member]!,
    handle: async (input, call, owner) => {
      const page = await call.iam.managed.listAttached(ownerOf(kind, owner), listOptions(name, input));
      return { AttachedPolicies: page.items.map((p) => ({ PolicyName: p.policyName, PolicyArn: p.policyArn })), ...pageOutput(name, page) };
    },
  });
}

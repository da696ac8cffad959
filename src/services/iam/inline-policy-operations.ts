import { Kind, Named, WIRE, entityOperation, ownerOf } from './call.js';
import { encodeDocument } from './output.js';
import { PageInput, listOptions, pageOutput } from './paging.js';

/**
 * The four inline-policy operations, alike for users, groups and roles (Put/Get/List/Delete{User,Group,Role}Policy).
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPolicy.html and its group and role twins.
 */

export function putInlinePolicy(kind: Kind) {
  const { entity, member } = WIRE[kind];
  return entityOperation({
    name: `Put${entity}Policy`,
    readOnly: false,
    kind,
    entityName: (input: Named & { PolicyName: string; PolicyDocument: string }) => input[member]!,
    handle: async (input, call, owner) => {
      await call.iam.inline.put(ownerOf(kind, owner), input.PolicyName, input.PolicyDocument);
      return {};
    },
  });
}

/** The document comes back URL-encoded, as AWS returns it. */
export function getInlinePolicy(kind: Kind) {
  const { entity, member } = WIRE[kind];
  return entityOperation({
    name: `Get${entity}Policy`,
    readOnly: true,
    kind,
    entityName: (input: Named & { PolicyName: string }) => input[member]!,
    handle: async (input, call, owner) => {
      const named = ownerOf(kind, owner);
      const policy = await call.iam.inline.get(named, input.PolicyName);
      return { [member]: named.name, PolicyName: policy.policyName, PolicyDocument: encodeDocument(policy.document) };
    },
  });
}

export function listInlinePolicies(kind: Kind) {
  const { entity, member } = WIRE[kind];
  const name = `List${entity}Policies`;
  return entityOperation({
    name,
    readOnly: true,
    kind,
    entityName: (input: Named & PageInput) => input[member]!,
    handle: async (input, call, owner) => {
      const page = await call.iam.inline.listNames(ownerOf(kind, owner), listOptions(name, { ...input, PathPrefix: undefined }));
      return { PolicyNames: page.items, ...pageOutput(name, page) };
    },
  });
}

export function deleteInlinePolicy(kind: Kind) {
  const { entity, member } = WIRE[kind];
  return entityOperation({
    name: `Delete${entity}Policy`,
    readOnly: false,
    kind,
    entityName: (input: Named & { PolicyName: string }) => input[member]!,
    handle: async (input, call, owner) => {
      await call.iam.inline.delete(ownerOf(kind, owner), input.PolicyName);
      return {};
    },
  });
}

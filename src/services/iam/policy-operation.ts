import { defineOperation } from '../operation.js';
import { IamCall, IamOperation, onResource } from './call.js';

/** An operation on the managed policy its PolicyArn names; the resource is that ARN. */
export function policyOperation<I extends { PolicyArn: string }>(spec: {
  name: string;
  readOnly: boolean;
  handle: (input: I, call: IamCall) => Promise<Record<string, unknown>>;
}): IamOperation {
  return defineOperation<IamCall, I, undefined>({
    name: spec.name,
    action: `iam:${spec.name}`,
    readOnly: spec.readOnly,
    resolve: async (input) => ({ access: [onResource(spec.name, input.PolicyArn)], state: undefined }),
    handle: (input, call) => spec.handle(input, call),
  });
}

import { CallOutcome } from '../audit.js';
import { CompanionRecord } from '../service.js';
import { RequestContext } from '../operation.js';
import { KmsAccess, KmsCall } from './call.js';
import { CreateKey } from './operations/CreateKey.js';

/**
 * "A ReplicateKey request results in a ReplicateKey operation and a CreateKey operation"
 * (https://docs.aws.amazon.com/kms/latest/developerguide/ct-replicate-key.html): the replica's Region gets a
 * CreateKey record of the replica (its description, tags, lockout flag; MultiRegion true; its KeyMetadata),
 * so each Region's trail shows the keys made in it.
 */
export function replicaCreateKeyRecord(operation: string, request: RequestContext, outcome: CallOutcome): CompanionRecord<KmsCall, KmsAccess>[] {
  if (operation !== 'ReplicateKey' || !outcome.input || !outcome.output) return [];
  const input = outcome.input;
  const metadata = outcome.output.ReplicaKeyMetadata as Record<string, unknown> | undefined;
  if (!metadata) return [];
  const createInput: Record<string, unknown> = {
    ...(input.Policy !== undefined ? { Policy: input.Policy } : {}),
    ...(input.Description !== undefined ? { Description: input.Description } : {}),
    ...(input.Tags !== undefined ? { Tags: input.Tags } : {}),
    BypassPolicyLockoutSafetyCheck: input.BypassPolicyLockoutSafetyCheck === true,
    KeySpec: metadata.KeySpec,
    KeyUsage: metadata.KeyUsage,
    Origin: metadata.Origin,
    MultiRegion: true,
  };
  return [
    {
      op: CreateKey,
      request: { ...request, region: String(input.ReplicaRegion) },
      outcome: {
        input: createInput,
        access: [{ action: 'kms:CreateKey', resource: String(metadata.Arn) }],
        output: { KeyMetadata: metadata },
      },
    },
  ];
}

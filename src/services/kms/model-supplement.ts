import { isDeepStrictEqual } from 'node:util';
import { ServiceModel } from '../shapes.js';

/**
 * What a model newer than the installed botocore has: operations and shapes that botocore 1.43.11 lacks but
 * AWS serves and the AWS SDK for JavaScript (@aws-sdk/client-kms, newer) already sends — GetKeyLastUsage,
 * Encapsulate/Decapsulate. model-newer.json holds them in botocore's form, written from the SDK's schemas
 * and doc comments (test/unit/kms-model-newer.test.ts checks every member against the installed SDK); they are
 * merged into the vendored model at load. When botocore gains them, regenerate model.json with them and
 * drop them from model-newer.json (the merge refuses a shape both define differently).
 */
export interface ModelSupplement {
  readonly operations: ServiceModel['operations'];
  readonly shapes: ServiceModel['shapes'];
  /** Values newer models add to enums botocore already has (KeySpec ML_KEM_*, KeyUsageType ENCAPSULATE_DECAPSULATE, …). */
  readonly enumValues?: Readonly<Record<string, readonly string[]>>;
  /** Members newer models add to structures botocore already has (KeyMetadata's EncapsulationAlgorithms, …). */
  readonly members?: Readonly<Record<string, Readonly<Record<string, { shape: string }>>>>;
}

export function withSupplement(base: ServiceModel, supplement: ModelSupplement): ServiceModel {
  for (const [name, shape] of Object.entries(supplement.shapes)) {
    const existing = base.shapes[name];
    if (existing !== undefined && !isDeepStrictEqual(existing, shape)) throw new Error(`model-newer.json redefines the shape ${name} differently from model.json`);
  }
  for (const name of Object.keys(supplement.operations)) {
    if (base.operations[name] !== undefined) throw new Error(`model-newer.json defines ${name}, which model.json already has: drop it from model-newer.json`);
  }
  const shapes = { ...base.shapes, ...supplement.shapes };
  for (const [name, values] of Object.entries(supplement.enumValues ?? {})) {
    const existing = shapes[name];
    if (existing?.enum === undefined) throw new Error(`model-newer.json adds enum values to ${name}, which model.json has no enum of`);
    const known = values.filter((v) => existing.enum!.includes(v));
    if (known.length > 0) throw new Error(`model.json's ${name} already has ${known.join(', ')}: drop them from model-newer.json`);
    shapes[name] = { ...existing, enum: [...existing.enum, ...values] };
  }
  for (const [name, members] of Object.entries(supplement.members ?? {})) {
    const existing = shapes[name];
    if (existing?.members === undefined) throw new Error(`model-newer.json adds members to ${name}, which model.json has no structure of`);
    const known = Object.keys(members).filter((m) => existing.members![m] !== undefined);
    if (known.length > 0) throw new Error(`model.json's ${name} already has ${known.join(', ')}: drop them from model-newer.json`);
    shapes[name] = { ...existing, members: { ...existing.members, ...members } };
  }
  return {
    metadata: base.metadata,
    operations: { ...base.operations, ...supplement.operations },
    shapes,
  };
}

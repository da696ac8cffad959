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
}

export function withSupplement(base: ServiceModel, supplement: ModelSupplement): ServiceModel {
  for (const [name, shape] of Object.entries(supplement.shapes)) {
    const existing = base.shapes[name];
    if (existing !== undefined && !isDeepStrictEqual(existing, shape)) throw new Error(`model-newer.json redefines the shape ${name} differently from model.json`);
  }
  for (const name of Object.keys(supplement.operations)) {
    if (base.operations[name] !== undefined) throw new Error(`model-newer.json defines ${name}, which model.json already has: drop it from model-newer.json`);
  }
  return {
    metadata: base.metadata,
    operations: { ...base.operations, ...supplement.operations },
    shapes: { ...base.shapes, ...supplement.shapes },
  };
}

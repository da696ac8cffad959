import { createRequire } from 'node:module';
import { EbsOperation } from './call.js';
import { EbsErrors } from '../../core/errors/ebs.js';
import { RestJsonCodec, RestJsonModel } from '../../protocols/rest-json/codec.js';
import { CompleteSnapshot, GetSnapshotBlock, ListChangedBlocks, ListSnapshotBlocks, PutSnapshotBlock, StartSnapshot } from './operations.js';

/** The vendored botocore EBS model (scripts/gen-ebs-model.py). */
const model = createRequire(import.meta.url)('./model.json') as RestJsonModel;

/** The EBS direct APIs: wire name → operation. Every entry must exist in the model. */
export const EBS_OPERATIONS: ReadonlyMap<string, EbsOperation> = new Map(
  [StartSnapshot, PutSnapshotBlock, CompleteSnapshot, ListSnapshotBlocks, ListChangedBlocks, GetSnapshotBlock].map((op) => [op.name, op]),
);

export const EBS_MODEL = model;
export const EBS_CODEC = new RestJsonCodec(model, EbsErrors.ValidationException);
export const EBS_SIGNING_NAME = model.metadata.signingName;

import { createRequire } from 'node:module';
import { ServiceModel, ShapeCodec } from '../shapes.js';
import { CloudTrailOperation } from './call.js';
import { LookupEvents } from './operations/LookupEvents.js';

const model = createRequire(import.meta.url)('./model.json') as ServiceModel;

/** The CloudTrail operation table (scripts/gen-kms-model.py --service cloudtrail vendors the model subset). */
export const CLOUDTRAIL_OPERATIONS: ReadonlyMap<string, CloudTrailOperation> = new Map([LookupEvents].map((op) => [op.name, op as CloudTrailOperation]));
export const CLOUDTRAIL_MODEL = model;
export const CLOUDTRAIL_CODEC = new ShapeCodec(model);
export const CLOUDTRAIL_SIGNING_NAME = 'cloudtrail';
/**
 * X-Amz-Target prefixes: botocore (aws CLI, boto3) sends the model's `com.amazonaws.cloudtrail.v20131101.
 * CloudTrail_20131101`, the JS SDK v3 the Smithy service name `CloudTrail_20131101`; AWS accepts both.
 */
export const CLOUDTRAIL_TARGET_PREFIXES: readonly string[] = [model.metadata.targetPrefix, model.metadata.targetPrefix.slice(model.metadata.targetPrefix.lastIndexOf('.') + 1)];

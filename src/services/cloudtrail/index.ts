import { createRequire } from 'node:module';
import { ServiceModel, ShapeCodec } from '../shapes.js';
import { CloudTrailOperation } from './call.js';
import { CreateTrail } from './operations/CreateTrail.js';
import { DeleteTrail } from './operations/DeleteTrail.js';
import { DescribeTrails } from './operations/DescribeTrails.js';
import { GetEventSelectors } from './operations/GetEventSelectors.js';
import { GetTrail } from './operations/GetTrail.js';
import { GetTrailStatus } from './operations/GetTrailStatus.js';
import { ListPublicKeys } from './operations/ListPublicKeys.js';
import { LookupEvents } from './operations/LookupEvents.js';
import { PutEventSelectors } from './operations/PutEventSelectors.js';
import { StartLogging } from './operations/StartLogging.js';
import { StopLogging } from './operations/StopLogging.js';
import { ListTrails } from './operations/ListTrails.js';
import { UpdateTrail } from './operations/UpdateTrail.js';

const model = createRequire(import.meta.url)('./model.json') as ServiceModel;

/** The CloudTrail operation table (scripts/gen-kms-model.py --service cloudtrail vendors the model subset). */
export const CLOUDTRAIL_OPERATIONS: ReadonlyMap<string, CloudTrailOperation> = new Map(
  [LookupEvents, CreateTrail, GetTrail, DescribeTrails, GetTrailStatus, StartLogging, StopLogging, DeleteTrail, PutEventSelectors, GetEventSelectors, ListPublicKeys, UpdateTrail, ListTrails].map((op) => [op.name, op as CloudTrailOperation]));
export const CLOUDTRAIL_MODEL = model;
export const CLOUDTRAIL_CODEC = new ShapeCodec(model);
export const CLOUDTRAIL_SIGNING_NAME = 'cloudtrail';
/**
 * X-Amz-Target prefixes: botocore (aws CLI, boto3) sends the model's `com.amazonaws.cloudtrail.v20131101.
 * CloudTrail_20131101`, the JS SDK v3 the Smithy service name `CloudTrail_20131101`; AWS accepts both.
 */
export const CLOUDTRAIL_TARGET_PREFIXES: readonly string[] = [model.metadata.targetPrefix, model.metadata.targetPrefix.slice(model.metadata.targetPrefix.lastIndexOf('.') + 1)];

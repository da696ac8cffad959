import { createRequire } from 'node:module';
import { QueryCodec } from '../../protocols/query/query-codec.js';
import { QueryServiceModel } from '../../protocols/query/query-model.js';
import { StsOperation } from './call.js';
import { AssumeRole } from './operations/AssumeRole.js';
import { GetCallerIdentity } from './operations/GetCallerIdentity.js';
import { GetSessionToken } from './operations/GetSessionToken.js';

const model = createRequire(import.meta.url)('./model.json') as QueryServiceModel;

/** The STS operation table: wire name → operation. Every entry must exist in the botocore model. */
export const STS_OPERATIONS: ReadonlyMap<string, StsOperation> = new Map([AssumeRole, GetCallerIdentity, GetSessionToken].map((op) => [op.name, op as StsOperation]));

export const STS_MODEL = model;
export const STS_CODEC = new QueryCodec(model);
/** SigV4 signing name (credential scope service). */
export const STS_SIGNING_NAME = model.metadata.signingName;

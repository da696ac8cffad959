import { newEventId } from '../core/audit/event-id.js';
import { ApiCallRecord, AuditResource, EVENT_VERSION, trailTime, userIdentityOf } from '../core/audit/record.js';
import { SecretBytes } from '../core/crypto/secret-bytes.js';
import { AwsError } from '../core/errors/aws-error.js';
import { Operation, RequestContext, ResourceAccess } from './operation.js';
import { SECRET_MEMBERS, isSecretShape } from './secret-members.js';
import { Shape } from './shapes.js';

/**
 * What the audit record shows of a call, by the service's botocore model: CloudTrail's
 * requestParameters/responseElements are the wire members with the first letter lower-cased
 * (`KeyId` → `keyId`, `AWSAccountId` → `aWSAccountId`), map keys as sent.
 * Never recorded: the secret values of secret-members.ts (sensitive shapes, blobs, secret members such as
 * SessionToken and an MFA TokenCode), the same rule that keeps them out of validation messages.
 * https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html
 */
export interface AuditModel {
  readonly operations: Readonly<Record<string, { readonly input: string | null; readonly output: string | null }>>;
  readonly shapes: Readonly<Record<string, Shape>>;
}

export function auditView(model: AuditModel, shapeName: string | null, value: unknown): unknown {
  if (shapeName === null || value === undefined || value === null) return undefined;
  const shape = model.shapes[shapeName];
  if (!shape || isSecretShape(shape) || value instanceof SecretBytes || Buffer.isBuffer(value)) return undefined;
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object') return undefined;
      const out: Record<string, unknown> = {};
      for (const m of shownMembers(shape)) {
        const v = auditView(model, m.shape, (value as Record<string, unknown>)[m.name]);
        if (v !== undefined) out[m.shown] = v;
      }
      return out;
    }
    case 'list':
      return Array.isArray(value) ? value.map((v) => auditView(model, shape.member!.shape, v) ?? null) : undefined;
    case 'map': {
      if (typeof value !== 'object') return undefined;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const shown = auditView(model, shape.value!.shape, v);
        if (shown !== undefined) out[k] = shown;
      }
      return out;
    }
    case 'timestamp':
      return value instanceof Date ? trailTime(value.getTime()) : undefined;
    default:
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
  }
}

/** A structure's members the record may show (not SECRET_MEMBERS), with their record names: worked out once per shape. */
const shown = new WeakMap<Shape, readonly { readonly name: string; readonly shown: string; readonly shape: string }[]>();

function shownMembers(shape: Shape): readonly { readonly name: string; readonly shown: string; readonly shape: string }[] {
  let list = shown.get(shape);
  if (!list) {
    list = Object.entries(shape.members ?? {})
      .filter(([name]) => !SECRET_MEMBERS.has(name))
      .map(([name, ref]) => ({ name, shown: name.charAt(0).toLowerCase() + name.slice(1), shape: ref.shape }));
    shown.set(shape, list);
  }
  return list;
}

const KMS_KEY_ARN = /^arn:[a-z-]+:kms:[a-z0-9-]*:(\d{12}):key\/[^/]+$/;

/** The KMS keys a call touched: the resources authorization decided on, and a key the call created. */
function resourcesOf(access: readonly ResourceAccess[], output: Record<string, unknown> | undefined): AuditResource[] | undefined {
  const arns = access.map((a) => a.resource);
  const created = (output?.KeyMetadata as { Arn?: unknown } | undefined)?.Arn;
  if (typeof created === 'string') arns.push(created);
  const out: AuditResource[] = [];
  for (const arn of new Set(arns)) {
    const m = KMS_KEY_ARN.exec(arn);
    if (m) out.push({ accountId: m[1]!, type: 'AWS::KMS::Key', ARN: arn });
  }
  return out.length > 0 ? out : undefined;
}

/**
 * What a service that is not described by a model (S3's REST bindings) says of a call in its record;
 * every field given replaces the model-derived one.
 */
export interface AuditDetails {
  readonly requestParameters?: Record<string, unknown> | null;
  readonly responseElements?: Record<string, unknown> | null;
  readonly additionalEventData?: Record<string, unknown>;
  readonly resources?: AuditResource[];
  /** A data event (S3 object-level calls): managementEvent false, eventCategory Data. */
  readonly dataEvent?: boolean;
}

export interface CallOutcome {
  readonly input?: Record<string, unknown>;
  readonly access: readonly ResourceAccess[];
  readonly output?: Record<string, unknown>;
  readonly error?: unknown;
}

/**
 * The CloudTrail record of one call that reached an operation (allowed, denied or failed).
 * No additionalEventData: AWS's documented KMS, IAM and STS call records carry none (S3's data events do).
 */
export function auditRecord(
  service: {
    readonly signingName: string;
    readonly codec: { readonly model: AuditModel };
    readonly internalError: { readonly code: string };
    responseElements?(operation: string, output: Record<string, unknown>): Record<string, unknown> | null;
    auditDetails?(operation: string, request: RequestContext, outcome: CallOutcome): AuditDetails;
  },
  op: Operation<any, any, any, any>,
  request: RequestContext,
  outcome: CallOutcome,
  now: number,
): ApiCallRecord {
  const model = service.codec.model;
  const opModel = model.operations[op.name];
  const requestParameters = outcome.input && opModel ? ((auditView(model, opModel.input, outcome.input) as Record<string, unknown> | undefined) ?? null) : null;
  let responseElements: Record<string, unknown> | null = null;
  if (outcome.output && opModel) {
    if (service.responseElements) responseElements = service.responseElements(op.name, outcome.output);
    else if (!op.readOnly) responseElements = (auditView(model, opModel.output, outcome.output) as Record<string, unknown> | undefined) ?? null;
  }
  const error = outcome.error === undefined ? undefined : outcome.error instanceof AwsError ? { code: outcome.error.code, message: outcome.error.message } : { code: service.internalError.code, message: 'An internal error occurred.' };
  const details = service.auditDetails?.(op.name, request, outcome) ?? {};
  const resources = details.resources ?? resourcesOf(outcome.access, outcome.output);
  const via = request.viaService;
  return {
    eventVersion: EVENT_VERSION,
    userIdentity: userIdentityOf(request.principal, via),
    eventTime: trailTime(now),
    eventSource: `${service.signingName}.amazonaws.com`,
    eventName: op.name,
    awsRegion: request.region,
    sourceIPAddress: via !== undefined ? `${via.split('.')[0]}.amazonaws.com` : request.sourceIp.replace(/^::ffff:/, ''),
    userAgent: via !== undefined ? `${via.split('.')[0]}.amazonaws.com` : request.userAgent,
    ...(error ? { errorCode: error.code, errorMessage: error.message } : {}),
    requestParameters: details.requestParameters !== undefined ? details.requestParameters : requestParameters,
    responseElements: details.responseElements !== undefined ? details.responseElements : responseElements,
    ...(details.additionalEventData ? { additionalEventData: details.additionalEventData } : {}),
    requestID: request.requestId,
    eventID: newEventId(),
    readOnly: op.readOnly,
    ...(resources ? { resources } : {}),
    eventType: 'AwsApiCall',
    managementEvent: !details.dataEvent,
    recipientAccountId: request.principal.accountId,
    eventCategory: details.dataEvent ? 'Data' : 'Management',
    // AWS shows the TLS session of the caller's own connection; a call a service makes on the caller's
    // behalf arrives over that service's connection, not the caller's.
    ...(request.tlsDetails && via === undefined ? { tlsDetails: request.tlsDetails } : {}),
  };
}

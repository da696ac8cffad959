import { Logger } from 'pino';
import { SecretBytes } from '../../core/crypto/secret-bytes.js';
import { AwsError, ErrorSpec } from '../../core/errors/aws-error.js';
import { CommonErrors } from '../../core/errors/common.js';
import { jsonAuthError } from '../../core/identity/auth-errors.js';
import { Authenticator } from '../../core/identity/authenticator.js';
import { SigV4Error } from '../../core/identity/sigv4/verify.js';
import { BodyBudgetExceededError, BodyGuard, BodyTooLargeError, readBody } from '../../http/body.js';
import { closedOnLostBody } from '../../http/body-lost.js';
import { Exchange, Protocol, splitUrl } from '../../http/exchange.js';
import { RestJsonCodec, RestJsonModel, RestReply } from './codec.js';
import { ServiceDefinition, dispatch } from '../../services/service.js';
import { scopeService } from '../query/request-params.js';
import { requestContextOf } from '../request-context.js';

/** A REST-JSON service as this protocol serves it. */
export interface RestJsonService {
  readonly definition: ServiceDefinition<unknown> & { readonly codec: RestJsonCodec };
  /** Its ValidationException (a malformed member, a body over its limit) and its throttling error. */
  readonly validation: ErrorSpec;
  readonly throttled: ErrorSpec;
  /** The largest raw payload an operation takes (EBS: a 512 KiB block); refused before it is read when declared larger. */
  readonly maxPayloadBytes: number;
}

/** JSON bodies (StartSnapshot's) are small. */
const MAX_JSON_BODY_BYTES = 64 * 1024;

interface Route {
  readonly name: string;
  readonly method: string;
  readonly pattern: RegExp;
  readonly labels: readonly string[];
}

/**
 * REST-JSON (https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html) for the services whose SigV4
 * scope names them (the EBS direct APIs, `ebs`): the operation is the method and the path of the model's
 * requestUri; members come from the URI labels, the query string, headers (which must be signed) and the
 * JSON body, or the raw body when the model makes a blob the payload. Answers carry the model's status,
 * header members and a JSON document or the raw payload; errors are the code in `x-amzn-ErrorType` and
 * `{"Message": …, "Reason": …}` with the code's status.
 */
export class RestJsonProtocol implements Protocol {
  readonly name = 'rest-json';
  readonly #bySigningName: ReadonlyMap<string, { service: RestJsonService; routes: readonly Route[] }>;

  constructor(
    services: readonly RestJsonService[],
    private readonly authenticator: Authenticator,
    private readonly log: Logger,
    private readonly bodyGuard: BodyGuard,
  ) {
    this.#bySigningName = new Map(services.map((s) => [s.definition.signingName, { service: s, routes: routesOf(s.definition.codec.rest) }]));
  }

  claims(req: Exchange['req']): boolean {
    if (req.headers['x-amz-target'] !== undefined) return false;
    const { rawQuery } = splitUrl(req.url ?? '/');
    const auth = req.headers.authorization;
    const scope = scopeService(typeof auth === 'string' ? auth : undefined, rawQuery);
    return scope !== undefined && this.#bySigningName.has(scope);
  }

  async handle(ex: Exchange): Promise<void> {
    const { rawPath, rawQuery } = splitUrl(ex.req.url ?? '/');
    const auth = ex.req.headers.authorization;
    const entry = this.#bySigningName.get(scopeService(typeof auth === 'string' ? auth : undefined, rawQuery) ?? '')!;
    const { service } = entry;
    ex.note.service = service.definition.signingName;
    try {
      const reply = await this.#serve(ex, entry, rawPath, rawQuery);
      this.#send(ex, reply);
    } catch (err) {
      if (closedOnLostBody(err, ex, this.log)) return;
      const aws = this.#toAwsError(err, ex, service);
      ex.note.errorCode = aws.code;
      if (!ex.req.complete) ex.res.setHeader('connection', 'close');
      const reason = (aws as AwsError & { reason?: string }).reason;
      const body = JSON.stringify({ Message: aws.message, ...(reason !== undefined ? { Reason: reason } : {}) });
      this.#send(ex, { status: aws.status, headers: { 'x-amzn-ErrorType': aws.code }, json: body });
    }
  }

  async #serve(ex: Exchange, entry: { service: RestJsonService; routes: readonly Route[] }, rawPath: string, rawQuery: string): Promise<RestReply> {
    const { service, routes } = entry;
    const { definition } = service;
    const model = definition.codec.rest;
    const method = ex.req.method ?? 'GET';
    let route: Route | undefined;
    let match: RegExpExecArray | null = null;
    for (const r of routes) {
      if (r.method !== method) continue;
      match = r.pattern.exec(rawPath);
      if (match) {
        route = r;
        break;
      }
    }
    if (!route || !match) throw new AwsError({ ...CommonErrors.UnknownOperationException, status: 404 }, `No operation of ${definition.signingName} is ${method} ${rawPath.slice(0, 128)}.`);
    ex.note.operation = route.name;
    const opModel = model.operations[route.name]!;
    const shape = model.shapes[opModel.input]!;
    const payloadMember = shape.payload;
    const limit = payloadMember ? service.maxPayloadBytes : MAX_JSON_BODY_BYTES;
    const declared = ex.req.headers['content-length'];
    // A body larger than the operation takes is refused before any of it is read (or its signature checked).
    if (declared !== undefined && Number(declared) > limit) throw new BodyTooLargeError(limit);
    const headerMembers = new Set(Object.values(shape.members ?? {}).filter((m) => m.location === 'header').map((m) => m.locationName!.toLowerCase()));

    const { verified, body } = await this.authenticator.authenticateBuffered(
      { method, rawPath, rawQuery, rawHeaders: ex.req.rawHeaders },
      definition.signingName,
      () => readBody(ex.req, limit, this.bodyGuard),
      (name) => headerMembers.has(name),
      opModel.unsignedPayload === true,
    );
    ex.note.principal = verified.principal.arn;

    const labels = new Map(route.labels.map((l, i) => [l, decodeLabel(match![i + 1]!)]));
    const query = new URLSearchParams(rawQuery);
    let json: Record<string, unknown> = {};
    if (!payloadMember && body.length > 0) {
      try {
        const parsed: unknown = JSON.parse(body.toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        json = parsed as Record<string, unknown>;
      } catch {
        throw new AwsError(service.validation, 'The request body is not a valid JSON object.');
      }
    }
    const input: Record<string, unknown> = {};
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const target = model.shapes[ref.shape]!;
      let raw: unknown;
      if (ref.location === 'uri') raw = labels.get(ref.locationName!);
      else if (ref.location === 'querystring') raw = query.get(ref.locationName!) ?? undefined;
      else if (ref.location === 'header') raw = headerValue(ex.req.headers[ref.locationName!.toLowerCase()]);
      else if (name === payloadMember) {
        input[name] = target.sensitive ? SecretBytes.adopt(body) : body;
        continue;
      } else {
        if (json[name] !== undefined) input[name] = json[name];
        continue;
      }
      if (raw === undefined) continue;
      input[name] = fromText(String(raw), target.type, ref.locationName ?? name, service.validation);
    }
    const request = requestContextOf(ex, verified);
    return (await dispatch(definition, definition.operations.get(route.name)!, input, request)) as RestReply;
  }

  #toAwsError(err: unknown, ex: Exchange, service: RestJsonService): AwsError {
    if (err instanceof AwsError) return err;
    if (err instanceof SigV4Error) return jsonAuthError(err);
    if (err instanceof BodyTooLargeError) return new AwsError(service.validation, `The request body must be at most ${err.limit} bytes.`);
    if (err instanceof BodyBudgetExceededError) return new AwsError(service.throttled, 'Rate exceeded');
    this.log.error({ err, requestId: ex.requestId, operation: ex.note.operation }, 'internal error');
    return new AwsError(service.definition.internalError, 'An internal error occurred. Retry the request.');
  }

  #send(ex: Exchange, reply: RestReply): void {
    const res = ex.res;
    if (res.headersSent || res.destroyed) return;
    const body = reply.payload ?? Buffer.from(reply.json ?? '', 'utf8');
    res.writeHead(reply.status, {
      ...reply.headers,
      'content-type': reply.payload ? 'application/octet-stream' : 'application/json',
      'content-length': body.length,
    });
    res.end(body);
  }
}

function routesOf(model: RestJsonModel): Route[] {
  return Object.entries(model.operations).map(([name, op]) => {
    const labels: string[] = [];
    const path = op.http.requestUri.split('?')[0]!;
    const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, label: string) => {
      labels.push(label.replace(/\+$/, ''));
      return label.endsWith('+') ? '(.+)' : '([^/]+)';
    });
    return { name, method: op.http.method, pattern: new RegExp(`^${source}$`), labels };
  });
}

function decodeLabel(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

/** A URI, query or header member's text as its shape's type (a malformed number is the service's ValidationException). */
function fromText(text: string, type: string, where: string, validation: ErrorSpec): unknown {
  switch (type) {
    case 'integer':
    case 'long':
      if (!/^-?\d{1,15}$/.test(text)) throw new AwsError(validation, `Value '${text.slice(0, 64)}' at '${where}' failed to satisfy constraint: Member must be a number`);
      return Number(text);
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw new AwsError(validation, `Value '${text.slice(0, 64)}' at '${where}' failed to satisfy constraint: Member must be a boolean`);
      return text === 'true';
    default:
      return text;
  }
}

import { XMLBuilder } from 'fast-xml-parser';
import { Logger } from 'pino';
import { AwsError, ErrorSpec } from '../../core/errors/aws-error.js';
import { QueryErrors } from '../../core/errors/query.js';
import { Authenticator } from '../../core/identity/authenticator.js';
import { SigV4Error, SigV4FailureKind } from '../../core/identity/sigv4/verify.js';
import { BodyBudgetExceededError, BodyGuard, BodyTooLargeError, readBody } from '../../http/body.js';
import { closedOnLostBody } from '../../http/body-lost.js';
import { requestContextOf } from '../request-context.js';
import { Exchange, Protocol, splitUrl } from '../../http/exchange.js';
import { ServiceDefinition, dispatch } from '../../services/service.js';
import { QueryCodec } from './query-codec.js';
import { Ec2Codec } from './ec2-codec.js';
import { isFormContentType, queryParams, scopeService } from './request-params.js';
import { XmlNode, xmlText } from './xml-encoder.js';

/**
 * AWS Query (IAM, STS): `Action=<Operation>&Version=<api version>&<members…>`, form-encoded in a POST body
 * (or in the query string of a GET), SigV4 scoped to the service; the answer is
 * `<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata><RequestId/></ResponseMetadata></OpResponse>`,
 * errors `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>` with the
 * code's HTTP status.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 *
 * It claims a request only when its SigV4 scope names a Query service it serves, or, unsigned, when it
 * is a form POST (or a GET with Action and Version): S3 (REST-XML, scope `s3`) is never claimed.
 */
export const MAX_QUERY_BODY_BYTES = 1024 * 1024;
const CONTENT_TYPE = 'text/xml';

const AUTH_ERRORS: Record<SigV4FailureKind, ErrorSpec> = {
  missing: QueryErrors.MissingAuthenticationToken,
  incomplete: QueryErrors.IncompleteSignature,
  'unknown-key': QueryErrors.InvalidClientTokenId,
  'inactive-key': QueryErrors.InvalidClientTokenId,
  mismatch: QueryErrors.SignatureDoesNotMatch,
  expired: QueryErrors.SignatureDoesNotMatch,
  scope: QueryErrors.SignatureDoesNotMatch,
  'payload-hash': QueryErrors.SignatureDoesNotMatch,
  'unsigned-headers': QueryErrors.IncompleteSignature,
  'expired-token': QueryErrors.ExpiredToken,
};

/** A Query service: its operation table and its Query codec (namespace, result wrappers), or EC2's flavour of it. */
export type QueryService = ServiceDefinition<unknown> & { readonly codec: QueryCodec | Ec2Codec };

const isEc2 = (s: QueryService | undefined): boolean => s !== undefined && 'flavour' in s.codec && s.codec.flavour === 'ec2';

const xml = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false, format: false });

export class QueryProtocol implements Protocol {
  readonly name = 'query';
  readonly #bySigningName: ReadonlyMap<string, QueryService>;

  constructor(
    services: readonly QueryService[],
    private readonly authenticator: Authenticator,
    private readonly log: Logger,
    /** Bounds bodies held before their signature is verified (process-wide budget, idle timeout). */
    private readonly bodyGuard: BodyGuard,
    /**
     * The authenticator of a regional service (EC2), by signing name: IAM and STS are global (signed for
     * us-east-1 whatever the deployment serves), EC2 is answered only in the Regions served.
     */
    private readonly regional: ReadonlyMap<string, Authenticator> = new Map(),
  ) {
    this.#bySigningName = new Map(services.map((s) => [s.signingName, s]));
  }

  claims(req: Exchange['req']): boolean {
    if (req.method !== 'POST' && req.method !== 'GET') return false;
    if (req.headers['x-amz-target'] !== undefined) return false;
    const { rawQuery } = splitUrl(req.url ?? '/');
    const auth = req.headers.authorization;
    const scope = scopeService(typeof auth === 'string' ? auth : undefined, rawQuery);
    if (scope !== undefined) return this.#bySigningName.has(scope) && (req.method === 'GET' || isFormContentType(req.headers['content-type']));
    if (req.method === 'POST') return isFormContentType(req.headers['content-type']);
    return /(?:^|&)Action=/.test(rawQuery) && /(?:^|&)Version=/.test(rawQuery);
  }

  async handle(ex: Exchange): Promise<void> {
    let service: QueryService | undefined;
    let opName = '';
    try {
      const { rawPath, rawQuery } = splitUrl(ex.req.url ?? '/');
      const auth = ex.req.headers.authorization;
      const scope = scopeService(typeof auth === 'string' ? auth : undefined, rawQuery);
      // Unsigned: any service will do, authentication fails (MissingAuthenticationToken) in its namespace — the
      // one of the action named in the query string, if any (the body is not read for an unsigned request).
      opName = new URLSearchParams(rawQuery).get('Action') ?? '';
      service = scope !== undefined ? this.#bySigningName.get(scope) : (this.#guessService(opName) ?? this.#first());
      if (!service) throw new AwsError(QueryErrors.InvalidClientTokenId, 'The request is not signed for a service this endpoint serves.');
      ex.note.service = service.signingName;
      if (opName !== '') ex.note.operation = opName.slice(0, 64);

      // The operation (Action) and every input are in the query string or the form body, both covered by the
      // signature; no header selects anything here (an added X-Amz-Target hands the request to the JSON
      // protocol, which requires it signed), so no header is declared must-sign. Everything the signature
      // says without the body is checked before the body is read (nothing is buffered for an unknown key).
      const { verified, body } = await (this.regional.get(service.signingName) ?? this.authenticator).authenticateBuffered(
        { method: ex.req.method!, rawPath, rawQuery, rawHeaders: ex.req.rawHeaders },
        service.signingName,
        async () => (ex.req.method === 'POST' ? readBody(ex.req, MAX_QUERY_BODY_BYTES, this.bodyGuard) : Buffer.alloc(0)),
      );
      ex.note.principal = verified.principal.arn;
      const params = queryParams(rawQuery, ex.req.method === 'POST' ? body : undefined);
      opName = params.get('Action') ?? '';
      ex.note.operation = opName.slice(0, 64);

      const op = service.operations.get(opName);
      const version = params.get('Version');
      if (!op || (version !== undefined && version !== service.codec.apiVersion)) {
        throw new AwsError(
          QueryErrors.InvalidAction,
          opName === '' ? 'The request must contain the parameter Action.' : `Could not find operation ${opName.slice(0, 64)} for version ${(version ?? service.codec.apiVersion).slice(0, 32)}`,
        );
      }
      const request = requestContextOf(ex, verified);
      const result = (await dispatch(service, op, params, request)) as Record<string, XmlNode>;
      // EC2: the request id first, then the members, no result wrapper nor ResponseMetadata.
      this.#send(ex, 200, {
        [`${op.name}Response`]: isEc2(service)
          ? { '@_xmlns': service.codec.namespace, requestId: ex.requestId, ...result }
          : { '@_xmlns': service.codec.namespace, ...result, ResponseMetadata: { RequestId: ex.requestId } },
      });
    } catch (err) {
      if (closedOnLostBody(err, ex, this.log)) return;
      const aws = this.#toAwsError(err, ex, service);
      ex.note.errorCode = aws.code;
      // A body not read to its end (refused before or while reading it) is not drained: close the connection.
      if (!ex.req.complete) ex.res.setHeader('connection', 'close');
      const namespace = (service ?? this.#guessService(opName) ?? this.#first())?.codec.namespace;
      if (isEc2(service ?? this.#guessService(opName))) {
        // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html#api-error-response
        this.#send(ex, aws.status, { Response: { Errors: { Error: { Code: aws.code, Message: xmlText(aws.message) } }, RequestID: ex.requestId } });
        return;
      }
      this.#send(ex, aws.status, {
        ErrorResponse: {
          ...(namespace ? { '@_xmlns': namespace } : {}),
          Error: { Type: aws.fault === 'server' ? 'Receiver' : 'Sender', Code: aws.code, Message: xmlText(aws.message) },
          RequestId: ex.requestId,
        },
      });
    }
  }

  /** For unsigned requests: the service whose model has the action (the error's namespace). */
  #guessService(action: string): QueryService | undefined {
    for (const s of this.#bySigningName.values()) if (s.operations.has(action)) return s;
    return undefined;
  }

  #first(): QueryService | undefined {
    return this.#bySigningName.values().next().value;
  }

  #toAwsError(err: unknown, ex: Exchange, service: QueryService | undefined): AwsError {
    if (err instanceof AwsError) return err;
    if (err instanceof SigV4Error) return new AwsError(AUTH_ERRORS[err.kind], err.message);
    if (err instanceof BodyTooLargeError) return new AwsError(QueryErrors.RequestEntityTooLarge, `Request body must be at most ${err.limit} bytes.`);
    if (err instanceof BodyBudgetExceededError) return new AwsError(QueryErrors.Throttling, 'Rate exceeded');
    // Unexpected: log the error (never the request body) and answer a retryable internal error.
    this.log.error({ err, requestId: ex.requestId, operation: ex.note.operation }, 'internal error');
    return new AwsError(service?.internalError ?? QueryErrors.InternalFailure, 'An internal error occurred. Retry the request.');
  }

  #send(ex: Exchange, status: number, tree: Record<string, XmlNode | Record<string, unknown>>): void {
    const res = ex.res;
    if (res.headersSent || res.destroyed) return;
    const body = xml.build(tree) as string;
    res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}

import { Logger } from 'pino';
import { AwsError } from '../../core/errors/aws-error.js';
import { CommonErrors } from '../../core/errors/common.js';
import { Authenticator } from '../../core/identity/authenticator.js';
import { SigV4Error } from '../../core/identity/sigv4/verify.js';
import { jsonAuthError } from '../../core/identity/auth-errors.js';
import { BodyBudgetExceededError, BodyGuard, BodyTooLargeError, readBody } from '../../http/body.js';
import { closedOnLostBody } from '../../http/body-lost.js';
import { requestContextOf } from '../request-context.js';
import { Exchange, Protocol, splitUrl } from '../../http/exchange.js';
import { ServiceDefinition, dispatch } from '../../services/service.js';

/**
 * AWS JSON 1.0/1.1: POST /, `X-Amz-Target: <TargetPrefix>.<Operation>`, a JSON body, a JSON answer;
 * errors are `{"__type": code, "message": text}` with the code's HTTP status.
 * https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
 */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;
const CONTENT_TYPE = 'application/x-amz-json-1.1';

/**
 * X-Amz-Target selects the operation: a target outside the signature would let a captured request
 * (DescribeKey) be replayed as another operation on the same body (DisableKey).
 */
const jsonMustSign = (name: string): boolean => name === 'x-amz-target';

export class AwsJsonProtocol implements Protocol {
  readonly name = 'aws-json';

  constructor(
    /** Services by X-Amz-Target prefix, e.g. `TrentService` → KMS. */
    private readonly services: ReadonlyMap<string, ServiceDefinition<unknown>>,
    private readonly authenticator: Authenticator,
    private readonly log: Logger,
    /** Bounds bodies held before their signature is verified (process-wide budget, idle timeout). */
    private readonly bodyGuard: BodyGuard,
  ) {
    this.#bySigningName = new Map([...services.values()].map((s) => [s.signingName, s]));
  }

  readonly #bySigningName: ReadonlyMap<string, ServiceDefinition<unknown>>;

  claims(req: Exchange['req']): boolean {
    return req.method === 'POST' && typeof req.headers['x-amz-target'] === 'string';
  }

  handle(ex: Exchange): Promise<void> {
    return this.#answer(ex, () => this.#serve(ex));
  }

  /**
   * Serves `opName` of `service`, named by the route rather than by X-Amz-Target (Strongroom's own
   * POST /_strongroom/explain): the same body limits, authentication, dispatch (authorization and audit) and
   * error answers as every AWS JSON call.
   */
  handleOperation(ex: Exchange, service: ServiceDefinition<unknown>, opName: string): Promise<void> {
    return this.#answer(ex, async () => {
      if (ex.req.method !== 'POST') throw new AwsError(CommonErrors.ValidationException, 'Use POST with a JSON body.');
      return this.#serveOperation(ex, service, opName);
    });
  }

  async #answer(ex: Exchange, serve: () => Promise<string>): Promise<void> {
    try {
      const body = await serve();
      this.#send(ex, 200, body);
    } catch (err) {
      if (closedOnLostBody(err, ex, this.log)) return;
      const aws = this.#toAwsError(err, ex);
      ex.note.errorCode = aws.code;
      // A body not read to its end (refused before or while reading it) is not drained: close the connection.
      if (!ex.req.complete) ex.res.setHeader('connection', 'close');
      this.#send(ex, aws.status, JSON.stringify({ __type: aws.code, message: aws.message }));
    }
  }

  async #serve(ex: Exchange): Promise<string> {
    const target = String(ex.req.headers['x-amz-target']);
    const dot = target.lastIndexOf('.');
    const service = dot > 0 ? this.services.get(target.slice(0, dot)) : undefined;
    const opName = target.slice(dot + 1);
    if (!service) throw new AwsError(CommonErrors.UnknownOperationException, 'The action or operation requested is invalid.');
    return this.#serveOperation(ex, service, opName);
  }

  async #serveOperation(ex: Exchange, service: ServiceDefinition<unknown>, opName: string): Promise<string> {
    ex.note.service = service.signingName;
    ex.note.operation = opName;

    // Everything the signature says without the body is checked before the body is read: an unknown key,
    // a wrong date or scope is refused without buffering anything.
    const { rawPath, rawQuery } = splitUrl(ex.req.url ?? '/');
    const { verified, body } = await this.authenticator.authenticateBuffered(
      { method: ex.req.method!, rawPath, rawQuery, rawHeaders: ex.req.rawHeaders },
      service.signingName,
      () => readBody(ex.req, MAX_JSON_BODY_BYTES, this.bodyGuard),
      jsonMustSign,
    );
    ex.note.principal = verified.principal.arn;

    const op = service.operations.get(opName);
    if (!op) throw new AwsError(CommonErrors.UnknownOperationException, `The action ${opName.slice(0, 64)} is not valid for this web service.`);
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      throw new AwsError(CommonErrors.SerializationException, 'The request body is not valid JSON.');
    }
    const request = requestContextOf(ex, verified);
    const output = await dispatch(service, op, input, request);
    return JSON.stringify(output);
  }

  #toAwsError(err: unknown, ex: Exchange): AwsError {
    if (err instanceof AwsError) return err;
    if (err instanceof SigV4Error) return jsonAuthError(err);
    if (err instanceof BodyTooLargeError) {
      return new AwsError(CommonErrors.RequestEntityTooLargeException, `Request body must be at most ${err.limit} bytes.`);
    }
    if (err instanceof BodyBudgetExceededError) return new AwsError(CommonErrors.ThrottlingException, 'Rate exceeded');
    // Unexpected: log the error (never the request body) and answer a retryable internal error.
    this.log.error({ err, requestId: ex.requestId, operation: ex.note.operation }, 'internal error');
    const spec = (ex.note.service && this.#bySigningName.get(ex.note.service)?.internalError) || CommonErrors.InternalFailure;
    return new AwsError(spec, 'An internal error occurred. Retry the request.');
  }

  #send(ex: Exchange, status: number, body: string): void {
    const res = ex.res;
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, {
      'content-type': CONTENT_TYPE,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }
}

import { Logger } from 'pino';
import { AwsError, ErrorSpec } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { Authenticator } from '../../core/identity/authenticator.js';
import { SigV4Error, SigV4FailureKind, UNSIGNED_PAYLOAD, Verified } from '../../core/identity/sigv4/verify.js';
import { SealedDataError } from '../../core/s3/packages.js';
import { requestContextOf } from '../request-context.js';
import { Exchange, Protocol, splitUrl } from '../../http/exchange.js';
import { S3Input, S3Reply } from '../../services/s3/call.js';
import { routeS3 } from '../../services/s3/routes.js';
import { ServiceDefinition, dispatch } from '../../services/service.js';
import { xmlDocument } from '../../services/s3/xml.js';
import { STREAMING_UNSIGNED_TRAILER, isAwsChunkedMode } from './aws-chunked.js';
import { s3Address } from './addressing.js';
import { requestBody, streamBody } from './request-body.js';
import { PostForm, readPostForm } from './post-form.js';

/**
 * REST-XML as S3 speaks it: the operation is the method + path (bucket, key) + sub-resource query,
 * inputs are headers, query and body, answers are status + headers + an XML document or the object's
 * bytes; errors are `<Error><Code/><Message/><RequestId/><HostId/></Error>` with the code's status.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 * It claims every request the JSON and Query protocols did not (it is asked last).
 */
const AUTH_ERRORS: Record<SigV4FailureKind, ErrorSpec> = {
  missing: S3Errors.AccessDenied,
  incomplete: S3Errors.AuthorizationHeaderMalformed,
  'unknown-key': S3Errors.InvalidAccessKeyId,
  'inactive-key': S3Errors.InvalidAccessKeyId,
  mismatch: S3Errors.SignatureDoesNotMatch,
  expired: S3Errors.RequestTimeTooSkewed,
  scope: S3Errors.AuthorizationHeaderMalformed,
  'payload-hash': S3Errors.XAmzContentSHA256Mismatch,
  'unsigned-headers': S3Errors.AccessDenied,
  'expired-token': S3Errors.ExpiredToken,
};

export class RestXmlProtocol implements Protocol {
  readonly name = 'rest-xml';

  constructor(
    private readonly service: ServiceDefinition<any, any>,
    private readonly authenticator: Authenticator,
    /** Host names under which `<bucket>.<domain>` addresses a bucket (virtual-hosted style). */
    private readonly domains: readonly string[],
    private readonly log: Logger,
    /** A body (or a POST form) that sends nothing for this long is answered RequestTimeout and cut. */
    private readonly bodyIdleMs: number,
  ) {}

  claims(): boolean {
    return true;
  }

  async handle(ex: Exchange): Promise<void> {
    ex.res.setHeader('x-amz-request-id', ex.requestId);
    ex.res.setHeader('x-amz-id-2', Buffer.from(ex.requestId).toString('base64'));
    ex.note.service = 's3';
    let resource = '';
    let input: S3Input | undefined;
    try {
      const { rawPath, rawQuery } = splitUrl(ex.req.url ?? '/');
      const host = String(ex.req.headers.host ?? '');
      const { bucket, key } = s3Address(host, rawPath, this.domains);
      resource = bucket === undefined ? '/' : key === undefined ? `/${bucket}` : `/${bucket}/${key}`;
      const query = new URLSearchParams(rawQuery);
      const opName = routeS3(ex.req.method ?? '', bucket, key, query, ex.req.headers);
      ex.note.operation = opName;
      let verified: { principal: Verified['principal']; region: string };
      let body: S3Input['body'];
      let form: PostForm | undefined;
      if (opName === 'PostObject') {
        // Browser uploads: the signature is over the form's policy, not over the request.
        form = await readPostForm(ex.req, this.bodyIdleMs);
        const fields = form.fields;
        verified = await this.authenticator.authenticatePostPolicy((name) => fields.get(name), 's3');
        body = streamBody(form.file);
      } else {
        const v = await this.#authenticate(ex, rawPath, rawQuery);
        verified = v;
        const signing = v.presigned ? undefined : {
          signingKey: v.signingKey,
          amzDate: v.amzDate,
          scope: `${v.amzDate.slice(0, 8)}/${v.region}/${v.service}/aws4_request`,
          seedSignature: v.signature,
        };
        body = requestBody(ex.req, v.payloadHash, signing, this.bodyIdleMs);
      }
      ex.note.principal = verified.principal.arn;
      const op = opName === undefined ? undefined : this.service.operations.get(opName);
      if (!op) {
        throw new AwsError(
          ex.req.method === 'GET' || ex.req.method === 'PUT' || ex.req.method === 'DELETE' || ex.req.method === 'POST' || ex.req.method === 'HEAD' ? S3Errors.NotImplemented : S3Errors.MethodNotAllowed,
          'A header or query you provided implies functionality that is not implemented.',
        );
      }
      // Object tags are not implemented: tags asked for are refused, never silently dropped.
      if (ex.req.headers['x-amz-tagging'] !== undefined) {
        throw new AwsError(S3Errors.NotImplemented, 'A header or query you provided implies functionality that is not implemented.');
      }
      input = { bucket, key, query, headers: ex.req.headers, body, host, ...(form ? { form: form.fields, filename: form.filename } : {}) };
      const request = requestContextOf(ex, verified);
      const reply = (await dispatch(this.service, op, input, request)) as S3Reply;
      await this.#send(ex, reply);
    } catch (err) {
      const aws = this.#toAwsError(err, ex);
      ex.note.errorCode = aws.code;
      // A body not read to its end is not drained: answer and close the connection (what is left of the
      // body must never be parsed as the next request).
      if (!ex.req.complete && hasBody(ex)) ex.res.setHeader('connection', 'close');
      this.#sendError(ex, aws, resource);
    }
  }

  async #authenticate(ex: Exchange, rawPath: string, rawQuery: string): Promise<Verified> {
    const h = ex.req.headers;
    const claimed = typeof h['x-amz-content-sha256'] === 'string' ? h['x-amz-content-sha256'] : undefined;
    const presigned = rawQuery.includes('X-Amz-Algorithm=');
    if (!presigned && h.authorization !== undefined && claimed === undefined) {
      throw new AwsError(S3Errors.InvalidRequest, 'Missing required header for this request: x-amz-content-sha256');
    }
    if (claimed !== undefined && claimed !== UNSIGNED_PAYLOAD && !isAwsChunkedMode(claimed) && !/^[0-9a-f]{64}$/.test(claimed)) {
      throw new AwsError(S3Errors.InvalidArgument, 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a valid sha256 value.');
    }
    // The body is checked against the signed hash as it streams (request-body.ts), not read up front.
    const verified = await this.authenticator.authenticate(
      { method: ex.req.method!, rawPath, rawQuery, rawHeaders: ex.req.rawHeaders },
      () => claimed ?? UNSIGNED_PAYLOAD,
      's3',
      true,
      s3MustSign,
    );
    // Signed chunks chain from the seed signature of an Authorization header; a presigned URL has none.
    // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
    if (verified.presigned && isAwsChunkedMode(verified.payloadHash) && verified.payloadHash !== STREAMING_UNSIGNED_TRAILER) {
      throw new AwsError(S3Errors.InvalidRequest, `x-amz-content-sha256 ${verified.payloadHash} (a signed aws-chunked upload) needs the Authorization header's signature; it cannot be used with a presigned URL.`);
    }
    return verified;
  }

  async #send(ex: Exchange, reply: S3Reply): Promise<void> {
    const res = ex.res;
    const headers: Record<string, string | number> = { ...reply.headers };
    const status = reply.status ?? 200;
    if (reply.xml !== undefined) {
      const body = Buffer.from(reply.xml, 'utf8');
      res.writeHead(status, { ...headers, 'content-type': 'application/xml', 'content-length': body.length });
      res.end(body);
      return;
    }
    if (reply.length !== undefined) headers['content-length'] = reply.length;
    else if (!reply.body) headers['content-length'] = 0;
    if (!reply.body) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    const body = reply.body;
    if (ex.req.method === 'HEAD') {
      body.destroy();
      res.writeHead(status, headers);
      res.end();
      return;
    }
    res.writeHead(status, headers);
    await new Promise<void>((resolve) => {
      body.on('error', (err) => {
        // Headers are gone: the only honest signal left is a cut connection (the length will not match).
        this.log.error({ err, requestId: ex.requestId }, 'object body failed while streaming');
        res.destroy();
        resolve();
      });
      res.on('close', () => {
        body.destroy();
        resolve();
      });
      body.pipe(res);
    });
  }

  #sendError(ex: Exchange, err: AwsError, resource: string): void {
    const res = ex.res;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const extra = (err as AwsError & { headers?: Record<string, string> }).headers ?? {};
    const details = (err as AwsError & { details?: Record<string, string> }).details ?? {};
    if (ex.req.method === 'HEAD' || err.status === 304) {
      res.writeHead(err.status, extra);
      res.end();
      return;
    }
    const body = Buffer.from(
      xmlDocument('Error', { Code: err.code, Message: err.message, ...details, Resource: resource, RequestId: ex.requestId, HostId: Buffer.from(ex.requestId).toString('base64') }, false),
      'utf8',
    );
    res.writeHead(err.status, { ...extra, 'content-type': 'application/xml', 'content-length': body.length });
    res.end(body);
  }

  #toAwsError(err: unknown, ex: Exchange): AwsError {
    if (err instanceof AwsError) return err;
    if (err instanceof SigV4Error) {
      const presigned = (ex.req.url ?? '').includes('X-Amz-Algorithm=');
      const spec =
        presigned && err.kind === 'expired' ? S3Errors.AccessDenied
        : presigned && err.kind === 'incomplete' ? S3Errors.AuthorizationQueryParametersError
        : AUTH_ERRORS[err.kind];
      const aws = new AwsError(spec, err.kind === 'missing' ? 'Access Denied' : err.message);
      // S3 names the unsigned headers in the error document: <HeadersNotSigned>x-amz-acl, x-amz-meta-a</HeadersNotSigned>.
      return err.kind === 'unsigned-headers' ? Object.assign(aws, { details: { HeadersNotSigned: err.unsignedHeaders.join(', ') } }) : aws;
    }
    if (err instanceof SealedDataError) {
      this.log.error({ err, requestId: ex.requestId }, 'stored object failed authentication');
      return new AwsError(S3Errors.InternalError, 'We encountered an internal error. Please try again.');
    }
    if (clientWentAway(err, ex)) {
      // Not an internal error: one short line, no stack (a client cutting connections must not flood the log).
      this.log.debug({ requestId: ex.requestId, operation: ex.note.operation, code: (err as { code?: string }).code }, 'client closed the connection');
      return new AwsError(S3Errors.IncompleteBody, 'The request body terminated unexpectedly');
    }
    this.log.error({ err, requestId: ex.requestId, operation: ex.note.operation }, 'internal error');
    return new AwsError(S3Errors.InternalError, 'We encountered an internal error. Please try again.');
  }
}

/**
 * S3 acts on every x-amz-* request header (copy source, SSE and SSE-C keys, ACLs, metadata, checksums…), so
 * each one present must be signed, in the Authorization header or in X-Amz-SignedHeaders of a presigned URL;
 * S3 refuses others with AccessDenied and <HeadersNotSigned>. x-amz-content-sha256 is the exception: its
 * value is the payload line of the canonical request, so it is covered by the signature either way.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */
function s3MustSign(name: string): boolean {
  return name.startsWith('x-amz-') && name !== 'x-amz-content-sha256';
}

const CLIENT_GONE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/** The failure comes from the client's side of the connection (reset, closed mid-body or mid-answer). */
function clientWentAway(err: unknown, ex: Exchange): boolean {
  return CLIENT_GONE_CODES.has((err as { code?: string }).code ?? '') || ex.req.socket.destroyed;
}

function hasBody(ex: Exchange): boolean {
  const len = ex.req.headers['content-length'];
  return ex.req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

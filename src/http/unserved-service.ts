import { IncomingMessage, ServerResponse } from 'node:http';
import { CommonErrors } from '../core/errors/common.js';
import { ErrorSpec } from '../core/errors/aws-error.js';
import { QueryErrors } from '../core/errors/query.js';
import { S3Errors } from '../core/errors/s3.js';
import { isFormContentType, scopeService } from '../protocols/query/request-params.js';

/** What app.ts serves, from the service definitions it wires into the protocols (not a second list kept here). */
export interface ServedServices {
  /** The SigV4 signing names, in the order the error message lists them. */
  readonly signingNames: readonly string[];
  /** The X-Amz-Target prefixes of the served JSON services: a request with one is meant for them. */
  readonly jsonTargetPrefixes: ReadonlySet<string>;
}

/** Services whose REST protocol is XML (S3's family, Route 53, CloudFront); other REST services speak JSON. */
const REST_XML_SERVICES = new Set(['s3-object-lambda', 's3-outposts', 's3express', 'route53', 'cloudfront']);

/**
 * A request signed for a service Strongroom does not serve (an SDK or the aws CLI pointed at Strongroom for Lambda,
 * CloudWatch, SQS, Cost Explorer…) gets, at the edge, an error that names the service, in the protocol the
 * client speaks so that it prints the message: without this it fell through to S3 and was answered
 * "Unknown" or a misleading S3 error. The service is the credential scope's (`…/<date>/<region>/<service>/
 * aws4_request`, in the Authorization header or X-Amz-Credential); unsigned requests and malformed scopes
 * are left to the protocols, which answer them as they do today, and so are requests for a served service
 * signed with a wrong scope (a served name in another case, or an X-Amz-Target of a served service): those
 * are signature errors of that service. Nothing is authenticated: the answer only says what this server serves.
 *
 * Answers: AWS JSON (X-Amz-Target) and REST-JSON: `UnknownOperationException`, as a JSON endpoint answers a
 * target it does not know; RPC v2 CBOR (`smithy-protocol: rpc-v2-cbor`, CloudWatch's SDKs): the same in CBOR;
 * Query (form POST, or GET with Action): `InvalidAction` in `<ErrorResponse>`; REST-XML: S3's `<Error>` with `InvalidRequest`. All 400: not retried.
 * Returns whether it answered.
 */
export function answerUnservedService(req: IncomingMessage, res: ServerResponse, requestId: string, served: ServedServices): boolean {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const auth = req.headers.authorization;
  const service = scopeService(typeof auth === 'string' ? auth : undefined, rawQuery);
  if (service === undefined || service === '' || served.signingNames.includes(service.toLowerCase())) return false;
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && served.jsonTargetPrefixes.has(target.slice(0, Math.max(0, target.lastIndexOf('.'))))) return false;

  const shown = service.replace(/[^a-zA-Z0-9._-]/g, '?').slice(0, 64);
  const message = `Strongroom does not serve the '${shown}' service; served: ${served.signingNames.join(', ')}`;
  // The body (if any) is not read: the connection closes after the answer instead of draining it.
  res.setHeader('connection', 'close');
  if (req.headers['smithy-protocol'] === 'rpc-v2-cbor') {
    send(res, CommonErrors.UnknownOperationException, 'application/cbor', cborTextMap({ __type: CommonErrors.UnknownOperationException.code, message }), {
      'smithy-protocol': 'rpc-v2-cbor',
    });
  } else if (typeof target === 'string') {
    const type = req.headers['content-type'] === 'application/x-amz-json-1.0' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
    send(res, CommonErrors.UnknownOperationException, type, JSON.stringify({ __type: CommonErrors.UnknownOperationException.code, message }));
  } else if ((req.method === 'POST' && isFormContentType(req.headers['content-type'])) || /(?:^|&)Action=/.test(rawQuery)) {
    const spec = QueryErrors.InvalidAction;
    // EC2 (the one Query service with its own error dialect) is served, so every unserved Query service is answered
    // in the common <ErrorResponse>.
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>${spec.code}</Code><Message>${xml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    send(res, spec, 'text/xml', body);
  } else if (REST_XML_SERVICES.has(service)) {
    const spec = S3Errors.InvalidRequest;
    send(res, spec, 'application/xml', `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${spec.code}</Code><Message>${xml(message)}</Message><RequestId>${requestId}</RequestId></Error>`);
  } else {
    // REST-JSON (Lambda, API Gateway, …): the code in x-amzn-ErrorType, the message in the body.
    const spec = CommonErrors.UnknownOperationException;
    send(res, spec, 'application/json', JSON.stringify({ __type: spec.code, message }), { 'x-amzn-errortype': spec.code });
  }
  return true;
}

function send(res: ServerResponse, spec: ErrorSpec, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(spec.status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A CBOR map of text to text (RFC 8949 §3.1: major types 5 and 3), enough for an RPC v2 CBOR error body. */
function cborTextMap(map: Record<string, string>): Buffer {
  const head = (major: number, n: number) =>
    n < 24 ? Buffer.of((major << 5) | n) : n < 256 ? Buffer.of((major << 5) | 24, n) : Buffer.of((major << 5) | 25, n >> 8, n & 0xff);
  const text = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    return Buffer.concat([head(3, b.length), b]);
  };
  const entries = Object.entries(map);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [text(k), text(v)])]);
}

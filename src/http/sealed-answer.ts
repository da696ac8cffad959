import { ServerResponse } from 'node:http';
import { CommonErrors } from '../core/errors/common.js';
import { ErrorSpec } from '../core/errors/aws-error.js';
import { EbsErrors } from '../core/errors/ebs.js';
import { Ec2Errors } from '../core/errors/ec2.js';
import { KmsErrors } from '../core/errors/kms.js';
import { QueryErrors } from '../core/errors/query.js';
import { S3Errors } from '../core/errors/s3.js';
import { isFormContentType, scopeService } from '../protocols/query/request-params.js';
import { Exchange } from './exchange.js';

export const SEALED_MESSAGE = 'Strongroom is sealed: it serves no request until it is unsealed with its key shares (strongroom operator unseal)';

/**
 * What a sealed server (README "Sealed start") answers every API request with, before reading or authenticating
 * anything (authentication needs the access keys' secrets, which the sealed keyring cannot unwrap): each
 * protocol's retryable server error, with a message saying it is sealed, so SDKs retry and operators read why.
 * KMS: `KMSInternalException` 500 (AWS JSON); CloudTrail: `ServiceUnavailable` 503 (AWS JSON, the common error);
 * IAM/STS (Query): `ServiceUnavailable` 503 in `<ErrorResponse>`; EC2: `Unavailable` 503 in `<Response><Errors>`;
 * EBS direct APIs (REST-JSON): `InternalServerException` 500; S3 and anything else: S3's `ServiceUnavailable`
 * 503 `<Error>`; the XKS proxy API: its `InternalException` 500. The body is not read: the connection closes.
 */
export function answerSealed(ex: Exchange): void {
  const { req, res, requestId } = ex;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const auth = req.headers.authorization;
  const service = scopeService(typeof auth === 'string' ? auth : undefined, rawQuery)?.toLowerCase();
  const target = req.headers['x-amz-target'];
  res.setHeader('connection', 'close');
  ex.note.errorCode = 'Sealed';
  if (url.startsWith('/_strongroom/xks/')) {
    // The XKS proxy API's error body (aws-kms-xksproxy-api-spec, "Error Handling").
    return send(res, 500, 'application/json', JSON.stringify({ errorName: 'InternalException', errorMessage: SEALED_MESSAGE }));
  }
  if (typeof target === 'string' || url.startsWith('/_strongroom/')) {
    const spec = typeof target === 'string' && target.startsWith('TrentService.') ? KmsErrors.KMSInternalException : CommonErrors.ServiceUnavailable;
    const type = req.headers['content-type'] === 'application/x-amz-json-1.0' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
    return sendSpec(res, spec, type, JSON.stringify({ __type: spec.code, message: SEALED_MESSAGE }));
  }
  if ((req.method === 'POST' && isFormContentType(req.headers['content-type'])) || /(?:^|&)Action=/.test(rawQuery)) {
    if (service === 'ec2') {
      const spec = Ec2Errors.Unavailable;
      return sendSpec(res, spec, 'text/xml', `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${spec.code}</Code><Message>${SEALED_MESSAGE}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`);
    }
    const spec = QueryErrors.ServiceUnavailable;
    return sendSpec(res, spec, 'text/xml', `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Receiver</Type><Code>${spec.code}</Code><Message>${SEALED_MESSAGE}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
  }
  if (service === 'ebs') {
    const spec = EbsErrors.InternalServerException;
    return sendSpec(res, spec, 'application/json', JSON.stringify({ __type: spec.code, message: SEALED_MESSAGE }), { 'x-amzn-errortype': spec.code });
  }
  const spec = S3Errors.ServiceUnavailable;
  sendSpec(res, spec, 'application/xml', `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${spec.code}</Code><Message>${SEALED_MESSAGE}</Message><RequestId>${requestId}</RequestId></Error>`);
}

function sendSpec(res: ServerResponse, spec: ErrorSpec, contentType: string, body: string, headers: Record<string, string> = {}): void {
  send(res, spec.status, contentType, body, headers);
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

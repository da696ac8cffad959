import { randomUUID } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { TLSSocket } from 'node:tls';
import { Logger } from 'pino';
import { TlsDetails } from '../core/audit/record.js';
import { Exchange, Protocol } from './exchange.js';
import { ServedServices, answerUnservedService } from './unserved-service.js';

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Our own endpoints live under /_strongroom/ (S3 bucket names cannot begin with '_'). */
export const OWN_PREFIX = '/_strongroom/';

export type OwnRoute = (ex: Exchange) => void;

/**
 * The HTTP edge: one port for every protocol. It gives each request an id (x-amzn-RequestId), serves /_strongroom/*, hands everything else to the first protocol
 * that claims it and writes one access-log line per request.
 */
export function createEdge(opts: {
  protocols: readonly Protocol[];
  routes: ReadonlyMap<string, OwnRoute>;
  /** Own routes that serve every path under a prefix of /_strongroom/ (e.g. 'xks/': the XKS proxy API). */
  prefixRoutes?: ReadonlyMap<string, OwnRoute>;
  /** The services the protocols serve: a request signed for another is answered at the edge (unserved-service.ts). */
  served: ServedServices;
  log: Logger;
  tls?: TlsFiles;
  /** Called as each request arrives, before anything else (the caches catching up with other processes). */
  beforeRequest?: () => void;
  /** A sealed server's gate (sealing/seal-gate.ts): answers the request itself when it returns true. */
  gate?: (ex: Exchange) => boolean;
}): Server {
  const accessLog = opts.log.isLevelEnabled('info');
  const beforeRequest = opts.beforeRequest;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    beforeRequest?.();
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    res.setHeader('x-amzn-requestid', requestId);
    const secure = req.socket instanceof TLSSocket && req.socket.encrypted;
    const ex: Exchange = {
      req,
      res,
      requestId,
      secure,
      sourceIp: req.socket.remoteAddress ?? '',
      ...(secure ? { tlsDetails: tlsDetailsOf(req.socket as TLSSocket, req.headers.host) } : {}),
      note: {},
    };
    if (accessLog) res.on('finish', () => {
      opts.log.info(
        {
          requestId,
          method: req.method,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          ...ex.note,
        },
        'request',
      );
    });
    if (opts.gate?.(ex)) return;
    const url = req.url ?? '/';
    if (url.startsWith(OWN_PREFIX)) {
      const own = url.split('?')[0]!.slice(OWN_PREFIX.length);
      const route = opts.routes.get(own);
      if (route) return route(ex);
      for (const [prefix, r] of opts.prefixRoutes ?? []) if (own.startsWith(prefix)) return r(ex);
      return sendJson(res, 404, { error: 'no such endpoint' });
    }
    if (answerUnservedService(req, res, requestId, opts.served)) return;
    const protocol = opts.protocols.find((p) => p.claims(req));
    if (!protocol) return sendJson(res, 400, { error: 'This request is not an AWS API request that this server serves.' });
    protocol.handle(ex).catch((err: unknown) => {
      opts.log.error({ err, requestId }, 'unhandled error');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };
  const server = opts.tls ? createHttps({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttp(handler);
  // Bound slow clients: headers within 20 s, a whole request within 5 min.
  server.headersTimeout = 20_000;
  server.requestTimeout = 300_000;
  return server;
}

const sessions = new WeakMap<TLSSocket, { tlsVersion: string; cipherSuite: string }>();

/**
 * CloudTrail's tlsDetails: the negotiated protocol ("TLSv1.3"), the cipher suite by its OpenSSL name as AWS
 * shows it ("ECDHE-RSA-AES256-GCM-SHA384"; TLS 1.3 suites as "TLS_AES_128_GCM_SHA256") and the Host header
 * as the client sent it. Asked of OpenSSL once per connection.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 */
function tlsDetailsOf(socket: TLSSocket, host: string | undefined): TlsDetails {
  let session = sessions.get(socket);
  if (!session) {
    session = { tlsVersion: socket.getProtocol() ?? 'unknown', cipherSuite: socket.getCipher()?.name ?? 'unknown' };
    sessions.set(socket, session);
  }
  return { ...session, clientProvidedHostHeader: host ?? '' };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

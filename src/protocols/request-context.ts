import { Principal } from '../core/identity/principal.js';
import { Exchange } from '../http/exchange.js';
import { RequestContext } from '../services/operation.js';

/** What every protocol hands the dispatcher about an authenticated request. */
export function requestContextOf(ex: Exchange, verified: { readonly principal: Principal; readonly region: string }): RequestContext {
  return {
    requestId: ex.requestId,
    principal: verified.principal,
    region: verified.region,
    sourceIp: ex.sourceIp,
    userAgent: String(ex.req.headers['user-agent'] ?? ''),
    secureTransport: ex.secure,
    ...(ex.tlsDetails ? { tlsDetails: ex.tlsDetails } : {}),
  };
}

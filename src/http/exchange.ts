import { IncomingMessage, ServerResponse } from 'node:http';
import { TlsDetails } from '../core/audit/record.js';

/** One request/response pair as the HTTP edge hands it to a protocol. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly secure: boolean;
  readonly sourceIp: string;
  /** Set when the request came over TLS: its version, cipher suite and the Host header the client sent. */
  readonly tlsDetails?: TlsDetails;
  /** What the access log line says of the request (filled in by the protocol; never secrets). */
  readonly note: { service?: string; operation?: string; principal?: string; errorCode?: string };
}

/** A wire protocol: claims requests by their headers, then owns the exchange, errors included. */
export interface Protocol {
  readonly name: string;
  claims(req: IncomingMessage): boolean;
  handle(ex: Exchange): Promise<void>;
}

export function splitUrl(url: string): { rawPath: string; rawQuery: string } {
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

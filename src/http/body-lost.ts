import { Logger } from 'pino';
import { BodyAbortedError, BodyIdleError } from './body.js';
import { Exchange } from './exchange.js';

/**
 * A protocol's first step on an error: if the request body was lost (the client went away, or stalled mid-body
 * past the idle timeout) there is nothing to answer, so the connection is destroyed and true is returned.
 */
export function closedOnLostBody(err: unknown, ex: Exchange, log: Logger): boolean {
  if (!(err instanceof BodyAbortedError || err instanceof BodyIdleError)) return false;
  log.debug({ requestId: ex.requestId, reason: err.name }, 'request body not received; connection closed');
  ex.res.destroy();
  return true;
}

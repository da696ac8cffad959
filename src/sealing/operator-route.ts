import { isIP } from 'node:net';
import { OwnRoute, sendJson } from '../http/server.js';
import { RootOfTrustError } from '../core/crypto/root-of-trust/root-of-trust.js';
import { SealControl } from './seal-control.js';
import { OPERATOR_TOKEN_HEADER, tokenMatches } from './operator-token.js';

/** A share is ~70 characters; anything much longer is not one. */
const MAX_BODY_BYTES = 4096;

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

/**
 * POST /_strongroom/operator/unseal (body: one key share), POST …/seal, GET …/seal-status: answered only to a
 * caller on this machine — the connection's peer is a loopback address and no proxy header says it came from
 * elsewhere — that sends the operator token (operator-token.ts); anyone else gets 403 and nothing is done.
 * Answers JSON: the status ({sealed, progress, threshold, shares, setId}), or {error} with 400 (a share refused:
 * malformed, corrupted, of another set, given twice, or a wrong combination, which resets the progress).
 */
export function operatorRoutes(control: () => SealControl, token: () => string): Array<[string, OwnRoute]> {
  const guarded = (method: string, run: (body: string) => Promise<unknown>): OwnRoute => (ex) => {
    const { req, res } = ex;
    if (!isLoopback(req.socket.remoteAddress) || req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined) {
      return sendJson(res, 403, { error: 'the operator endpoints answer only on the loopback interface (run strongroom operator on the server\'s machine)' });
    }
    const given = req.headers[OPERATOR_TOKEN_HEADER];
    if (!tokenMatches(typeof given === 'string' ? given : undefined, token())) {
      return sendJson(res, 403, { error: `missing or wrong operator token (${OPERATOR_TOKEN_HEADER}; the data dir's operator-token file)` });
    }
    if (req.method !== method) return sendJson(res, 405, { error: `use ${method}` });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (size > MAX_BODY_BYTES) return sendJson(res, 413, { error: 'the body is too large for a key share' });
      run(body.toString('utf8')).then(
        (status) => sendJson(res, 200, status),
        (err: unknown) => {
          if (err instanceof RootOfTrustError) return sendJson(res, 400, { error: err.message, code: err.name });
          ex.note.errorCode = 'InternalError';
          sendJson(res, 500, { error: 'internal error' });
        },
      );
      body.fill(0);
      for (const c of chunks) c.fill(0);
    });
  };
  return [
    ['operator/unseal', guarded('POST', (body) => control().unseal(body))],
    ['operator/seal', guarded('POST', () => control().seal())],
    ['operator/seal-status', guarded('GET', () => control().status())],
  ];
}

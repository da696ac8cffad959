import { IncomingMessage, ServerResponse } from 'node:http';
import { AwsError } from '../core/errors/aws-error.js';
import { CommonErrors } from '../core/errors/common.js';
import { jsonAuthError } from '../core/identity/auth-errors.js';
import { Authenticator } from '../core/identity/authenticator.js';
import { SigV4Error } from '../core/identity/sigv4/verify.js';
import { KmsAccessControl } from '../core/kms/access-control.js';
import { explainKmsAccess, principalFromArn } from '../core/kms/explain.js';
import { MetadataStore } from '../store/metadata/types.js';
import { BodyAbortedError, BodyBudgetExceededError, BodyGuard, BodyIdleError, BodyTooLargeError, readBody } from './body.js';
import { sha256Hex } from '../core/identity/sigv4/canonical-request.js';
import { splitUrl } from './exchange.js';
import { sendJson } from './server.js';

/**
 * POST /_strongroom/explain, signed with SigV4 for service `kms`:
 *   {"principal": "arn:aws:iam::111122223333:user/alice", "action": "kms:Decrypt", "key": "alias/x",
 *    "context": {"dept": "hr"}}
 * answers the decision and the statements behind it. A caller may explain its own access, and an
 * account's root user any principal of its account.
 */
export function explainRoute(authenticator: Authenticator, store: MetadataStore, access: KmsAccessControl, bodyGuard: BodyGuard) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof BodyAbortedError || err instanceof BodyIdleError) {
        res.destroy();
        return;
      }
      const aws =
        err instanceof AwsError ? err
        : err instanceof SigV4Error ? jsonAuthError(err)
        : err instanceof BodyTooLargeError ? new AwsError(CommonErrors.RequestEntityTooLargeException, err.message)
        : err instanceof BodyBudgetExceededError ? new AwsError(CommonErrors.ThrottlingException, 'Rate exceeded')
        : new AwsError(CommonErrors.InternalFailure, 'An internal error occurred.');
      if (res.headersSent) return;
      // A body not read to its end is not drained: close the connection.
      if (!req.complete) res.setHeader('connection', 'close');
      sendJson(res, aws.status, { __type: aws.code, message: aws.message });
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw new AwsError(CommonErrors.ValidationException, 'Use POST with a JSON body.');
    const { rawPath, rawQuery } = splitUrl(req.url ?? '/');
    // Signature checks that need no body come first: nothing is buffered for a request refused by them.
    const pending = await authenticator.begin({ method: 'POST', rawPath, rawQuery, rawHeaders: req.rawHeaders }, 'kms', false);
    const body = await readBody(req, 64 * 1024, bodyGuard);
    const verified = pending.finish(() => sha256Hex(body));
    let q: { principal?: unknown; action?: unknown; key?: unknown; context?: unknown };
    try {
      q = JSON.parse(body.toString('utf8')) as typeof q;
    } catch {
      throw new AwsError(CommonErrors.SerializationException, 'The request body is not valid JSON.');
    }
    if (typeof q.principal !== 'string' || typeof q.action !== 'string' || typeof q.key !== 'string') {
      throw new AwsError(CommonErrors.ValidationException, 'principal, action and key are required strings.');
    }
    const context = q.context === undefined ? undefined : stringRecord(q.context);
    const subject = principalFromArn(q.principal);
    const caller = verified.principal;
    if (caller.arn !== subject.arn && !(caller.type === 'Root' && caller.accountId === subject.accountId)) {
      throw new AwsError(CommonErrors.AccessDeniedException, `User: ${caller.arn} may explain only its own access, or (as root) its account's.`);
    }
    const explanation = await explainKmsAccess(store, access, {
      principalArn: q.principal,
      action: q.action,
      keyRef: q.key,
      region: verified.region,
      ...(context ? { encryptionContext: context } : {}),
    });
    sendJson(res, 200, explanation);
  }
}

function stringRecord(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw new AwsError(CommonErrors.ValidationException, 'context must be an object of strings.');
  }
  return Object.assign(Object.create(null) as Record<string, string>, v);
}

import { Iam } from '../../core/iam/iam.js';
import { SessionIssuer } from '../../core/identity/sessions.js';
import { IamRoleRecord } from '../../store/metadata/iam-types.js';
import { Operation, RequestContext, ResourceAccess } from '../operation.js';

/** What an STS operation handler gets. */
export interface StsCall {
  readonly iam: Iam;
  readonly sessions: SessionIssuer;
  readonly request: RequestContext;
}

/** sts:AssumeRole is decided by the role's trust policy as well: the access carries the role (undefined when none has that ARN). */
export interface StsAccess extends ResourceAccess {
  readonly role?: { readonly record: IamRoleRecord | undefined };
}

export type StsOperation = Operation<StsCall, any, any, StsAccess>;

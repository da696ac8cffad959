/** Who is calling: the authenticated principal behind an access key or an STS session. */
export interface Principal {
  readonly type: 'Root' | 'IAMUser' | 'AssumedRole';
  readonly accountId: string;
  /**
   * arn:aws:iam::111122223333:root, arn:aws:iam::111122223333:user/alice, or for a role session
   * arn:aws:sts::111122223333:assumed-role/Admin/alice-session
   */
  readonly arn: string;
  /** The account id (root), the user's unique id (AIDA…), or for a role session "AROA…:<session name>". */
  readonly principalId: string;
  readonly accessKeyId: string;
  /** For an IAMUser: the user's name. */
  readonly userName?: string;
  /** For an AssumedRole: the role's ARN (which policies may name instead of the session) and the session's name. */
  readonly roleArn?: string;
  readonly sessionName?: string;
  /** Set for temporary (STS) credentials: when they expire, in epoch ms of the domain clock. */
  readonly sessionExpiresAt?: number;
  /** Set for temporary (STS) credentials: when they were issued (the audit record's sessionContext). */
  readonly sessionCreatedAt?: number;
}

export const PARTITION = 'aws';

export function rootArn(accountId: string): string {
  return `arn:${PARTITION}:iam::${accountId}:root`;
}

/** Who is calling: the authenticated principal behind an access key. */
export interface Principal {
  readonly type: 'Root' | 'IAMUser';
  readonly accountId: string;
  /** arn:aws:iam::111122223333:root or arn:aws:iam::111122223333:user/alice */
  readonly arn: string;
  readonly principalId: string;
  readonly accessKeyId: string;
  readonly userName?: string;
}

export const PARTITION = 'aws';

export function rootArn(accountId: string): string {
  return `arn:${PARTITION}:iam::${accountId}:root`;
}

import { PARTITION } from '../identity/principal.js';

/** KMS ARNs: arn:aws:kms:<region>:<account>:key/<key-id> and …:alias/<name>. */
export function keyArn(region: string, accountId: string, keyId: string): string {
  return `arn:${PARTITION}:kms:${region}:${accountId}:key/${keyId}`;
}

/** `aliasName` includes the `alias/` prefix. */
export function aliasArn(region: string, accountId: string, aliasName: string): string {
  return `arn:${PARTITION}:kms:${region}:${accountId}:${aliasName}`;
}

export interface KmsArn {
  readonly region: string;
  readonly accountId: string;
  readonly resourceType: 'key' | 'alias';
  /** The key id, or the alias name with its `alias/` prefix. */
  readonly resource: string;
}

const ARN = /^arn:([a-z-]+):kms:([a-z0-9-]+):(\d{12}):(key\/[^/]+|alias\/.+)$/;

export function parseKmsArn(arn: string): KmsArn | undefined {
  const m = ARN.exec(arn);
  if (!m || m[1] !== PARTITION) return undefined;
  const resource = m[4]!;
  return resource.startsWith('key/')
    ? { region: m[2]!, accountId: m[3]!, resourceType: 'key', resource: resource.slice(4) }
    : { region: m[2]!, accountId: m[3]!, resourceType: 'alias', resource };
}

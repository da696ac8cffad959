import { AwsError } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { KmsScope } from './context.js';
import { DEFAULT_ROTATION_PERIOD_DAYS, Keys } from './keys.js';
import { Aliases } from './aliases.js';

/**
 * AWS managed keys (`alias/aws/<service>`): created in the caller's account and region the first time the
 * service needs one, owned by the account but managed by AWS (KeyManager AWS), rotated every year, never
 * deletable. Their key policy lets the account's principals use them only through the service and only
 * read their metadata directly, so nobody can disable, delete or re-policy them.
 * https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html (the S3 policy below is
 * the one AWS installs on aws/s3).
 */
export const AWS_MANAGED_DESCRIPTIONS: Readonly<Record<string, string>> = {
  s3: 'Default key that protects my S3 objects when no other key is defined',
};

export function awsManagedKeyPolicy(service: string, scope: KmsScope): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: `auto-${service}-2`,
    Statement: [
      {
        Sid: `Allow access through ${service.toUpperCase()} for all principals in the account that are authorized to use ${service.toUpperCase()}`,
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': scope.accountId, 'kms:ViaService': `${service}.${scope.region}.amazonaws.com` } },
      },
      {
        Sid: 'Allow direct access to key metadata to the account',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${scope.accountId}:root` },
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
        Resource: '*',
      },
    ],
  });
}

export class AwsManagedKeys {
  readonly #creating = new Map<string, Promise<KeyRecord>>();

  constructor(
    private readonly keys: Keys,
    private readonly aliases: Aliases,
    private readonly getKey: (keyId: string) => Promise<KeyRecord | undefined>,
  ) {}

  /**
   * The account's `alias/aws/<service>` key in the scope's region, created on first use (single flight).
   * `recordCreation` commits the creation's audit record (a CreateKey the service made for its caller): it
   * runs after the key is made and before its alias, so a key is never found by its alias without its
   * record; when it fails, so does this call (the key stays unaliased and unused, the next call makes another).
   */
  async ensure(scope: KmsScope, service: string, recordCreation: (key: KeyRecord) => Promise<void>): Promise<KeyRecord> {
    const aliasName = `alias/aws/${service}`;
    const existing = await this.aliases.get(scope, aliasName);
    if (existing) {
      const key = await this.getKey(existing.targetKeyId);
      if (key) return key;
    }
    const flight = `${scope.accountId}/${scope.region}/${service}`;
    let p = this.#creating.get(flight);
    if (!p) {
      p = this.#create(scope, service, aliasName, recordCreation).finally(() => this.#creating.delete(flight));
      this.#creating.set(flight, p);
    }
    return p;
  }

  async #create(scope: KmsScope, service: string, aliasName: string, recordCreation: (key: KeyRecord) => Promise<void>): Promise<KeyRecord> {
    const description = AWS_MANAGED_DESCRIPTIONS[service];
    if (description === undefined) throw new AwsError(KmsErrors.NotFoundException, `Alias ${aliasName} is not found.`);
    const key = await this.keys.create(scope, { description, policy: awsManagedKeyPolicy(service, scope), keyManager: 'AWS' });
    await this.keys.enableRotation(key, DEFAULT_ROTATION_PERIOD_DAYS);
    const created = (await this.getKey(key.keyId)) ?? key;
    await recordCreation(created);
    await this.aliases.createReserved(scope, aliasName, key);
    return created;
  }
}

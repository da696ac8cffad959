import { AwsError } from '../errors/aws-error.js';
import { KmsErrors } from '../errors/kms.js';
import { KeyRecord } from '../../store/metadata/types.js';
import { KmsScope } from './context.js';
import { DEFAULT_ROTATION_PERIOD_DAYS, Keys } from './keys.js';
import { Aliases } from './aliases.js';
import { TransitionClaims } from './lifecycle.js';
import { acquireOrTakeOver } from '../leases/claim.js';

/**
 * AWS managed keys (`alias/aws/<service>`): created in the caller's account and region the first time the
 * service needs one, owned by the account but managed by AWS (KeyManager AWS), rotated every year, never
 * deletable. Their key policy lets the account's principals use them only through the service and only
 * read their metadata directly, so nobody can disable, delete or re-policy them.
 * https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html (the S3 policy below is
 * the one AWS installs on aws/s3).
 */
interface AwsManagedService {
  readonly description: string;
  /** The service endpoint prefix its calls carry in kms:ViaService (EBS calls KMS as EC2). */
  readonly viaService: string;
  /** What the key may do through the service, and what the account may do directly besides reading metadata. */
  readonly actions: readonly string[];
  readonly directActions: readonly string[];
}

/**
 * The AWS managed keys of the services Strongroom serves (or is about to: EBS volumes), with the description
 * and key policy AWS installs on each. S3 encrypts objects with data keys only; EBS also makes grants for the
 * instances a volume attaches to (kms:CreateGrant through EC2, kms:RevokeGrant by the account).
 */
const AWS_MANAGED_SERVICES: Readonly<Record<string, AwsManagedService>> = {
  s3: {
    description: 'Default key that protects my S3 objects when no other key is defined',
    viaService: 's3',
    actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
    directActions: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
  },
  ebs: {
    description: 'Default key that protects my EBS volumes when no other key is defined',
    viaService: 'ec2',
    actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey', 'kms:CreateGrant'],
    directActions: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'],
  },
};

export const AWS_MANAGED_DESCRIPTIONS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(AWS_MANAGED_SERVICES).map(([service, s]) => [service, s.description]),
);

export function awsManagedKeyPolicy(service: string, scope: KmsScope): string {
  const s = AWS_MANAGED_SERVICES[service];
  if (!s) throw new Error(`no AWS managed key for ${service}`);
  const name = service.toUpperCase();
  return JSON.stringify({
    Version: '2012-10-17',
    Id: `auto-${service}-2`,
    Statement: [
      {
        Sid: `Allow access through ${name} for all principals in the account that are authorized to use ${name}`,
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: s.actions,
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': scope.accountId, 'kms:ViaService': `${s.viaService}.${scope.region}.amazonaws.com` } },
      },
      {
        Sid: 'Allow direct access to key metadata to the account',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${scope.accountId}:root` },
        Action: s.directActions,
        Resource: '*',
      },
    ],
  });
}

/** How often a server waiting for another's creation of an AWS managed key looks for it. */
const CLAIM_POLL_MS = 25;
/** How long past a claim's TTL a waiting server keeps waiting (the claim of a dead server frees after its TTL). */
const CLAIM_WAIT_MARGIN_MS = 5_000;

export class AwsManagedKeys {
  readonly #creating = new Map<string, Promise<KeyRecord>>();

  constructor(
    private readonly keys: Keys,
    private readonly aliases: Aliases,
    private readonly getKey: (keyId: string) => Promise<KeyRecord | undefined>,
    /**
     * Claims (leases) shared by every process and node on the database: the creation is claimed first, so that
     * of several servers seeing no key at once one makes it and the others wait for its alias (without them,
     * each would make a key and all but one would end up unaliased). Absent: this process only.
     */
    private readonly claims?: TransitionClaims,
  ) {}

  /**
   * The account's `alias/aws/<service>` key in the scope's region, created on first use (single flight).
   * `recordCreation` commits the creation's audit record (a CreateKey the service made for its caller): it
   * runs after the key is made and before its alias, so a key is never found by its alias without its
   * record; when it fails, so does this call (the key stays unaliased and unused, the next call makes another).
   */
  async ensure(scope: KmsScope, service: string, recordCreation: (key: KeyRecord) => Promise<void>): Promise<KeyRecord> {
    const aliasName = `alias/aws/${service}`;
    const existing = await this.#find(scope, aliasName);
    if (existing) return existing;
    const flight = `${scope.accountId}/${scope.region}/${service}`;
    let p = this.#creating.get(flight);
    if (!p) {
      p = this.#claimed(flight, scope, aliasName, () => this.#create(scope, service, aliasName, recordCreation)).finally(() => this.#creating.delete(flight));
      this.#creating.set(flight, p);
    }
    return p;
  }

  async #find(scope: KmsScope, aliasName: string): Promise<KeyRecord | undefined> {
    const alias = await this.aliases.get(scope, aliasName);
    return alias ? this.getKey(alias.targetKeyId) : undefined;
  }

  /** Runs `create` under the flight's claim, unless the key appears (another server made it) while waiting. */
  async #claimed(flight: string, scope: KmsScope, aliasName: string, create: () => Promise<KeyRecord>): Promise<KeyRecord> {
    const claims = this.claims;
    if (!claims) return create();
    const name = `aws-managed-key:${flight}`;
    const deadline = Date.now() + claims.ttlMs + CLAIM_WAIT_MARGIN_MS;
    for (;;) {
      const lease = await acquireOrTakeOver(claims.leases, name, claims.holder, claims.ttlMs, claims.identity);
      if (lease) {
        try {
          // Another server may have made it between our look and our claim.
          return (await this.#find(scope, aliasName)) ?? (await create());
        } finally {
          await claims.leases.release(name, claims.holder, lease.token).catch(() => undefined);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
      const made = await this.#find(scope, aliasName);
      if (made) return made;
      // A claim left by a server that died frees after its TTL (at once when it died on this host); past that, something is wrong.
      if (Date.now() > deadline) throw new Error(`the AWS managed key ${aliasName} is being created by another server that does not finish`);
    }
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

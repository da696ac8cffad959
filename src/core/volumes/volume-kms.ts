import { SecretBytes } from '../crypto/secret-bytes.js';

/**
 * KMS as EBS calls it (https://docs.aws.amazon.com/kms/latest/developerguide/services-ebs.html):
 * - as the caller of the EC2 request, through EC2 (kms:ViaService = ec2.<region>.amazonaws.com, encryption
 *   context {"aws:ebs:id": "vol-…" | "snap-…"}): GenerateDataKeyWithoutPlaintext and CreateGrant when a volume
 *   is made, Decrypt / ReEncrypt when a snapshot is copied or a volume made from one — so a caller without
 *   those permissions on the CMK is refused as on AWS;
 * - as EBS itself, with the grant made at creation (attach, I/O, snapshots): no caller is there then.
 */
export interface VolumeKmsAsCaller {
  /** The Region the calls are made in. */
  readonly region: string;
  /** The account's alias/aws/ebs key, created on first use. */
  awsManagedKeyArn(): Promise<string>;
  generateDataKeyWithoutPlaintext(keyId: string, context: Readonly<Record<string, string>>): Promise<{ ciphertextBlob: Buffer; keyArn: string }>;
  createGrant(keyArn: string, grant: { granteePrincipal: string; retiringPrincipal: string; operations: readonly string[] }): Promise<string>;
  decrypt(ciphertextBlob: Buffer, context: Readonly<Record<string, string>>): Promise<{ plaintext: SecretBytes; keyArn: string }>;
  reEncrypt(ciphertextBlob: Buffer, sourceContext: Readonly<Record<string, string>>, destinationKeyId: string, destinationContext: Readonly<Record<string, string>>): Promise<{ ciphertextBlob: Buffer; keyArn: string }>;
}

/** A volume's use of its CMK through the grant EBS got at creation. */
export interface GrantUse {
  readonly accountId: string;
  readonly region: string;
  readonly keyArn: string;
  readonly grantId: string;
  /** The volume or snapshot id, for the audit record. */
  readonly resourceId: string;
}

export interface VolumeKmsAsService {
  /** Decrypt of a data key under the grant (recorded as EBS's call). Throws an AwsError when the key or grant is unusable. */
  decrypt(use: GrantUse, ciphertextBlob: Buffer, context: Readonly<Record<string, string>>): Promise<SecretBytes>;
  /** ReEncrypt of a data key to another encryption context under the same key (a snapshot's own wrapped key). */
  reEncrypt(use: GrantUse, ciphertextBlob: Buffer, sourceContext: Readonly<Record<string, string>>, destinationContext: Readonly<Record<string, string>>): Promise<Buffer>;
  /** Why the key cannot be used now (disabled, pending deletion, gone, grant revoked), or undefined. Not recorded: no KMS call. */
  unusable(use: GrantUse): Promise<string | undefined>;
  /** Retires the grant (DeleteVolume), recorded as EBS's RetireGrant. */
  retire(use: GrantUse): Promise<void>;
  /** Whether the key is an AWS managed key (aws/ebs): its snapshots cannot be shared. Not recorded: no KMS call. */
  awsManaged(keyArn: string): Promise<boolean>;
}

/** The principal EBS's grants name. */
export const EBS_GRANTEE = 'ec2.amazonaws.com';
export const EBS_GRANT_OPERATIONS = ['Decrypt', 'ReEncryptFrom', 'ReEncryptTo', 'DescribeKey', 'RetireGrant'] as const;

export const ebsContext = (id: string): Record<string, string> => ({ 'aws:ebs:id': id });

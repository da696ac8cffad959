import { SecretBytes } from '../../core/crypto/secret-bytes.js';
import { AwsError } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { Kms } from '../../core/kms/kms.js';
import { KmsForS3 } from '../../core/s3/sse.js';
import { KmsInternalClient } from '../kms/internal-client.js';
import { RequestContext } from '../operation.js';

/**
 * KMS as S3 calls it for one request, in the Region of the bucket concerned (`region`: an object's keys are
 * in its bucket's Region, so the aws/s3 key and key ids or aliases without a Region are that Region's, and
 * a copy source in another Region is decrypted there): GenerateDataKey / Decrypt through KMS's own dispatch
 * (validation, key policy + IAM + grants, audit record with invokedBy s3.amazonaws.com, awsRegion = that
 * Region), as the requester, with kms:ViaService = s3.<region>.amazonaws.com — so a user with every S3
 * right but no kms:GenerateDataKey or kms:Decrypt on the key is refused (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#require-sse-kms).
 * A KMS failure reaches the S3 client as S3 reports it: AccessDenied (403) for a refusal, otherwise
 * KMS's code prefixed `KMS.` with KMS's status (KMS.NotFoundException, KMS.DisabledException, …).
 */
export function kmsForS3(kms: Kms, client: KmsInternalClient, request: RequestContext, region: string): KmsForS3 {
  const via = `s3.${region}.amazonaws.com`;
  const inRegion: RequestContext = { ...request, region };
  const call = async (op: string, input: Record<string, unknown>) => {
    try {
      return await client.call(op, input, inRegion, via);
    } catch (err) {
      throw s3ErrorOf(err);
    }
  };
  return {
    callerArn: request.principal.arn,
    async generateDataKey(keyId, context) {
      const target = keyId ?? (await kms.awsManaged.ensure({ accountId: request.principal.accountId, region }, 's3')).arn;
      const out = await call('GenerateDataKey', { KeyId: target, KeySpec: 'AES_256', EncryptionContext: context });
      return {
        plaintext: SecretBytes.adopt(Buffer.from(String(out.Plaintext), 'base64')),
        ciphertextBlob: Buffer.from(String(out.CiphertextBlob), 'base64'),
        keyArn: String(out.KeyId),
      };
    },
    async decrypt(ciphertextBlob, context) {
      const out = await call('Decrypt', { CiphertextBlob: ciphertextBlob.toString('base64'), EncryptionContext: context });
      return { plaintext: SecretBytes.adopt(Buffer.from(String(out.Plaintext), 'base64')), keyArn: String(out.KeyId) };
    },
  };
}

/** A KMS error as S3 reports it to its caller (AccessDenied, KMS.<code>, InternalError). */
export function s3ErrorOf(err: unknown): unknown {
  if (!(err instanceof AwsError)) return err;
  if (err.code === 'AccessDeniedException') return new AwsError(S3Errors.AccessDenied, err.message);
  if (err.fault === 'server') return new AwsError(S3Errors.InternalError, 'We encountered an internal error. Please try again.');
  return new AwsError({ code: `KMS.${err.code}`, status: err.status, fault: err.fault }, err.message);
}

import { AwsError } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { KmsForS3 } from '../../core/s3/sse.js';
import { KmsCaller, KmsClient } from '../kms/kms-client.js';
import { RequestContext } from '../operation.js';

/**
 * KMS as S3 calls it for one request, in the Region of the bucket concerned (`region`: an object's keys are
 * in its bucket's Region, so the aws/s3 key and key ids or aliases without a Region are that Region's, and
 * a copy source in another Region is decrypted there): GenerateDataKey / Decrypt through KMS's typed client
 * (services/kms/kms-client.ts: the one dispatch path — validation, key policy + IAM + grants, audit record
 * with invokedBy s3.amazonaws.com, awsRegion = that Region), as the requester, with kms:ViaService =
 * s3.<region>.amazonaws.com — so a user with every S3 right but no kms:GenerateDataKey or kms:Decrypt on the
 * key is refused (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#require-sse-kms).
 * Data keys arrive as the SecretBytes KMS made (no base64 copy); ObjectKeys wipes them once it has sealed.
 * The KMS records are committed without their own sync: S3's dispatch commits the request's record after
 * them and answers only once that one is durable, which makes them durable too (one fsync per request).
 * A KMS failure reaches the S3 client as S3 reports it: AccessDenied (403) for a refusal, otherwise
 * KMS's code prefixed `KMS.` with KMS's status (KMS.NotFoundException, KMS.DisabledException, …).
 */
export function kmsForS3(client: KmsClient, request: RequestContext, region: string): KmsForS3 {
  const caller: KmsCaller = { request: { ...request, region }, viaService: `s3.${region}.amazonaws.com`, durableWithCaller: true };
  const s3Errors = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw s3ErrorOf(err);
    }
  };
  return {
    callerArn: request.principal.arn,
    generateDataKey: (keyId, context) =>
      s3Errors(async () => client.generateDataKey(caller, { keyId: keyId ?? (await client.awsManagedKeyArn(caller, 's3')), encryptionContext: context })),
    decrypt: (ciphertextBlob, context) => s3Errors(() => client.decrypt(caller, { ciphertextBlob, encryptionContext: context })),
  };
}

/** A KMS error as S3 reports it to its caller (AccessDenied, KMS.<code>, InternalError). */
export function s3ErrorOf(err: unknown): unknown {
  if (!(err instanceof AwsError)) return err;
  if (err.code === 'AccessDeniedException') return new AwsError(S3Errors.AccessDenied, err.message);
  if (err.fault === 'server') return new AwsError(S3Errors.InternalError, 'We encountered an internal error. Please try again.');
  return new AwsError({ code: `KMS.${err.code}`, status: err.status, fault: err.fault }, err.message);
}

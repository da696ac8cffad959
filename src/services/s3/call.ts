import { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { Clock } from '../../core/clock.js';
import { ContextValue } from '../../core/policy/index.js';
import { KmsForS3, ObjectKeys } from '../../core/s3/sse.js';
import { BucketRecord, S3Store } from '../../store/metadata/s3-types.js';
import { BlobStore } from '../../store/blob/blob-store.js';
import { Operation, RequestContext, ResourceAccess } from '../operation.js';

/** The body of an S3 request, as the protocol decoded it (aws-chunked unwrapped, signatures checked). */
export interface RequestBody {
  /** The bytes as a stream (consumed once); errors (bad chunk signature, digest) surface on it. */
  stream(): Readable;
  /** The whole body, refusing more than `limit` bytes (XML documents, POST forms). */
  bytes(limit: number): Promise<Buffer>;
  /** The plaintext length the client declared (Content-Length or x-amz-decoded-content-length). */
  readonly length: number | undefined;
  /** Whether the client started to send one (a PUT with no body has length 0). */
  readonly consumed: boolean;
  /**
   * aws-chunked bodies with a trailing checksum (x-amz-trailer): the base64 value the decoder computed over
   * the body and checked against the one sent, once the body ended. Otherwise undefined.
   */
  trailingChecksum?(): string | undefined;
}

/** An S3 request as operations see it: addressing resolved, headers lower-case, the query decoded. */
export interface S3Input {
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: RequestBody;
  /** The Host header as sent. */
  readonly host: string;
  /** POST Object: the form's fields (lower-case names) and the uploaded file's name. */
  readonly form?: ReadonlyMap<string, string>;
  readonly filename?: string;
}

/** What an S3 operation answers: status, headers and an XML document or a body stream. */
export interface S3Reply {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly xml?: string;
  readonly body?: Readable;
  /** Content-Length of `body`. */
  readonly length?: number;
}

/** The S3 domain as operations use it. */
export interface S3Deps {
  readonly store: S3Store;
  readonly blobs: BlobStore;
  readonly keys: ObjectKeys;
  readonly clock: Clock;
  readonly options: S3Options;
}

export interface S3Options {
  /** New buckets block SSE-C uploads (AWS's default since April 2026); off by default, as the seeds describe SSE-C. */
  readonly blockSseCForNewBuckets: boolean;
  /** GetBucketEncryption on an unconfigured bucket: the pre-2023 ServerSideEncryptionConfigurationNotFoundError instead of the AES256 default. */
  readonly legacyEncryptionNotFound: boolean;
}

/** What an S3 operation handler gets. */
export interface S3Call {
  readonly deps: S3Deps;
  readonly request: RequestContext;
  /**
   * KMS as S3 calls it for this requester, in `bucket`'s Region (kms:ViaService = s3.<that Region>…): an
   * object's keys live in its bucket's Region — the aws/s3 key, a key id or alias given without a Region,
   * Decrypt of a copy source in another Region — whatever Region the request was signed for.
   */
  kmsFor(bucket: BucketRecord): KmsForS3;
  /**
   * Decides one more access inside a handler, exactly as the dispatcher decides those `resolve` returned
   * (bucket policy + IAM, same condition keys); throws AccessDenied. For operations whose accesses are
   * per item and whose denial is per item too (DeleteObjects: an unauthorized key is an <Error> entry).
   */
  authorize(access: S3Access): Promise<void>;
}

/** An S3 authorization question: an action on a bucket or object ARN, with the bucket (its policy decides too). */
export interface S3Access extends ResourceAccess {
  readonly bucket?: BucketRecord;
  /** s3:* condition keys of this request (s3:x-amz-server-side-encryption, s3:prefix, …). */
  readonly conditions?: Readonly<Record<string, ContextValue>>;
}

export type S3Operation<S = any> = Operation<S3Call, S3Input, S, S3Access>;

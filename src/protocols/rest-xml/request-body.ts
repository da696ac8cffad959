import { createHash } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { PassThrough, Readable, Transform, TransformCallback } from 'node:stream';
import { AwsError } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { RequestBody } from '../../services/s3/call.js';
import { AwsChunkedDecoder, ChunkSigning, isAwsChunkedMode } from './aws-chunked.js';
import { UNSIGNED_PAYLOAD } from '../../core/identity/sigv4/verify.js';

/**
 * The body of an S3 request as operations read it. What the client signed decides how it is checked:
 * - a hex SHA-256 in x-amz-content-sha256: the bytes are hashed as they stream and a mismatch fails the
 *   stream (XAmzContentSHA256Mismatch) before it ends, so no object is committed from them;
 * - STREAMING-*: the aws-chunked framing is removed, each chunk's signature (and the trailer's) checked;
 * - UNSIGNED-PAYLOAD: taken as it comes (TLS or the checksums protect it).
 */
export function requestBody(req: IncomingMessage, payloadHash: string, signing: ChunkSigning | undefined): RequestBody {
  const h = req.headers;
  const chunked = isAwsChunkedMode(payloadHash);
  const declared = chunked ? h['x-amz-decoded-content-length'] : h['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) throw new AwsError(S3Errors.InvalidArgument, 'Content-Length is not a valid length.');
  let used = false;
  const take = (): Readable => {
    if (used) throw new Error('request body already consumed');
    used = true;
    if (chunked) {
      const trailer = h['x-amz-trailer'];
      const decoder = new AwsChunkedDecoder({
        mode: payloadHash,
        ...(signing ? { signing } : {}),
        ...(length !== undefined ? { decodedContentLength: length } : {}),
        ...(typeof trailer === 'string' ? { declaredTrailers: trailer.split(',').map((t) => t.trim().toLowerCase()) } : {}),
      });
      body.trailers = decoder.trailers;
      return req.pipe(decoder).once('error', () => req.unpipe(decoder)) as Readable;
    }
    if (payloadHash !== UNSIGNED_PAYLOAD && /^[0-9a-f]{64}$/.test(payloadHash)) {
      const check = new Sha256Check(payloadHash);
      req.once('error', (err) => check.destroy(err));
      return req.pipe(check);
    }
    const pass = new PassThrough();
    req.once('error', (err) => pass.destroy(err));
    return req.pipe(pass);
  };
  const body: RequestBody & { trailers?: ReadonlyMap<string, string> } = {
    length,
    get consumed() {
      return used;
    },
    stream: take,
    async bytes(limit: number): Promise<Buffer> {
      if (length !== undefined && length > limit) throw new AwsError(S3Errors.MaxMessageLengthExceeded, 'Your request was too big.');
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of take()) {
        size += (chunk as Buffer).length;
        if (size > limit) throw new AwsError(S3Errors.MaxMessageLengthExceeded, 'Your request was too big.');
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks, size);
    },
  };
  return body;
}

/** Passes bytes through and fails at the end unless their SHA-256 is the one the client signed. */
class Sha256Check extends Transform {
  readonly #hash = createHash('sha256');
  constructor(private readonly expected: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk);
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    if (this.#hash.digest('hex') !== this.expected) {
      done(new AwsError(S3Errors.XAmzContentSHA256Mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed."));
      return;
    }
    done();
  }
}

import { createHash } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { PassThrough, Readable, Transform, TransformCallback } from 'node:stream';
import { AwsError } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { RequestBody } from '../../services/s3/call.js';
import { AwsChunkedDecoder, ChunkSigning, isAwsChunkedMode } from './aws-chunked.js';
import { UNSIGNED_PAYLOAD } from '../../core/identity/sigv4/verify.js';
import { MAX_PUT_BYTES } from '../../core/s3/bodies.js';

/**
 * The body of an S3 request as operations read it. What the client signed decides how it is checked:
 * - a hex SHA-256 in x-amz-content-sha256: the bytes are hashed as they stream and a mismatch fails the
 *   stream (XAmzContentSHA256Mismatch) before it ends, so no object is committed from them;
 * - STREAMING-*: the aws-chunked framing is removed, each chunk's signature (and the trailer's) checked;
 * - UNSIGNED-PAYLOAD: taken as it comes (TLS or the checksums protect it).
 */
export function requestBody(req: IncomingMessage, payloadHash: string, signing: ChunkSigning | undefined, idleMs: number): RequestBody {
  const h = req.headers;
  const chunked = isAwsChunkedMode(payloadHash);
  const declared = chunked ? h['x-amz-decoded-content-length'] : h['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) throw new AwsError(S3Errors.InvalidArgument, 'Content-Length is not a valid length.');
  // No S3 request body may exceed an object's (or a part's) 5 GiB: refused before a byte of it is read.
  if (length !== undefined && length > MAX_PUT_BYTES) {
    throw Object.assign(new AwsError(S3Errors.EntityTooLarge, 'Your proposed upload exceeds the maximum allowed size'), {
      details: { ProposedSize: String(length), MaxSizeAllowed: String(MAX_PUT_BYTES) },
    });
  }
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
      chunkDecoder = decoder;
      return piped(req, decoder, idleMs);
    }
    if (payloadHash !== UNSIGNED_PAYLOAD && /^[0-9a-f]{64}$/.test(payloadHash)) {
      return piped(req, new Sha256Check(payloadHash), idleMs);
    }
    return piped(req, new PassThrough({ highWaterMark: BODY_BUFFER_BYTES }), idleMs);
  };
  let chunkDecoder: AwsChunkedDecoder | undefined;
  const body: RequestBody = {
    length,
    trailingChecksum: () => chunkDecoder?.checksum,
    get consumed() {
      return used;
    },
    stream: take,
    async bytes(limit: number): Promise<Buffer> {
      if (length !== undefined && length > limit) throw tooBig();
      return readAll(take(), limit);
    },
  };
  return body;
}

/**
 * `req` piped into `stage`: a failure of the request (client gone) fails the stage; the stage's own
 * failure reaches whoever consumes it (their pipeline), and is not re-thrown by pipe() once that consumer
 * has stopped listening. The request is not destroyed: its error answer still has to go out.
 * A client that sends nothing for `idleMs` while we are reading fails the stage with S3's RequestTimeout
 * (time spent with the request paused because we are the slow side does not count).
 */
function piped(req: IncomingMessage, stage: Transform, idleMs: number): Readable {
  const idle = setTimeout(function check() {
    if (req.readableEnded || stage.destroyed) return;
    if (req.isPaused()) {
      idle.refresh();
      return;
    }
    stage.destroy(requestTimeout());
  }, idleMs);
  req.on('data', () => idle.refresh());
  req.once('end', () => clearTimeout(idle));
  req.once('close', () => clearTimeout(idle));
  stage.once('close', () => clearTimeout(idle));
  req.once('error', (err) => stage.destroy(err));
  stage.on('error', () => req.unpipe(stage));
  return req.pipe(stage);
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (RequestTimeout, 400). */
export const requestTimeout = () =>
  new AwsError(S3Errors.RequestTimeout, 'Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.');

/** A body that is already a stream (the file of a POST Object form): length unknown. */
export function streamBody(source: Readable): RequestBody {
  let used = false;
  const take = (): Readable => {
    if (used) throw new Error('request body already consumed');
    used = true;
    return source;
  };
  return {
    length: undefined,
    get consumed() {
      return used;
    },
    stream: take,
    bytes: (limit: number) => readAll(take(), limit),
  };
}

/** The whole stream, refusing more than `limit` bytes (S3's MaxMessageLengthExceeded). */
async function readAll(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooBig();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

const tooBig = () => new AwsError(S3Errors.MaxMessageLengthExceeded, 'Your request was too big.');

/** How much of an upload may be read from the socket ahead of sealing and writing it. */
const BODY_BUFFER_BYTES = 1024 * 1024;

/** Passes bytes through and fails at the end unless their SHA-256 is the one the client signed. */
class Sha256Check extends Transform {
  readonly #hash = createHash('sha256');
  constructor(private readonly expected: string) {
    super({ highWaterMark: BODY_BUFFER_BYTES });
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

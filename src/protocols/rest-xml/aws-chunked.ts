/**
 * The decoder of S3 `Content-Encoding: aws-chunked` request bodies, as a streaming Transform: framed bytes
 * in, object bytes out, memory flat (at most one signed chunk is held, never the body).
 *
 *  - STREAMING-AWS4-HMAC-SHA256-PAYLOAD: `hex-size;chunk-signature=<64 hex>\r\n<data>\r\n` … `0;chunk-signature=…\r\n\r\n`.
 *    Each chunk's signature chains from the previous one, starting at the seed signature of the
 *    Authorization header, so chunks can be neither altered, dropped, reordered nor truncated.
 *    https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 *  - STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the same chunks, then trailing headers after the 0-size
 *    chunk, the last being `x-amz-trailer-signature:<hex>` that chains from the 0-size chunk's signature.
 *  - STREAMING-UNSIGNED-PAYLOAD-TRAILER: `hex-size\r\n<data>\r\n` … `0\r\n`, trailing headers, `\r\n`.
 *    https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 *
 * A signed chunk's bytes are pushed downstream only once its signature has been verified. Unsigned chunks
 * stream straight through (nothing to verify before the end). A declared trailing checksum
 * (x-amz-trailer: x-amz-checksum-<alg>) is computed over the decoded bytes and compared when the body ends;
 * as with any streamed checksum, the consumer must commit only when the stream finishes without error.
 *
 * Errors (ChunkedBodyError / ChecksumError, both AwsError) carry what S3 answers in each case, as recorded
 * against AWS by versitygw (issues 1161, 1600, 1626, 1665, 1666, 1676, 1683, 1684, 1690, 1691) and
 * Scality's Arsenal (MalformedTrailerError):
 *  - a chunk or trailer signature that does not verify → 403 SignatureDoesNotMatch;
 *  - broken framing (bad size line, missing CRLF, body ending early) → 400 IncompleteBody "The request body
 *    terminated unexpectedly";
 *  - decoded bytes ≠ x-amz-decoded-content-length → 400 IncompleteBody "You did not provide the number of
 *    bytes specified by the Content-Length HTTP header" (+ NumberBytesExpected / NumberBytesProvided);
 *  - a non-final chunk under 8 KiB → 400 InvalidChunkSizeError (+ Chunk / BadChunkSize);
 *  - trailers malformed, undeclared, missing or unsigned → 400 MalformedTrailerError;
 *  - trailing checksum value malformed → 400 InvalidRequest; not matching the bytes → 400 BadDigest.
 */
import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AwsError, defineErrors, type ErrorSpec } from '../../core/errors/aws-error.js';
import {
  badDigest, checksumHeaderName, createChecksum, parseTrailerDeclaration, parseTrailingChecksumValue,
  type Checksum, type ChecksumAlgorithm,
} from '../../core/s3/checksums.js';

export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
export type AwsChunkedMode = typeof STREAMING_SIGNED | typeof STREAMING_SIGNED_TRAILER | typeof STREAMING_UNSIGNED_TRAILER;

export function isAwsChunkedMode(contentSha256: string | undefined): contentSha256 is AwsChunkedMode {
  return contentSha256 === STREAMING_SIGNED || contentSha256 === STREAMING_SIGNED_TRAILER
    || contentSha256 === STREAMING_UNSIGNED_TRAILER;
}

export const ChunkedBodyErrors = defineErrors({
  SignatureDoesNotMatch: { status: 403, fault: 'client' },
  IncompleteBody: { status: 400, fault: 'client' },
  InvalidChunkSizeError: { status: 400, fault: 'client' },
  MalformedTrailerError: { status: 400, fault: 'client' },
  InvalidRequest: { status: 400, fault: 'client' },
});

/** `details` are the extra elements S3 adds to the <Error> document (Chunk, BadChunkSize, …), in order. */
export class ChunkedBodyError extends AwsError {
  readonly details: Readonly<Record<string, string>>;
  constructor(spec: ErrorSpec, message: string, details: Record<string, string> = {}) {
    super(spec, message);
    this.details = Object.freeze({ ...details });
  }
}

/** S3's wording (the KMS/JSON services word theirs differently). */
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.';
const TERMINATED = 'The request body terminated unexpectedly';
const MALFORMED_TRAILER =
  'The request contained trailing data that was not well-formed or did not conform to our published schema.';

const signatureMismatch = (): ChunkedBodyError =>
  new ChunkedBodyError(ChunkedBodyErrors.SignatureDoesNotMatch, SIGNATURE_MISMATCH);
const terminated = (): ChunkedBodyError => new ChunkedBodyError(ChunkedBodyErrors.IncompleteBody, TERMINATED);
const malformedTrailer = (): ChunkedBodyError =>
  new ChunkedBodyError(ChunkedBodyErrors.MalformedTrailerError, MALFORMED_TRAILER);

export interface ChunkSigning {
  /** The SigV4 signing key of the request's credential scope (kSigning). */
  readonly signingKey: Buffer;
  /** x-amz-date of the request, e.g. 20130524T000000Z. */
  readonly amzDate: string;
  /** Credential scope: date/region/s3/aws4_request. */
  readonly scope: string;
  /** The Authorization header's signature: the previous signature of the first chunk. */
  readonly seedSignature: string;
}

export interface AwsChunkedOptions {
  readonly mode: AwsChunkedMode;
  /** Required for the two signed modes. */
  readonly signing?: ChunkSigning;
  /** x-amz-decoded-content-length, when sent: the decoded byte count must equal it. */
  readonly decodedContentLength?: number;
  /** x-amz-trailer, split on commas: the trailing headers the body must carry (S3: one checksum). */
  readonly declaredTrailers?: readonly string[];
  /**
   * Largest signed chunk accepted (it is buffered until its signature is checked). Default 16 MiB; the SDKs
   * send 64 KiB (and at most 1 MiB). Unsigned chunks are streamed, so only decodedContentLength bounds them.
   */
  readonly maxChunkSize?: number;
  /** S3 rejects non-final chunks smaller than this (InvalidChunkSizeError). Default 8192; 0 disables. */
  readonly minChunkSize?: number;
}

const DEFAULT_MAX_CHUNK = 16 * 1024 * 1024;
const DEFAULT_MIN_CHUNK = 8192;
/** A chunk header is `<≤16 hex>;chunk-signature=<64 hex>` (~97 bytes); anything longer is not one. */
const MAX_HEADER_LINE = 256;
/** Trailing headers: one checksum line plus the signature line fit in ~200 bytes. */
const MAX_TRAILER_SECTION = 4096;
const SIGNATURE_PREFIX = 'chunk-signature=';
const EMPTY_SHA256 = createHash('sha256').digest('hex');
const HEX_SIZE = /^[0-9a-fA-F]{1,13}$/; // 13 hex digits stay under 2^53
const HEX_SIGNATURE = /^[0-9a-fA-F]{64}$/;
const TRAILER_NAME = /^[a-z0-9-]+$/;

type State = 'header' | 'data' | 'data-crlf' | 'tail' | 'done';

export class AwsChunkedDecoder extends Transform {
  /** Trailing headers (lower-case names, values trimmed), available once the stream has ended. */
  readonly trailers = new Map<string, string>();
  /** Decoded bytes so far (the object size once the stream has ended). */
  decodedLength = 0;
  /** The algorithm of the declared trailing checksum, if any. */
  readonly trailerChecksumAlgorithm: ChecksumAlgorithm | undefined;
  /** base64 of the trailing checksum as computed over the decoded bytes (verified equal to the sent one). */
  checksum: string | undefined;

  private readonly mode: AwsChunkedMode;
  private readonly signing: ChunkSigning | undefined;
  private readonly expectedLength: number | undefined;
  private readonly declared: readonly string[];
  private readonly maxChunk: number;
  private readonly minChunk: number;
  private readonly trailerHasher: Checksum | undefined;

  private state: State = 'header';
  /** Bytes of the line being read (header line, or the whole trailer section). */
  private line: Buffer[] = [];
  private lineLength = 0;
  /** Data bytes of the current chunk still to read. */
  private remaining = 0;
  private chunkSize = 0;
  private chunkIndex = 0;
  private previousChunkSize = -1;
  private crlfSeen = 0;
  private lastChunk = false;
  /** Signed modes: the claimed signature of the current chunk, its hash so far, and its held bytes. */
  private claimed: Buffer | undefined;
  private chunkHash: Hash | undefined;
  private held: Buffer[] = [];
  private previousSignature: string;

  constructor(options: AwsChunkedOptions) {
    super();
    this.mode = options.mode;
    this.signing = options.signing;
    if (options.mode !== STREAMING_UNSIGNED_TRAILER && !options.signing) {
      throw new TypeError(`AwsChunkedDecoder: ${options.mode} needs the signing context`);
    }
    this.previousSignature = options.signing?.seedSignature.toLowerCase() ?? '';
    this.expectedLength = options.decodedContentLength;
    this.maxChunk = options.maxChunkSize ?? DEFAULT_MAX_CHUNK;
    this.minChunk = options.minChunkSize ?? DEFAULT_MIN_CHUNK;
    this.declared = (options.declaredTrailers ?? []).map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
    if (this.declared.length > 0) {
      if (options.mode === STREAMING_SIGNED) throw malformedTrailer();
      // S3 takes one trailer, a checksum it supports; anything else is refused up front (InvalidRequest).
      this.trailerChecksumAlgorithm = parseTrailerDeclaration(this.declared.join(','));
      this.trailerHasher = createChecksum(this.trailerChecksumAlgorithm);
    }
  }

  private get signed(): boolean {
    return this.mode !== STREAMING_UNSIGNED_TRAILER;
  }

  override _transform(input: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(input);
      callback();
    } catch (err) {
      this.state = 'done';
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.finish();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private consume(input: Buffer): void {
    let pos = 0;
    while (pos < input.length) {
      switch (this.state) {
        case 'header': {
          const nl = input.indexOf(0x0a, pos);
          const end = nl === -1 ? input.length : nl + 1;
          this.appendLine(input.subarray(pos, end), MAX_HEADER_LINE);
          pos = end;
          if (nl !== -1) this.onHeaderLine();
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, input.length - pos);
          this.onData(input.subarray(pos, pos + take));
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'data-crlf';
          break;
        }
        case 'data-crlf': {
          const expected = this.crlfSeen === 0 ? 0x0d : 0x0a;
          if (input[pos] !== expected) throw terminated();
          pos++;
          if (++this.crlfSeen === 2) {
            this.crlfSeen = 0;
            this.endOfChunk();
          }
          break;
        }
        case 'tail': {
          this.appendLine(input.subarray(pos), MAX_TRAILER_SECTION);
          pos = input.length;
          break;
        }
        case 'done':
          // Bytes after the end of the encoding: not something a conforming client sends.
          throw this.mode === STREAMING_SIGNED ? terminated() : malformedTrailer();
      }
    }
  }

  private appendLine(part: Buffer, limit: number): void {
    this.lineLength += part.length;
    if (this.lineLength > limit) {
      throw this.state === 'tail' ? malformedTrailer() : terminated();
    }
    this.line.push(part);
  }

  private takeLine(): string {
    const text = Buffer.concat(this.line, this.lineLength).toString('latin1');
    this.line = [];
    this.lineLength = 0;
    return text;
  }

  /** A complete `size[;chunk-signature=sig]\r\n` line. */
  private onHeaderLine(): void {
    const text = this.takeLine();
    if (!text.endsWith('\r\n')) throw terminated();
    const body = text.slice(0, -2);
    const semi = body.indexOf(';');
    const sizeText = semi === -1 ? body : body.slice(0, semi);
    if (!HEX_SIZE.test(sizeText)) throw terminated();
    const size = parseInt(sizeText, 16);

    if (this.signed) {
      const ext = semi === -1 ? '' : body.slice(semi + 1);
      if (!ext.startsWith(SIGNATURE_PREFIX)) throw terminated();
      const sig = ext.slice(SIGNATURE_PREFIX.length);
      if (!HEX_SIGNATURE.test(sig)) throw terminated();
      this.claimed = Buffer.from(sig, 'hex');
      this.chunkHash = createHash('sha256');
    } else if (semi !== -1) {
      throw terminated();
    }

    this.chunkIndex++;
    // "Only the last chunk is allowed to have a size less than 8192 bytes": S3 notices when the chunk after
    // a short one arrives, and reports that chunk's number with the short chunk's size.
    if (size > 0 && this.previousChunkSize >= 0 && this.previousChunkSize < this.minChunk) {
      throw new ChunkedBodyError(ChunkedBodyErrors.InvalidChunkSizeError,
        `Only the last chunk is allowed to have a size less than ${this.minChunk} bytes`,
        { Chunk: String(this.chunkIndex), BadChunkSize: String(this.previousChunkSize) });
    }
    if (this.signed && size > this.maxChunk) {
      throw new ChunkedBodyError(ChunkedBodyErrors.InvalidChunkSizeError,
        `Chunk size ${size} exceeds the maximum chunk size of ${this.maxChunk} bytes`,
        { Chunk: String(this.chunkIndex), BadChunkSize: String(size) });
    }
    if (this.expectedLength !== undefined && this.decodedLength + size > this.expectedLength) {
      throw this.lengthMismatch(this.decodedLength + size);
    }

    this.chunkSize = size;
    this.remaining = size;
    if (size > 0) {
      this.state = 'data';
      return;
    }
    // The 0-size chunk ends the data. Signed: verify its signature now (it chains into the trailer's).
    this.lastChunk = true;
    if (this.signed) this.verifyChunk();
    if (this.mode === STREAMING_SIGNED) {
      this.state = 'data-crlf'; // `0;chunk-signature=…\r\n` is followed by one more CRLF, then nothing.
    } else {
      this.state = 'tail';
    }
  }

  private onData(part: Buffer): void {
    if (part.length === 0) return;
    this.trailerHasher?.update(part);
    if (this.signed) {
      this.chunkHash!.update(part);
      this.held.push(part);
    } else {
      this.decodedLength += part.length;
      this.push(part);
    }
  }

  private endOfChunk(): void {
    if (this.lastChunk) {
      this.state = 'done';
      return;
    }
    if (this.signed) {
      this.verifyChunk();
      for (const part of this.held) this.push(part);
      this.held = [];
    }
    if (this.signed) this.decodedLength += this.chunkSize;
    this.previousChunkSize = this.chunkSize;
    this.state = 'header';
  }

  /** String to sign of a chunk: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html */
  private verifyChunk(): void {
    const s = this.signing!;
    const digest = this.chunkHash!.digest('hex');
    const stringToSign = `AWS4-HMAC-SHA256-PAYLOAD\n${s.amzDate}\n${s.scope}\n${this.previousSignature}\n${EMPTY_SHA256}\n${digest}`;
    const expected = createHmac('sha256', s.signingKey).update(stringToSign).digest();
    if (!timingSafeEqual(expected, this.claimed!)) {
      this.held = [];
      throw signatureMismatch();
    }
    this.previousSignature = expected.toString('hex');
    this.claimed = undefined;
    this.chunkHash = undefined;
  }

  private lengthMismatch(provided: number): ChunkedBodyError {
    return new ChunkedBodyError(ChunkedBodyErrors.IncompleteBody,
      'You did not provide the number of bytes specified by the Content-Length HTTP header',
      { NumberBytesExpected: String(this.expectedLength), NumberBytesProvided: String(provided) });
  }

  private finish(): void {
    if (this.state === 'tail') this.parseTrailers(this.takeLine());
    else if (this.state !== 'done') throw terminated();
    this.state = 'done';
    if (this.expectedLength !== undefined && this.decodedLength !== this.expectedLength) {
      throw this.lengthMismatch(this.decodedLength);
    }
    if (this.trailerHasher && this.trailerChecksumAlgorithm) {
      this.checksum = this.trailerHasher.digest();
      const sent = this.trailers.get(checksumHeaderName(this.trailerChecksumAlgorithm));
      if (sent !== this.checksum) throw badDigest(this.trailerChecksumAlgorithm);
    }
  }

  /**
   * The trailer section: `name:value\r\n` lines, then an empty line. The aws-sdk-js/Rust/Java encoders send
   * it right after the 0-size chunk line; some encoders put the empty line first (`0\r\n\r\n` + trailers).
   * Both are accepted by reading up to the end of the body and ignoring empty lines, which is unambiguous
   * because the trailers are the last thing in the body.
   */
  private parseTrailers(section: string): void {
    if (!section.endsWith('\r\n')) throw section === '' ? terminated() : malformedTrailer();
    const lines = section.slice(0, -2).split('\r\n').filter((l) => l !== '');
    let signature: string | undefined;
    const canonical: string[] = [];
    for (const [i, line] of lines.entries()) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw malformedTrailer();
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (!TRAILER_NAME.test(name)) throw malformedTrailer();
      if (name === 'x-amz-trailer-signature') {
        // Only in the signed mode, and only as the last line.
        if (this.mode !== STREAMING_SIGNED_TRAILER || i !== lines.length - 1 || !HEX_SIGNATURE.test(value)) {
          throw malformedTrailer();
        }
        signature = value;
        continue;
      }
      if (!this.declared.includes(name) || this.trailers.has(name)) throw malformedTrailer();
      this.trailers.set(name, value);
      canonical.push(`${name}:${value}\n`);
    }
    for (const name of this.declared) if (!this.trailers.has(name)) throw malformedTrailer();

    if (this.mode === STREAMING_SIGNED_TRAILER) {
      if (signature === undefined) throw malformedTrailer();
      // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html: the trailer's string
      // to sign chains from the 0-size chunk's signature and hashes the trailers as `name:value\n` lines.
      const s = this.signing!;
      const hash = createHash('sha256').update(canonical.join('')).digest('hex');
      const stringToSign = `AWS4-HMAC-SHA256-TRAILER\n${s.amzDate}\n${s.scope}\n${this.previousSignature}\n${hash}`;
      const expected = createHmac('sha256', s.signingKey).update(stringToSign).digest();
      if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) throw signatureMismatch();
    }
    if (this.trailerChecksumAlgorithm) {
      const name = checksumHeaderName(this.trailerChecksumAlgorithm);
      this.trailers.set(name, parseTrailingChecksumValue(this.trailerChecksumAlgorithm, this.trailers.get(name)!));
    }
  }
}

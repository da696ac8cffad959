/**
 * AwsChunkedDecoder against bodies from real encoders: the worked examples of the S3 documentation
 * (sigv4-streaming.html and sigv4-streaming-trailers.html, reproduced signature by signature with the real
 * AWS signer @smithy/signature-v4), and the aws-chunked encoder every AWS SDK for JavaScript v3 client uses
 * for STREAMING-UNSIGNED-PAYLOAD-TRAILER (@smithy/core's getAwsChunkedEncodingStream; plus a live
 * S3Client PutObject captured on a local socket when @aws-sdk/client-s3 is installed).
 */
import { Hash, getAwsChunkedEncodingStream } from '@smithy/core/serde';
import { Crc32, readableStreamHasher } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { createChecksum } from '../../src/core/s3/checksums.js';
import {
  AwsChunkedDecoder, AwsChunkedOptions, ChunkedBodyError, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER, isAwsChunkedMode,
} from '../../src/protocols/rest-xml/aws-chunked.js';

const Sha256 = Hash.bind(null, 'sha256');

// The documentation's example: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const AMZ_DATE = '20130524T000000Z';
const SIGNING_DATE = new Date(Date.UTC(2013, 4, 24));
const SCOPE = '20130524/us-east-1/s3/aws4_request';
const DOC_DATA = Buffer.alloc(66_560, 'a');
const DOC_SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const DOC_CHUNK_SIGNATURES = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
] as const;
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
const TRAILER_SEED = '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e';
const TRAILER_CHUNK_SIGNATURES = [
  'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
  '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
  '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
] as const;
const TRAILER_SIGNATURE = 'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435';
const TRAILER_CRC32C = 'sOO8/Q==';

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
const SIGNING_KEY = hmac(hmac(hmac(hmac(`AWS4${SECRET}`, '20130524'), 'us-east-1'), 's3'), 'aws4_request');
const EMPTY_SHA256 = createHash('sha256').digest('hex');
const sha256Hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

const signer = new SignatureV4({
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET },
  region: 'us-east-1',
  service: 's3',
  sha256: Sha256,
  uriEscapePath: false,
  applyChecksum: false,
});

function signing(seedSignature: string): AwsChunkedOptions['signing'] {
  return { signingKey: SIGNING_KEY, amzDate: AMZ_DATE, scope: SCOPE, seedSignature };
}

function docSignedBody(signatures: readonly string[] = DOC_CHUNK_SIGNATURES): Buffer {
  return Buffer.concat([
    Buffer.from(`10000;chunk-signature=${signatures[0]}\r\n`), DOC_DATA.subarray(0, 65_536), Buffer.from('\r\n'),
    Buffer.from(`400;chunk-signature=${signatures[1]}\r\n`), DOC_DATA.subarray(65_536), Buffer.from('\r\n'),
    Buffer.from(`0;chunk-signature=${signatures[2]}\r\n\r\n`),
  ]);
}

function docTrailerBody(trailer = `x-amz-checksum-crc32c:${TRAILER_CRC32C}\r\nx-amz-trailer-signature:${TRAILER_SIGNATURE}\r\n\r\n`): Buffer {
  return Buffer.concat([
    Buffer.from(`10000;chunk-signature=${TRAILER_CHUNK_SIGNATURES[0]}\r\n`), DOC_DATA.subarray(0, 65_536), Buffer.from('\r\n'),
    Buffer.from(`400;chunk-signature=${TRAILER_CHUNK_SIGNATURES[1]}\r\n`), DOC_DATA.subarray(65_536), Buffer.from('\r\n'),
    Buffer.from(`0;chunk-signature=${TRAILER_CHUNK_SIGNATURES[2]}\r\n`),
    Buffer.from(trailer),
  ]);
}

/** A signed body built with the real signer: each chunk's string to sign per the documentation. */
async function encodeSigned(
  data: Buffer, chunkSize: number, seed: string, trailer?: { name: string; value: string },
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let previous = seed;
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  chunks.push(Buffer.alloc(0));
  for (const chunk of chunks) {
    const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${AMZ_DATE}\n${SCOPE}\n${previous}\n${EMPTY_SHA256}\n${sha256Hex(chunk)}`;
    previous = await signer.sign(toSign, { signingDate: SIGNING_DATE });
    parts.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`), chunk);
    if (chunk.length > 0 || !trailer) parts.push(Buffer.from('\r\n'));
  }
  if (trailer) {
    const line = `${trailer.name}:${trailer.value}`;
    const toSign = `AWS4-HMAC-SHA256-TRAILER\n${AMZ_DATE}\n${SCOPE}\n${previous}\n${sha256Hex(`${line}\n`)}`;
    const signature = await signer.sign(toSign, { signingDate: SIGNING_DATE });
    parts.push(Buffer.from(`${line}\r\nx-amz-trailer-signature:${signature}\r\n\r\n`));
  }
  return Buffer.concat(parts);
}

/** The body the AWS SDK for JavaScript v3 sends for STREAMING-UNSIGNED-PAYLOAD-TRAILER with CRC32. */
async function sdkUnsignedBody(pieces: readonly Buffer[]): Promise<Buffer> {
  const encoded = getAwsChunkedEncodingStream(Readable.from(pieces), {
    base64Encoder: (b: Uint8Array) => Buffer.from(b).toString('base64'),
    bodyLengthChecker: (b: Buffer) => b.length,
    checksumAlgorithmFn: Crc32,
    checksumLocationName: 'x-amz-checksum-crc32',
    streamHasher: readableStreamHasher,
  });
  const out: Buffer[] = [];
  for await (const chunk of encoded) out.push(Buffer.from(chunk as Buffer | string));
  return Buffer.concat(out);
}

function crc(alg: 'CRC32' | 'CRC32C', data: Buffer): string {
  const c = createChecksum(alg);
  c.update(data);
  return c.digest();
}

/** The slice of @aws-sdk/client-s3 the live-capture test uses. */
interface S3Sdk {
  S3Client: new (config: object) => { send(command: unknown): Promise<unknown>; destroy(): void };
  PutObjectCommand: new (input: object) => unknown;
}

interface Decoded {
  readonly data: Buffer;
  readonly decoder: AwsChunkedDecoder;
}

/** Feeds `body` in slices of `step` bytes (or the given cut points), as TCP would. */
async function decode(body: Buffer, options: AwsChunkedOptions, step: number = body.length): Promise<Decoded> {
  const { decoder, sink, run } = harness(body, options, step);
  await run;
  return { data: Buffer.concat(sink), decoder };
}

function harness(body: Buffer, options: AwsChunkedOptions, step: number) {
  const slices: Buffer[] = [];
  for (let i = 0; i < body.length; i += Math.max(1, step)) slices.push(body.subarray(i, i + step));
  const decoder = new AwsChunkedDecoder(options);
  const sink: Buffer[] = [];
  const run = pipeline(Readable.from(slices), decoder, new Writable({
    write(chunk: Buffer, _enc, cb) { sink.push(chunk); cb(); },
  }));
  return { decoder, sink, run };
}

/** Decodes expecting failure; returns the error and what had been emitted before it. */
async function decodeError(body: Buffer, options: AwsChunkedOptions, step: number = body.length) {
  const { sink, run } = harness(body, options, step);
  const err = await run.then(() => assert.fail('decoding should have failed'), (e: unknown) => e);
  assert.ok(err instanceof Error, String(err));
  return { err: err as ChunkedBodyError, emitted: Buffer.concat(sink).length };
}

function assertS3Error(err: unknown, code: string, status: number, message?: string | RegExp): void {
  assert.ok(err && typeof err === 'object' && 'code' in err, `not a typed error: ${String(err)}`);
  const e = err as ChunkedBodyError;
  assert.equal(e.code, code, `${e.code}: ${e.message}`);
  assert.equal(e.status, status);
  if (typeof message === 'string') assert.equal(e.message, message);
  else if (message) assert.match(e.message, message);
}

const DOC_SIGNED: AwsChunkedOptions = { mode: STREAMING_SIGNED, signing: signing(DOC_SEED), decodedContentLength: 66_560 };
const DOC_TRAILER: AwsChunkedOptions = {
  mode: STREAMING_SIGNED_TRAILER, signing: signing(TRAILER_SEED), decodedContentLength: 66_560,
  declaredTrailers: ['x-amz-checksum-crc32c'],
};

describe('the documented STREAMING-AWS4-HMAC-SHA256-PAYLOAD example', () => {
  it('the real signer reproduces the seed signature of the example request', async () => {
    const request = new HttpRequest({
      method: 'PUT', protocol: 'https:', hostname: 's3.amazonaws.com', path: '/examplebucket/chunkObject.txt',
      headers: {
        host: 's3.amazonaws.com', 'x-amz-date': AMZ_DATE, 'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': STREAMING_SIGNED, 'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '66560', 'content-length': '66824',
      },
    });
    const signed = await signer.sign(request, { signingDate: SIGNING_DATE });
    assert.match(String(signed.headers['authorization']), new RegExp(`Signature=${DOC_SEED}$`));
  });

  it('the real signer reproduces every chunk signature of the example', async () => {
    const body = await encodeSigned(DOC_DATA, 65_536, DOC_SEED);
    assert.deepEqual(body, docSignedBody());
    assert.equal(body.length, 66_824, 'the Content-Length of the example');
  });

  it('decodes the example body to its 66560 bytes, signature by signature', async () => {
    const { data, decoder } = await decode(docSignedBody(), DOC_SIGNED);
    assert.deepEqual(data, DOC_DATA);
    assert.equal(decoder.decodedLength, 66_560);
    assert.equal(decoder.trailers.size, 0);
  });

  it('decodes it fed one byte at a time (headers, CRLFs and signatures split anywhere)', async () => {
    const { data } = await decode(docSignedBody(), DOC_SIGNED, 1);
    assert.deepEqual(data, DOC_DATA);
  });

  it('decodes it under every small fragment size', async () => {
    for (const step of [2, 3, 7, 13, 64, 85, 86, 87, 4093, 65_537]) {
      const { data } = await decode(docSignedBody(), DOC_SIGNED, step);
      assert.deepEqual(data, DOC_DATA, `step ${step}`);
    }
  });

  it('accepts upper-case hex in sizes and signatures', async () => {
    const upper = docSignedBody(DOC_CHUNK_SIGNATURES.map((s) => s.toUpperCase()));
    const { data } = await decode(upper, DOC_SIGNED);
    assert.deepEqual(data, DOC_DATA);
  });

  it('works without x-amz-decoded-content-length', async () => {
    const { data } = await decode(docSignedBody(), { mode: STREAMING_SIGNED, signing: signing(DOC_SEED) });
    assert.equal(data.length, 66_560);
  });
});

describe('the documented STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER example', () => {
  it('the real signer reproduces its chunk and trailer signatures', async () => {
    const body = await encodeSigned(DOC_DATA, 65_536, TRAILER_SEED, { name: 'x-amz-checksum-crc32c', value: TRAILER_CRC32C });
    assert.deepEqual(body, docTrailerBody());
    assert.equal(crc('CRC32C', DOC_DATA), TRAILER_CRC32C, 'the example trailer is the CRC32C of the body');
  });

  it('decodes it, checks the trailer signature and the trailing CRC32C', async () => {
    const { data, decoder } = await decode(docTrailerBody(), DOC_TRAILER);
    assert.deepEqual(data, DOC_DATA);
    assert.deepEqual([...decoder.trailers], [['x-amz-checksum-crc32c', TRAILER_CRC32C]]);
    assert.equal(decoder.trailerChecksumAlgorithm, 'CRC32C');
    assert.equal(decoder.checksum, TRAILER_CRC32C);
  });

  it('decodes it fed one byte at a time', async () => {
    const { data, decoder } = await decode(docTrailerBody(), DOC_TRAILER, 1);
    assert.deepEqual(data, DOC_DATA);
    assert.equal(decoder.trailers.get('x-amz-checksum-crc32c'), TRAILER_CRC32C);
  });

  it('accepts the form with an empty line between the 0-size chunk and the trailers', async () => {
    const body = docTrailerBody(`\r\nx-amz-checksum-crc32c:${TRAILER_CRC32C}\r\nx-amz-trailer-signature:${TRAILER_SIGNATURE}\r\n`);
    const { data } = await decode(body, DOC_TRAILER, 5);
    assert.deepEqual(data, DOC_DATA);
  });

  it('refuses a trailer whose value was altered (the trailer signature covers it): SignatureDoesNotMatch', async () => {
    const other = crc('CRC32C', Buffer.from('other'));
    const body = docTrailerBody(`x-amz-checksum-crc32c:${other}\r\nx-amz-trailer-signature:${TRAILER_SIGNATURE}\r\n\r\n`);
    const { err } = await decodeError(body, DOC_TRAILER);
    assertS3Error(err, 'SignatureDoesNotMatch', 403,
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  });

  it('refuses a tampered trailer signature: SignatureDoesNotMatch', async () => {
    const bad = `${TRAILER_SIGNATURE.slice(0, -1)}6`;
    const body = docTrailerBody(`x-amz-checksum-crc32c:${TRAILER_CRC32C}\r\nx-amz-trailer-signature:${bad}\r\n\r\n`);
    assertS3Error((await decodeError(body, DOC_TRAILER)).err, 'SignatureDoesNotMatch', 403);
  });

  it('refuses trailers without the trailer signature: MalformedTrailerError', async () => {
    const body = docTrailerBody(`x-amz-checksum-crc32c:${TRAILER_CRC32C}\r\n\r\n`);
    assertS3Error((await decodeError(body, DOC_TRAILER)).err, 'MalformedTrailerError', 400,
      'The request contained trailing data that was not well-formed or did not conform to our published schema.');
  });

  it('refuses a signed trailing checksum that does not match the bytes: BadDigest', async () => {
    const data = Buffer.alloc(20_000, 'z');
    const body = await encodeSigned(data, 10_000, TRAILER_SEED, { name: 'x-amz-checksum-crc32c', value: crc('CRC32C', Buffer.from('nope')) });
    const { err } = await decodeError(body, { ...DOC_TRAILER, decodedContentLength: 20_000 });
    assertS3Error(err, 'BadDigest', 400, 'The CRC32C you specified did not match the calculated checksum.');
  });
});

describe('STREAMING-UNSIGNED-PAYLOAD-TRAILER from the AWS SDK for JavaScript encoder', () => {
  const pieces = [Buffer.alloc(65_536, 1), Buffer.alloc(65_536, 2), Buffer.from('the end')];
  const whole = Buffer.concat(pieces);
  const options: AwsChunkedOptions = {
    mode: STREAMING_UNSIGNED_TRAILER, decodedContentLength: whole.length, declaredTrailers: ['x-amz-checksum-crc32'],
  };

  it('decodes the SDK body and verifies its trailing CRC32', async () => {
    const body = await sdkUnsignedBody(pieces);
    assert.ok(body.toString('latin1').endsWith(`0\r\nx-amz-checksum-crc32:${crc('CRC32', whole)}\r\n\r\n`));
    const { data, decoder } = await decode(body, options);
    assert.deepEqual(data, whole);
    assert.equal(decoder.trailers.get('x-amz-checksum-crc32'), crc('CRC32', whole));
    assert.equal(decoder.checksum, crc('CRC32', whole));
  });

  it('decodes it fed one byte at a time', async () => {
    const { data } = await decode(await sdkUnsignedBody(pieces), options, 1);
    assert.deepEqual(data, whole);
  });

  it('streams unsigned chunks through without holding a chunk back', async () => {
    const body = await sdkUnsignedBody(pieces);
    // Cut inside the first chunk's data: what arrived is already out, before the chunk ends.
    const decoder = new AwsChunkedDecoder(options);
    const out: Buffer[] = [];
    decoder.on('data', (b: Buffer) => out.push(b));
    decoder.write(body.subarray(0, 1000));
    await new Promise((r) => setImmediate(r));
    assert.equal(Buffer.concat(out).length, 1000 - '10000\r\n'.length);
    decoder.destroy();
  });

  it('refuses a trailing checksum that does not match the bytes: BadDigest', async () => {
    const body = (await sdkUnsignedBody(pieces)).toString('latin1').replace(crc('CRC32', whole), crc('CRC32', Buffer.from('x')));
    const { err } = await decodeError(Buffer.from(body, 'latin1'), options);
    assertS3Error(err, 'BadDigest', 400, 'The CRC32 you specified did not match the calculated checksum.');
  });

  it('refuses a trailer other than the declared one: MalformedTrailerError', async () => {
    const body = await sdkUnsignedBody(pieces);
    const { err } = await decodeError(body, { ...options, declaredTrailers: ['x-amz-checksum-crc32c'] });
    assertS3Error(err, 'MalformedTrailerError', 400);
  });

  it('refuses a declared trailer that never comes: MalformedTrailerError', async () => {
    const body = Buffer.from(`7\r\nthe end\r\n0\r\n\r\n`);
    const { err } = await decodeError(body, { ...options, decodedContentLength: 7 });
    assertS3Error(err, 'MalformedTrailerError', 400);
  });

  it('refuses a trailer line with an empty name, or without a colon: MalformedTrailerError', async () => {
    for (const line of [`:${crc('CRC32', Buffer.from('the end'))}`, `x-amz-checksum-crc32${crc('CRC32', Buffer.from('the end'))}`]) {
      const body = Buffer.from(`7\r\nthe end\r\n0\r\n${line}\r\n\r\n`);
      assertS3Error((await decodeError(body, { ...options, decodedContentLength: 7 })).err, 'MalformedTrailerError', 400);
    }
  });

  it('refuses a trailing checksum value that is not base64 of 4 bytes: InvalidRequest', async () => {
    const body = Buffer.from(`7\r\nthe end\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n`);
    const { err } = await decodeError(body, { ...options, decodedContentLength: 7 });
    assertS3Error(err, 'InvalidRequest', 400, 'Value for x-amz-checksum-crc32 trailing header is invalid.');
  });

  it('refuses an x-amz-trailer it cannot honour, before reading anything: InvalidRequest', () => {
    assert.throws(() => new AwsChunkedDecoder({ ...options, declaredTrailers: ['x-amz-checksum-sha10'] }),
      (e: unknown) => { assertS3Error(e, 'InvalidRequest', 400, 'The value specified in the x-amz-trailer header is not supported'); return true; });
  });

  it('decodes an unsigned body with no trailer at all', async () => {
    const { data } = await decode(Buffer.from('3\r\nabc\r\n0\r\n\r\n'), { mode: STREAMING_UNSIGNED_TRAILER });
    assert.equal(data.toString(), 'abc');
  });

  it('decodes what a live S3Client PutObject sends', async (t) => {
    // Imported by name at run time: the S3 client is a devDependency of the S3 work, not of this decoder.
    const specifier = '@aws-sdk/client-s3';
    const sdk = (await import(specifier).catch(() => undefined)) as S3Sdk | undefined;
    if (!sdk) {
      t.skip('@aws-sdk/client-s3 is not installed');
      return;
    }
    let captured: { headers: Record<string, string | string[] | undefined>; body: Buffer } | undefined;
    const server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (b: Buffer) => parts.push(b));
      req.on('end', () => {
        captured = { headers: req.headers, body: Buffer.concat(parts) };
        res.writeHead(200, { etag: '"0"' }).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const client = new sdk.S3Client({
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1', forcePathStyle: true,
        credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET },
      });
      await client.send(new sdk.PutObjectCommand({
        Bucket: 'bucket', Key: 'key', Body: Readable.from(pieces), ContentLength: whole.length, ChecksumAlgorithm: 'CRC32',
      }));
      client.destroy();
    } finally {
      server.close();
    }
    assert.ok(captured);
    const mode = String(captured.headers['x-amz-content-sha256']);
    assert.ok(isAwsChunkedMode(mode), `the SDK sent ${mode}`);
    assert.match(String(captured.headers['content-encoding']), /aws-chunked/);
    const { data, decoder } = await decode(captured.body, {
      mode,
      decodedContentLength: Number(captured.headers['x-amz-decoded-content-length']),
      declaredTrailers: String(captured.headers['x-amz-trailer'] ?? '').split(','),
    }, 1_000);
    assert.deepEqual(data, whole);
    assert.equal(decoder.checksum, crc('CRC32', whole));
  });
});

describe('refusals', () => {
  const data = Buffer.concat([Buffer.alloc(8192, 'x'), Buffer.alloc(8192, 'y'), Buffer.alloc(8192, 'z')]);
  const signedOptions: AwsChunkedOptions = { mode: STREAMING_SIGNED, signing: signing(DOC_SEED), decodedContentLength: data.length };

  it('tampered chunk data: SignatureDoesNotMatch (403), and nothing of that chunk is emitted', async () => {
    const body = docSignedBody();
    const tampered = Buffer.from(body);
    tampered[body.indexOf('\r\n400;') + 100] = 'b'.charCodeAt(0); // inside the second chunk's data
    const { err, emitted } = await decodeError(tampered, DOC_SIGNED, 4096);
    assertS3Error(err, 'SignatureDoesNotMatch', 403,
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
    assert.equal(emitted, 65_536, 'only the first (verified) chunk went out');
  });

  it('tampered chunk signature: SignatureDoesNotMatch, nothing emitted', async () => {
    const sigs: string[] = [...DOC_CHUNK_SIGNATURES];
    sigs[0] = `${sigs[0]!.slice(0, 10)}${sigs[0]![10] === '0' ? '1' : '0'}${sigs[0]!.slice(11)}`;
    const { err, emitted } = await decodeError(docSignedBody(sigs), DOC_SIGNED);
    assertS3Error(err, 'SignatureDoesNotMatch', 403);
    assert.equal(emitted, 0);
  });

  it('a signature from another seed (another request): SignatureDoesNotMatch', async () => {
    const { err } = await decodeError(docSignedBody(), { ...DOC_SIGNED, signing: signing(TRAILER_SEED) });
    assertS3Error(err, 'SignatureDoesNotMatch', 403);
  });

  it('reordered chunks (each with its own valid signature): SignatureDoesNotMatch', async () => {
    const body = await encodeSigned(data, 8192, DOC_SEED);
    const frame = (n: number): Buffer => { // the n-th `size;sig\r\n data \r\n` frame
      const len = `2000;chunk-signature=${'0'.repeat(64)}\r\n`.length + 8192 + 2;
      return body.subarray(n * len, (n + 1) * len);
    };
    const swapped = Buffer.concat([frame(1), frame(0), frame(2), body.subarray(3 * frame(0).length)]);
    assert.equal(swapped.length, body.length);
    assertS3Error((await decodeError(swapped, signedOptions)).err, 'SignatureDoesNotMatch', 403);
    await decode(body, signedOptions); // and in order it is fine
  });

  it('a dropped middle chunk: SignatureDoesNotMatch', async () => {
    const body = await encodeSigned(data, 8192, DOC_SEED);
    const len = body.indexOf('2000;', 10);
    const dropped = Buffer.concat([body.subarray(0, len), body.subarray(2 * len)]);
    assertS3Error((await decodeError(dropped, { ...signedOptions, decodedContentLength: undefined })).err, 'SignatureDoesNotMatch', 403);
  });

  it('missing final chunk: IncompleteBody "The request body terminated unexpectedly"', async () => {
    const body = docSignedBody();
    const truncated = body.subarray(0, body.indexOf('0;chunk-signature=b6c6'));
    const { err, emitted } = await decodeError(truncated, { ...DOC_SIGNED, decodedContentLength: undefined });
    assertS3Error(err, 'IncompleteBody', 400, 'The request body terminated unexpectedly');
    assert.equal(emitted, 66_560, 'the verified chunks went out; the consumer must not commit on error');
  });

  it('body cut inside a chunk, inside a header, or before the final CRLF: IncompleteBody', async () => {
    const body = docSignedBody();
    for (const cut of [10, 100, 65_000, body.length - 1, body.length - 2]) {
      assertS3Error((await decodeError(body.subarray(0, cut), DOC_SIGNED, 997)).err, 'IncompleteBody', 400);
    }
    const unsigned = Buffer.from('3\r\nabc\r\n0\r\n');
    assertS3Error((await decodeError(unsigned, { mode: STREAMING_UNSIGNED_TRAILER })).err, 'IncompleteBody', 400);
  });

  it('decoded length different from x-amz-decoded-content-length: IncompleteBody with the two numbers', async () => {
    const fewer = await decodeError(docSignedBody(), { ...DOC_SIGNED, decodedContentLength: 66_561 });
    assertS3Error(fewer.err, 'IncompleteBody', 400, 'You did not provide the number of bytes specified by the Content-Length HTTP header');
    assert.deepEqual(fewer.err.details, { NumberBytesExpected: '66561', NumberBytesProvided: '66560' });
    const more = await decodeError(docSignedBody(), { ...DOC_SIGNED, decodedContentLength: 66_000 });
    assertS3Error(more.err, 'IncompleteBody', 400);
    assert.deepEqual(more.err.details, { NumberBytesExpected: '66000', NumberBytesProvided: '66560' });
    assert.equal(more.emitted, 65_536, 'the chunk that would overrun the declared length is not emitted');
    const unsigned = await decodeError(Buffer.from('5\r\nhello\r\n0\r\n\r\n'), { mode: STREAMING_UNSIGNED_TRAILER, decodedContentLength: 3 });
    assertS3Error(unsigned.err, 'IncompleteBody', 400);
    assert.equal(unsigned.emitted, 0);
  });

  it('oversize chunk header line: IncompleteBody, without buffering it', async () => {
    const body = Buffer.concat([Buffer.from('1'.padStart(10_000, '0')), Buffer.from('\r\n')]);
    assertS3Error((await decodeError(body, { mode: STREAMING_UNSIGNED_TRAILER }, 100)).err, 'IncompleteBody', 400);
    const signedHeader = Buffer.from(`10000;chunk-signature=${DOC_CHUNK_SIGNATURES[0]};x=${'y'.repeat(300)}\r\n`);
    assertS3Error((await decodeError(signedHeader, DOC_SIGNED, 1)).err, 'IncompleteBody', 400);
  });

  it('signed chunk larger than the bound: InvalidChunkSizeError before any of it is read', async () => {
    const body = Buffer.from(`1000001;chunk-signature=${DOC_CHUNK_SIGNATURES[0]}\r\n`);
    const { err } = await decodeError(body, DOC_SIGNED);
    assertS3Error(err, 'InvalidChunkSizeError', 400, /exceeds the maximum chunk size of 16777216 bytes/);
    assert.deepEqual(err.details, { Chunk: '1', BadChunkSize: String(0x1000001) });
    const capped = await decodeError(docSignedBody(), { ...DOC_SIGNED, maxChunkSize: 1024 });
    assertS3Error(capped.err, 'InvalidChunkSizeError', 400);
  });

  it('a short chunk that is not the last: InvalidChunkSizeError (Chunk and BadChunkSize as S3 reports them)', async () => {
    const small = await encodeSigned(Buffer.from('hello'), 3, DOC_SEED);
    const { err } = await decodeError(small, { mode: STREAMING_SIGNED, signing: signing(DOC_SEED) });
    assertS3Error(err, 'InvalidChunkSizeError', 400, 'Only the last chunk is allowed to have a size less than 8192 bytes');
    assert.deepEqual(err.details, { Chunk: '2', BadChunkSize: '3' });
    const unsigned = Buffer.from('5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n');
    const u = await decodeError(unsigned, { mode: STREAMING_UNSIGNED_TRAILER });
    assertS3Error(u.err, 'InvalidChunkSizeError', 400);
    assert.deepEqual(u.err.details, { Chunk: '2', BadChunkSize: '5' });
    // The check can be relaxed for clients that stream small pieces.
    const relaxed = await decode(unsigned, { mode: STREAMING_UNSIGNED_TRAILER, minChunkSize: 0 });
    assert.equal(relaxed.data.toString(), 'hello!');
  });

  it('malformed framing: IncompleteBody', async () => {
    for (const body of [
      'g\r\nabc\r\n0\r\n\r\n', // not hex
      '3\nabc\r\n0\r\n\r\n', // LF without CR
      '3\r\nabcd\r\n0\r\n\r\n', // data longer than its size
      '3;chunk-signature=00\r\nabc\r\n0\r\n\r\n', // signature on an unsigned body
      '-3\r\nabc\r\n0\r\n\r\n',
      '\r\n',
    ]) {
      assertS3Error((await decodeError(Buffer.from(body), { mode: STREAMING_UNSIGNED_TRAILER, minChunkSize: 0 })).err,
        'IncompleteBody', 400, undefined);
    }
    for (const header of ['10000\r\n', `10000;chunk-signature=${'a'.repeat(63)}\r\n`, `10000;signature=${'a'.repeat(64)}\r\n`]) {
      assertS3Error((await decodeError(Buffer.from(header), DOC_SIGNED)).err, 'IncompleteBody', 400);
    }
  });

  it('bytes after the end of the encoding are refused', async () => {
    assertS3Error((await decodeError(Buffer.concat([docSignedBody(), Buffer.from('x')]), DOC_SIGNED)).err, 'IncompleteBody', 400);
    const unsigned = Buffer.from('3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n');
    assertS3Error((await decodeError(unsigned, { mode: STREAMING_UNSIGNED_TRAILER })).err, 'MalformedTrailerError', 400);
  });

  it('a trailer on a body whose mode has none, or an undeclared one: refused', async () => {
    const body = Buffer.concat([docSignedBody().subarray(0, -2), Buffer.from(`x-amz-checksum-crc32:AAAAAA==\r\n\r\n`)]);
    assertS3Error((await decodeError(body, DOC_SIGNED)).err, 'IncompleteBody', 400);
    const undeclared = Buffer.from(`3\r\nabc\r\n0\r\nx-amz-checksum-crc32:${crc('CRC32', Buffer.from('abc'))}\r\n\r\n`);
    assertS3Error((await decodeError(undeclared, { mode: STREAMING_UNSIGNED_TRAILER })).err, 'MalformedTrailerError', 400);
  });

  it('the two signed modes need the signing context', () => {
    assert.throws(() => new AwsChunkedDecoder({ mode: STREAMING_SIGNED }), TypeError);
  });
});

/**
 * S3 flexible checksums: check values from the CRC catalogue, agreement with the checksum implementations
 * the AWS SDKs for JavaScript ship (@smithy/core/checksum's Crc32; @aws-sdk/checksums' Crc32c and
 * Crc64Nvme when installed), the header rules and the errors S3 answers.
 */
import { Crc32 as SdkCrc32 } from '@smithy/core/checksum';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import {
  CHECKSUM_ALGORITHMS, ChecksumAlgorithm, ChecksumError, ChecksumTransform, ChecksumTransformOptions, checksumHeaderName,
  combineCrc, compositeChecksum, createChecksum, digestLength, fullObjectCrc, parseChecksumHeaders, parseContentMd5,
} from '../../src/core/s3/checksums.js';

function digestOf(algorithm: ChecksumAlgorithm, ...pieces: Buffer[]): string {
  const c = createChecksum(algorithm);
  for (const p of pieces) c.update(p);
  return c.digest();
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
function bytes(n: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function expectS3Error(fn: () => unknown, code: string, status: number, message?: string): ChecksumError {
  let caught: unknown;
  try { fn(); } catch (e) { caught = e; }
  assert.ok(caught instanceof ChecksumError, `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.status, status);
  if (message !== undefined) assert.equal(caught.message, message);
  return caught;
}

describe('checksum algorithms', () => {
  it('give the catalogue check values for "123456789" (CRC-32, CRC-32C, CRC-64/NVME) and the standard digests', () => {
    const check = Buffer.from('123456789');
    const hex = (a: ChecksumAlgorithm): string => Buffer.from(digestOf(a, check), 'base64').toString('hex');
    // https://reveng.sourceforge.io/crc-catalogue/all.htm
    assert.equal(hex('CRC32'), 'cbf43926');
    assert.equal(hex('CRC32C'), 'e3069283');
    assert.equal(hex('CRC64NVME'), 'ae8b14860a799888');
    for (const [a, name] of [['SHA1', 'sha1'], ['SHA256', 'sha256'], ['SHA512', 'sha512'], ['MD5', 'md5']] as const) {
      assert.equal(hex(a), createHash(name).update(check).digest('hex'));
    }
  });

  it('digest the empty body the way S3 reports it', () => {
    assert.equal(digestOf('CRC32'), 'AAAAAA==');
    assert.equal(digestOf('CRC32C'), 'AAAAAA==');
    assert.equal(digestOf('CRC64NVME'), 'AAAAAAAAAAA=');
    assert.equal(digestOf('SHA256'), '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  });

  it('have the digest length of their header values', () => {
    for (const a of CHECKSUM_ALGORITHMS) {
      assert.equal(Buffer.from(digestOf(a, Buffer.from('x')), 'base64').length, digestLength(a), a);
    }
  });

  it('are independent of how the bytes are split', () => {
    const data = bytes(100_003, 7);
    for (const a of CHECKSUM_ALGORITHMS) {
      const whole = digestOf(a, data);
      for (const cuts of [[1], [7, 8, 9], [4096, 50_000, 99_999], [100_002]]) {
        const pieces: Buffer[] = [];
        let at = 0;
        for (const c of cuts) { pieces.push(data.subarray(at, c)); at = c; }
        pieces.push(data.subarray(at));
        assert.equal(digestOf(a, ...pieces), whole, `${a} split at ${cuts.join(',')}`);
      }
    }
  });

  it('agree with the SDK CRC32 (@smithy/core/checksum)', async () => {
    for (const n of [0, 1, 3, 8, 9, 1000, 65_537]) {
      const data = bytes(n, n + 3);
      const sdk = new SdkCrc32();
      sdk.update(data);
      assert.equal(Buffer.from(await sdk.digest()).toString('base64'), digestOf('CRC32', data), `length ${n}`);
    }
  });

  it('agree with the SDK CRC32C and CRC64NVME (@aws-sdk/checksums)', async (t) => {
    const specifier = '@aws-sdk/checksums/crc';
    type Ctor = new () => { update(b: Uint8Array): void; digest(): Promise<Uint8Array> };
    const sdk = (await import(specifier).catch(() => undefined)) as { Crc32c: Ctor; Crc64Nvme: Ctor } | undefined;
    if (!sdk) {
      t.skip('@aws-sdk/checksums is not installed');
      return;
    }
    for (const [a, Ctor] of [['CRC32C', sdk.Crc32c], ['CRC64NVME', sdk.Crc64Nvme]] as const) {
      for (const n of [0, 1, 7, 8, 15, 16, 1000, 65_537]) {
        const data = bytes(n, n + 11);
        const s = new Ctor();
        s.update(data);
        assert.equal(Buffer.from(await s.digest()).toString('base64'), digestOf(a, data), `${a} length ${n}`);
      }
    }
  });
});

describe('parseChecksumHeaders', () => {
  const crc32 = digestOf('CRC32', Buffer.from('hello'));

  it('returns the one x-amz-checksum-<alg> value, normalised; or nothing when none is sent', () => {
    assert.deepEqual(parseChecksumHeaders({ 'x-amz-checksum-crc32': crc32 }), { algorithm: 'CRC32', expected: crc32, trailer: false });
    assert.deepEqual(parseChecksumHeaders(new Map([['x-amz-checksum-crc64nvme', 'AAAAAAAAAAA='], ['x-amz-sdk-checksum-algorithm', 'crc64nvme']])),
      { algorithm: 'CRC64NVME', expected: 'AAAAAAAAAAA=', trailer: false });
    assert.equal(parseChecksumHeaders({ 'content-type': 'text/plain', 'x-amz-checksum-mode': 'ENABLED' }), undefined);
  });

  it('returns the trailing checksum announced by x-amz-trailer', () => {
    assert.deepEqual(parseChecksumHeaders({ 'x-amz-trailer': 'x-amz-checksum-crc32c', 'x-amz-sdk-checksum-algorithm': 'CRC32C' }),
      { algorithm: 'CRC32C', trailer: true });
  });

  it('refuses what S3 refuses, with its messages (InvalidRequest, 400)', () => {
    expectS3Error(() => parseChecksumHeaders({ 'x-amz-checksum-crc32': crc32, 'x-amz-checksum-sha1': digestOf('SHA1') }),
      'InvalidRequest', 400, 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    expectS3Error(() => parseChecksumHeaders({ 'x-amz-checksum-sha10': 'AAAA' }),
      'InvalidRequest', 400, 'The algorithm type you specified in x-amz-checksum- header is invalid.');
    for (const bad of ['', 'AAAA', 'not base64!', `${crc32}=`, digestOf('SHA1')]) {
      expectS3Error(() => parseChecksumHeaders({ 'x-amz-checksum-crc32': bad }),
        'InvalidRequest', 400, 'Value for x-amz-checksum-crc32 header is invalid.');
    }
    expectS3Error(() => parseChecksumHeaders({ 'x-amz-checksum-crc32': crc32, 'x-amz-sdk-checksum-algorithm': 'SHA256' }),
      'InvalidRequest', 400, 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    expectS3Error(() => parseChecksumHeaders({ 'x-amz-trailer': 'x-amz-checksum-crc64nvme', 'x-amz-sdk-checksum-algorithm': 'SHA1' }),
      'InvalidRequest', 400, 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    expectS3Error(() => parseChecksumHeaders({ 'x-amz-sdk-checksum-algorithm': 'CRC32' }), 'InvalidRequest', 400,
      'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.');
    expectS3Error(() => parseChecksumHeaders({ 'x-amz-sdk-checksum-algorithm': 'CRC16', 'x-amz-checksum-crc32': crc32 }),
      'InvalidRequest', 400,
      'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, MD5, SHA1, SHA256, SHA512, XXHASH128, XXHASH3, XXHASH64]');
    for (const trailer of ['x-amz-checksum-sha10', 'x-amz-checksum-crc32,x-amz-checksum-sha1', 'x-amz-meta-foo']) {
      expectS3Error(() => parseChecksumHeaders({ 'x-amz-trailer': trailer }),
        'InvalidRequest', 400, 'The value specified in the x-amz-trailer header is not supported');
    }
  });

  it('says plainly that the XXHASH algorithms are not implemented (NotImplemented, 501)', () => {
    expectS3Error(() => parseChecksumHeaders({ 'x-amz-checksum-xxhash64': 'AAAAAAAAAAA=' }), 'NotImplemented', 501);
  });
});

describe('Content-MD5', () => {
  it('parses base64 of 16 bytes; anything else is InvalidDigest with the value echoed', () => {
    const md5 = createHash('md5').update('hello').digest();
    assert.deepEqual(parseContentMd5(md5.toString('base64')), md5);
    for (const bad of ['', 'dummy', md5.toString('hex'), md5.subarray(0, 15).toString('base64')]) {
      const e = expectS3Error(() => parseContentMd5(bad), 'InvalidDigest', 400, 'The Content-MD5 you specified was invalid.');
      assert.deepEqual(e.details, { 'Content-MD5': bad });
    }
  });
});

describe('ChecksumTransform', () => {
  async function run(data: Buffer, options: ChecksumTransformOptions, step = 1000) {
    const t = new ChecksumTransform(options);
    const out: Buffer[] = [];
    const pieces: Buffer[] = [];
    for (let i = 0; i < data.length; i += step) pieces.push(data.subarray(i, i + step));
    const done = pipeline(Readable.from(pieces), t, new Writable({ write(c: Buffer, _e, cb) { out.push(c); cb(); } }));
    return { done, t, out };
  }

  it('passes the bytes through and reports the checksum and MD5', async () => {
    const data = bytes(70_000, 3);
    const { done, t, out } = await run(data, { algorithm: 'CRC64NVME', computeMd5: true });
    await done;
    assert.deepEqual(Buffer.concat(out), data);
    assert.equal(t.checksum, digestOf('CRC64NVME', data));
    assert.deepEqual(t.md5, createHash('md5').update(data).digest());
  });

  it('accepts matching values', async () => {
    const data = bytes(10_000, 4);
    const { done } = await run(data, {
      algorithm: 'SHA256', expected: digestOf('SHA256', data), contentMd5: createHash('md5').update(data).digest('base64'),
    });
    await done;
  });

  it('fails with BadDigest "The CRC32 you specified did not match the calculated checksum." on a mismatch', async () => {
    const data = bytes(10_000, 5);
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const { done } = await run(data, { algorithm, expected: digestOf(algorithm, Buffer.from('other')) });
      const err = await done.then(() => assert.fail('should fail'), (e: unknown) => e);
      assert.ok(err instanceof ChecksumError);
      assert.equal(err.code, 'BadDigest');
      assert.equal(err.status, 400);
      assert.equal(err.message, `The ${algorithm} you specified did not match the calculated checksum.`);
    }
  });

  it('fails with BadDigest and both digests on a Content-MD5 mismatch', async () => {
    const data = bytes(1000, 6);
    const wrong = createHash('md5').update('x').digest('base64');
    const { done } = await run(data, { contentMd5: wrong });
    const err = await done.then(() => assert.fail('should fail'), (e: unknown) => e);
    assert.ok(err instanceof ChecksumError);
    assert.equal(err.code, 'BadDigest');
    assert.equal(err.message, 'The Content-MD5 you specified did not match what we received.');
    assert.deepEqual(err.details, { ExpectedDigest: wrong, CalculatedDigest: createHash('md5').update(data).digest('base64') });
  });

  it('refuses a malformed Content-MD5 before reading anything (InvalidDigest)', () => {
    expectS3Error(() => new ChecksumTransform({ contentMd5: 'zzz' }), 'InvalidDigest', 400);
  });
});

describe('multipart checksums', () => {
  const parts = [bytes(5 * 1024 * 1024, 1), bytes(5 * 1024 * 1024, 2), bytes(1234, 3)];

  it('COMPOSITE: the checksum of the concatenated part digests, then -<part count>', () => {
    for (const a of CHECKSUM_ALGORITHMS) {
      const partDigests = parts.map((p) => digestOf(a, p));
      const raw = Buffer.concat(partDigests.map((d) => Buffer.from(d, 'base64')));
      assert.equal(compositeChecksum(a, partDigests), `${digestOf(a, raw)}-3`, a);
    }
    assert.equal(compositeChecksum('SHA256', [digestOf('SHA256', parts[0]!)]).endsWith('-1'), true);
  });

  it('FULL_OBJECT CRCs: the part CRCs combine into the CRC of the whole object', () => {
    const whole = Buffer.concat(parts);
    for (const a of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
      const full = fullObjectCrc(a, parts.map((p) => ({ checksum: digestOf(a, p), size: p.length })));
      assert.equal(full, digestOf(a, whole), a);
      const data = bytes(1000, 9);
      for (const cut of [0, 1, 500, 999, 1000]) {
        const [x, y] = [data.subarray(0, cut), data.subarray(cut)];
        assert.equal(combineCrc(a, digestOf(a, x), digestOf(a, y), y.length), digestOf(a, data), `${a} cut ${cut}`);
      }
    }
  });

  it('names the header of each algorithm', () => {
    assert.equal(checksumHeaderName('CRC64NVME'), 'x-amz-checksum-crc64nvme');
    assert.equal(checksumHeaderName('SHA256'), 'x-amz-checksum-sha256');
  });
});

import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { SecretBytes } from '../../src/core/crypto/secret-bytes.js';
import { ByteRange, createSealer, openRange, PACKAGE_BYTES, plainLengthOf, sealBuffer, SealedDataError, sealedLength, SealedReader } from '../../src/core/s3/packages.js';

const P = PACKAGE_BYTES;
const HEADER = 16;
const TAG = 16;
const key = randomBytes(32);
const binding = Buffer.from('bucket/key/version/part-1');

/** Cuts buf into random-sized chunks (1..max bytes). */
function chunked(buf: Buffer, max: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; ) {
    const n = Math.min(buf.length - i, randomInt(1, max + 1));
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function seal(plain: Buffer, opts: { maxChunk?: number; k?: Buffer | SecretBytes; b?: Buffer } = {}): Promise<Buffer> {
  const sealer = createSealer(opts.k ?? key, opts.b ?? binding);
  const out = collect(sealer);
  await pipeline(Readable.from(opts.maxChunk ? chunked(plain, opts.maxChunk) : [plain]), sealer);
  return out;
}

interface Opened {
  readonly plain: Buffer;
  readonly error: unknown;
  readonly reads: Array<[number, number]>;
}

/** Opens via a reader over `sealed` that honours ranges (with random chunking); keeps what was emitted before any error. */
async function open(sealed: Buffer, plainLength: number, range?: ByteRange, opts: { k?: Buffer; b?: Buffer; reader?: SealedReader } = {}): Promise<Opened> {
  const reads: Array<[number, number]> = [];
  const reader: SealedReader = opts.reader ?? ((s, e) => {
    reads.push([s, e]);
    return Readable.from(chunked(sealed.subarray(s, e + 1), 40_000));
  });
  const parts: Buffer[] = [];
  let error: unknown;
  try {
    for await (const c of openRange(opts.k ?? key, opts.b ?? binding, plainLength, range, reader)) parts.push(c as Buffer);
  } catch (err) {
    error = err;
  }
  return { plain: Buffer.concat(parts), error, reads };
}

async function roundTrip(plain: Buffer, maxChunk?: number): Promise<void> {
  const sealed = await seal(plain, maxChunk === undefined ? {} : { maxChunk });
  assert.equal(sealed.length, sealedLength(plain.length));
  assert.equal(plainLengthOf(sealed.length), plain.length);
  const opened = await open(sealed, plain.length);
  assert.equal(opened.error, undefined);
  assert.ok(opened.plain.equals(plain), `round trip of ${plain.length} bytes`);
}

function flip(buf: Buffer, byte: number, bit = 0): Buffer {
  const t = Buffer.from(buf);
  t[byte]! ^= 1 << bit;
  return t;
}

function assertFails(opened: Opened, failure: SealedDataError['failure'], goodPrefix = 0): void {
  assert.ok(opened.error instanceof SealedDataError, `expected SealedDataError, got ${String(opened.error)}`);
  assert.equal(opened.error.failure, failure);
  // Nothing from the bad package or later: at most the packages before it.
  assert.ok(opened.plain.length <= goodPrefix, `emitted ${opened.plain.length} bytes, at most ${goodPrefix} allowed`);
}

describe('S3 object packages: sizes', () => {
  it('an object of n bytes seals to header + one tag per 64 KiB package (at least one) + n', () => {
    assert.equal(sealedLength(0), HEADER + TAG);
    assert.equal(sealedLength(1), HEADER + TAG + 1);
    assert.equal(sealedLength(P), HEADER + TAG + P);
    assert.equal(sealedLength(P + 1), HEADER + 2 * TAG + P + 1);
    assert.equal(sealedLength(3 * P), HEADER + 3 * TAG + 3 * P);
    assert.throws(() => sealedLength(-1), RangeError);
    assert.throws(() => sealedLength(1.5), RangeError);
  });

  it('plainLengthOf inverts sealedLength and refuses sizes no object seals to', () => {
    for (const n of [0, 1, 2, P - 1, P, P + 1, 2 * P, 3 * P + 7, 5 * 1024 ** 4]) assert.equal(plainLengthOf(sealedLength(n)), n);
    for (const s of [0, HEADER, HEADER + TAG - 1, HEADER + P + TAG + 1, HEADER + P + 2 * TAG]) assert.equal(plainLengthOf(s), undefined, `${s}`);
  });
});

describe('S3 object packages: round trips', () => {
  for (const n of [0, 1, P - 1, P, P + 1, 3 * P]) {
    it(`round-trips ${n} bytes written in one chunk and in random chunks`, async () => {
      const plain = randomBytes(n);
      await roundTrip(plain);
      await roundTrip(plain, 5000);
      await roundTrip(plain, 200_000);
    });
  }

  it('round-trips random sizes up to 1 MiB with random chunkings, and seals the same plaintext differently each time', async () => {
    for (let t = 0; t < 12; t++) {
      const plain = randomBytes(randomInt(0, 1024 * 1024 + 1));
      await roundTrip(plain, randomInt(1, 300_000));
    }
    const plain = randomBytes(1000);
    assert.ok(!(await seal(plain)).equals(await seal(plain)));
  });

  it('takes the key as SecretBytes too, and refuses keys that are not 256 bits', async () => {
    const plain = randomBytes(100);
    const sealed = await seal(plain, { k: SecretBytes.adopt(Buffer.from(key)) });
    assert.ok((await open(sealed, 100)).plain.equals(plain));
    assert.throws(() => createSealer(randomBytes(16), binding), RangeError);
    assert.throws(() => openRange(randomBytes(31), binding, 1, undefined, () => Readable.from([])), RangeError);
  });
});

describe('S3 object packages: ranges', () => {
  const n = 3 * P + 100;
  const plain = randomBytes(n);
  const sealedP = seal(plain, { maxChunk: 70_000 });
  const pkgStart = (i: number) => HEADER + i * (P + TAG);

  const shapes: Array<[string, ByteRange, number, number]> = [
    // name, range, first package, last package
    ['the first byte', { start: 0, end: 0 }, 0, 0],
    ['the last byte', { start: n - 1, end: n - 1 }, 3, 3],
    ['a few bytes inside package 0', { start: 5, end: 10 }, 0, 0],
    ['exactly one whole package', { start: P, end: 2 * P - 1 }, 1, 1],
    ['the first byte of a package', { start: P, end: P }, 1, 1],
    ['the last byte of a package', { start: 2 * P - 1, end: 2 * P - 1 }, 1, 1],
    ['two bytes across a boundary', { start: P - 1, end: P }, 0, 1],
    ['a span across three packages', { start: P - 1, end: 3 * P }, 0, 3],
    ['from inside package 1 across packages', { start: P + 17, end: 3 * P + 5 }, 1, 3],
    ['the short last package', { start: 3 * P, end: n - 1 }, 3, 3],
    ['the whole object', { start: 0, end: n - 1 }, 0, 3],
  ];
  for (const [name, range, first, last] of shapes) {
    it(`emits exactly ${name}, reading only the header and the packages it touches`, async () => {
      const sealed = await sealedP;
      const opened = await open(sealed, n, range);
      assert.equal(opened.error, undefined);
      assert.ok(opened.plain.equals(plain.subarray(range.start, range.end + 1)));
      const lastEnd = Math.min(pkgStart(last + 1), sealed.length) - 1;
      const expected: Array<[number, number]> = first === 0 ? [[0, lastEnd]] : [[0, HEADER - 1], [pkgStart(first), lastEnd]];
      assert.deepEqual(opened.reads, expected);
    });
  }

  it('reads everything, once, when no range is given (also for an empty object)', async () => {
    const sealed = await sealedP;
    const opened = await open(sealed, n);
    assert.ok(opened.plain.equals(plain));
    assert.deepEqual(opened.reads, [[0, sealed.length - 1]]);
    const empty = await seal(Buffer.alloc(0));
    const e = await open(empty, 0);
    assert.equal(e.error, undefined);
    assert.equal(e.plain.length, 0);
    assert.deepEqual(e.reads, [[0, HEADER + TAG - 1]]);
  });

  it('refuses ranges outside the object before reading anything', () => {
    const reader = () => assert.fail('must not read');
    for (const r of [{ start: 0, end: n }, { start: 5, end: 4 }, { start: -1, end: 3 }, { start: 0.5, end: 3 }]) {
      assert.throws(() => openRange(key, binding, n, r, reader), RangeError);
    }
    assert.throws(() => openRange(key, binding, 0, { start: 0, end: 0 }, reader), RangeError);
  });
});

describe('S3 object packages: tampering', () => {
  const n = 2 * P + 300; // three packages: full, full, short (final)
  const plain = randomBytes(n);
  const sealedP = seal(plain);
  const pkg = (i: number) => HEADER + i * (P + TAG);

  it('detects a flipped bit in every region: header magic, version, size, stream nonce, each body and each tag', async () => {
    const sealed = await sealedP;
    const spots: Array<[string, number, number]> = [
      // region, byte, packages that may still be emitted before the failure (0: none)
      ['magic', 0, 0],
      ['version', 2, 0],
      ['package size', 3, 0],
      ['stream nonce, first byte', 4, 0],
      ['stream nonce, counter bytes', 15, 0],
      ['package 0 body', pkg(0) + 123, 0],
      ['package 0 tag', pkg(1) - 1, 0],
      ['package 1 body', pkg(1), 1],
      ['package 1 tag', pkg(2) - TAG, 1],
      ['package 2 body', pkg(2) + 299, 2],
      ['package 2 tag', sealed.length - 1, 2],
    ];
    for (const [region, byte, good] of spots) {
      for (const bit of [0, 7]) {
        const opened = await open(flip(sealed, byte, bit), n);
        assert.ok(opened.error instanceof SealedDataError, `${region} bit ${bit}`);
        assert.ok(opened.plain.length <= good * P, `${region}: no plaintext from the bad package`);
        assert.ok(opened.plain.equals(plain.subarray(0, opened.plain.length)));
      }
    }
  });

  it('detects every single-bit flip of small objects (empty, one byte)', async () => {
    for (const size of [0, 1]) {
      const sealed = await seal(randomBytes(size));
      for (let bit = 0; bit < sealed.length * 8; bit++) {
        assertFails(await open(flip(sealed, bit >> 3, bit & 7), size), bit < 32 ? 'header' : 'authentication');
      }
    }
  });

  it('emits nothing of a range whose package is bad', async () => {
    const sealed = flip(await sealedP, pkg(1) + 10);
    assertFails(await open(sealed, n, { start: P + 5, end: P + 20 }), 'authentication');
    assertFails(await open(sealed, n, { start: P - 10, end: P + 20 }), 'authentication', 10); // package 0 is good
    assert.equal((await open(sealed, n, { start: 2 * P, end: n - 1 })).error, undefined, 'other packages still open');
  });

  it('detects two packages swapped', async () => {
    const sealed = await sealedP;
    const a = sealed.subarray(pkg(0), pkg(1));
    const b = sealed.subarray(pkg(1), pkg(2));
    const swapped = Buffer.concat([sealed.subarray(0, HEADER), b, a, sealed.subarray(pkg(2))]);
    assertFails(await open(swapped, n), 'authentication');
    assertFails(await open(swapped, n, { start: P, end: P + 1 }), 'authentication');
  });

  it('detects a truncation at a package boundary, even though what is left is well-formed', async () => {
    const full = await seal(randomBytes(3 * P));
    const cut = full.subarray(0, pkg(2));
    // The metadata still says 3 packages: the bytes run out.
    assertFails(await open(cut, 3 * P), 'truncated', 2 * P);
    // Metadata rewritten to match the cut: package 1 was not sealed as final.
    assertFails(await open(cut, 2 * P), 'authentication', P);
    // Down to the header alone: an empty object still needs its (empty, final) package.
    assertFails(await open(full.subarray(0, HEADER), 0), 'truncated');
    assertFails(await open(full.subarray(0, HEADER - 1), 0), 'truncated');
  });

  it('detects an extension: packages appended, or a reader returning more than asked', async () => {
    const sealed = await seal(randomBytes(P)); // one full, final package
    const again = await seal(randomBytes(P));
    // A package appended from another stream under the same key, the recorded size grown to match.
    const appended = Buffer.concat([sealed, again.subarray(HEADER)]);
    assertFails(await open(appended, 2 * P), 'authentication');
    // A reader that ignores the range.
    const sloppy: SealedReader = () => Readable.from([Buffer.concat([sealed, Buffer.from('x')])]);
    assertFails(await open(sealed, P, undefined, { reader: sloppy }), 'extended', P);
  });

  it('does not open under another binding or another key, nor with a package moved from another object', async () => {
    const sealed = await sealedP;
    assertFails(await open(sealed, n, undefined, { b: Buffer.from('bucket/key/version/part-2') }), 'authentication');
    assertFails(await open(sealed, n, undefined, { b: Buffer.alloc(0) }), 'authentication');
    assertFails(await open(sealed, n, undefined, { k: randomBytes(32) }), 'authentication');
    const other = await seal(randomBytes(n), { b: Buffer.from('bucket/other') });
    const mixed = Buffer.concat([sealed.subarray(0, pkg(1)), other.subarray(pkg(1), pkg(2)), sealed.subarray(pkg(2))]);
    assertFails(await open(mixed, n), 'authentication', P);
    // The same binding and key but another stream (another nonce) is still another object.
    const sibling = await seal(randomBytes(n));
    const mixed2 = Buffer.concat([sealed.subarray(0, pkg(1)), sibling.subarray(pkg(1), pkg(2)), sealed.subarray(pkg(2))]);
    assertFails(await open(mixed2, n), 'authentication', P);
  });

  it('releases the sealed source when the consumer stops early', async () => {
    const sealed = await seal(randomBytes(4 * P));
    let source: Readable | undefined;
    const opened = openRange(key, binding, 4 * P, undefined, (s, e) => (source = Readable.from(chunked(sealed.subarray(s, e + 1), 1000))));
    for await (const c of opened) {
      assert.ok((c as Buffer).length > 0);
      break; // destroys `opened`
    }
    await new Promise((r) => setImmediate(r));
    assert.equal(source?.destroyed, true);
  });

  it('passes the reader’s own errors through unchanged', async () => {
    const boom = new Error('disk on fire');
    const failing: SealedReader = () => new Readable({ read() { this.destroy(boom); } });
    const opened = await open(await sealedP, n, undefined, { reader: failing });
    assert.equal(opened.error, boom);
  });
});

describe('S3 object packages: memory', () => {
  it('seals and opens 256 MiB streamed from a generator in flat memory', async () => {
    const total = 256 * 1024 * 1024;
    const chunk = 1024 * 1024 + 7; // not a multiple of the package size
    async function* source() {
      for (let sent = 0; sent < total; ) {
        const n = Math.min(chunk, total - sent);
        const b = Buffer.allocUnsafe(n);
        b.fill(sent & 0xff);
        sent += n;
        yield b;
      }
    }
    global.gc?.();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakHeap = before.heapUsed;
    const sample = () => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    };
    let sealedBytes = 0;
    const counted = new Transform({
      transform(c: Buffer, _e, done) {
        sealedBytes += c.length;
        done(null, c);
      },
    });
    const feeding = pipeline(Readable.from(source()), createSealer(key, binding), counted);
    let reads = 0;
    // The sealed stream is opened as it is produced: nothing is stored, so any growth is buffering.
    const opened = openRange(key, binding, total, undefined, () => {
      reads++;
      return counted;
    });
    let plainBytes = 0;
    let i = 0;
    await Promise.all([
      feeding,
      pipeline(
        opened,
        new Writable({
          write(c: Buffer, _e, done) {
            plainBytes += c.length;
            if (++i % 64 === 0) sample();
            done();
          },
        }),
      ),
    ]);
    sample();
    assert.equal(reads, 1);
    assert.equal(plainBytes, total);
    assert.equal(sealedBytes, sealedLength(total));
    const mib = (b: number) => Math.round(b / 1024 / 1024);
    assert.ok(peakRss - before.rss < 64 * 1024 * 1024, `RSS grew by ${mib(peakRss - before.rss)} MiB`);
    assert.ok(peakHeap - before.heapUsed < 64 * 1024 * 1024, `heap grew by ${mib(peakHeap - before.heapUsed)} MiB`);
  });
});

describe('sealBuffer (small objects sealed in one call)', () => {
  it('has the streaming format\'s length and opens with the same opener, for one and several packages', async () => {
    const key = Buffer.alloc(32, 9);
    const binding = Buffer.from('bucket/key/1');
    for (const size of [0, 1, 1000, 64 * 1024, 64 * 1024 + 1, 200_000]) {
      const plain = Buffer.alloc(size, 0x5a);
      const sealed = sealBuffer(key, binding, plain);
      assert.equal(sealed.length, sealedLength(size), `size ${size}`);
      const parts: Buffer[] = [];
      for await (const c of openRange(key, binding, size, undefined, (s, e) => Readable.from([sealed.subarray(s, e + 1)]))) parts.push(c as Buffer);
      assert.ok(Buffer.concat(parts).equals(plain), `size ${size}`);
    }
  });
});

/**
 * The floor for `npm run bench:s3`: a bare node:http (or node:https) server that stores and streams files,
 * unencrypted, and does nothing else — no authentication, no metadata store, no audit.
 *
 * - PUT /<bucket>/<key>: streams the body to <dir>/<bucket>/<key, URI-encoded into one file name>, computing
 *   its MD5 on the way (the ETag an S3 server answers for an unencrypted object, and what Strongroom computes
 *   too), and answers 200 with that ETag once the file is closed — after an fsync of the file unless
 *   started with --no-fsync (Strongroom answers only once its blob is fsynced, so the default floor does too).
 * - GET /<bucket>/<key>: streams the file back (200 with Content-Length), or 404.
 *
 * Usage: node dist/bench/bare-s3-server.js <dir> [--no-fsync] [--tls-cert <pem> --tls-key <pem>]
 * Prints "bare-s3 listening on http(s)://127.0.0.1:PORT" once listening; exits on SIGTERM/SIGINT.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer as createHttpServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

interface Options {
  readonly dir: string;
  readonly fsync: boolean;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

function parseArgs(argv: readonly string[]): Options {
  const dir = argv[0];
  if (!dir || dir.startsWith('--')) throw new Error('usage: bare-s3-server.js <dir> [--no-fsync] [--tls-cert <pem> --tls-key <pem>]');
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i < 0 ? undefined : argv[i + 1];
  };
  const cert = value('--tls-cert');
  const key = value('--tls-key');
  return {
    dir,
    fsync: !argv.includes('--no-fsync'),
    ...(cert && key ? { tls: { cert: readFileSync(cert), key: readFileSync(key) } } : {}),
  };
}

/** Counts into an MD5 the bytes that pass. */
class Md5Tap extends Transform {
  readonly hash = createHash('md5');
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    done(null, chunk);
  }
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const dirs = new Set<string>();

  /** /<bucket>/<key> → the file; undefined for anything else. */
  const fileOf = (url: string | undefined): string | undefined => {
    const path = (url ?? '').split('?', 1)[0]!;
    const slash = path.indexOf('/', 1);
    if (slash < 0 || slash === path.length - 1) return undefined;
    const bucket = path.slice(1, slash);
    if (!/^[a-z0-9.-]+$/.test(bucket)) return undefined;
    const dir = join(o.dir, bucket);
    if (!dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      dirs.add(dir);
    }
    // One flat file per key: its path segments (already URI-encoded on the wire) encoded once more.
    return join(dir, encodeURIComponent(path.slice(slash + 1)));
  };

  const put = async (req: IncomingMessage, res: ServerResponse, file: string) => {
    const md5 = new Md5Tap();
    // flush: fsync before close (Node ≥ 20.10), so the 200 means the bytes are on disk.
    await pipeline(req, md5, createWriteStream(file, { flush: o.fsync }));
    res.writeHead(200, { etag: `"${md5.hash.digest('hex')}"` }).end();
  };

  const get = async (res: ServerResponse, file: string) => {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      res.writeHead(404, { 'content-length': '0' }).end();
      return;
    }
    res.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' });
    await pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), res);
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const file = fileOf(req.url);
    const fail = (err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-length': '0' }).end();
      else res.destroy(err instanceof Error ? err : undefined);
    };
    if (file && req.method === 'PUT') {
      put(req, res, file).catch(fail);
    } else if (file && (req.method === 'GET' || req.method === 'HEAD')) {
      req.resume();
      get(res, file).catch(fail);
    } else {
      req.resume();
      req.on('end', () => res.writeHead(400, { 'content-length': '0' }).end());
    }
  };

  const server: Server = o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, handler) : createHttpServer(handler);
  // Strongroom's own server keeps idle keep-alive connections for as long as node:http's default; so does this one.
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`bare-s3 listening on ${o.tls ? 'https' : 'http'}://127.0.0.1:${port} (fsync ${o.fsync ? 'on' : 'off'})\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();

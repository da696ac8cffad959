import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Logger } from 'pino';
import { NbdConfig } from '../../config/nbd.js';
import { VolumeExports } from '../../core/volumes/block-device.js';
import { ListenError } from '../../http/listen-check.js';
import { NbdServer } from './server.js';

/**
 * Starts the NBD server the configuration asks for; resolves to it and the URL clients use (nbd:// or, with
 * TLS, nbds://; the export name is the volume id). Under node:cluster every worker listens on the same port and
 * the primary hands connections out; one client per volume holds across them (VolumeExports.open).
 */
export async function startNbd(config: NbdConfig, exports: VolumeExports, log: Logger): Promise<{ server: NbdServer; url: string }> {
  const tls = config.tls
    ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), ca: readFileSync(config.tls.caFile) }
    : undefined;
  const server = new NbdServer({ exports, log, ...(tls ? { tls } : {}) });
  try {
    const { port } = await server.listen(config.port, config.host);
    return { server, url: nbdUrlOf(config, port) };
  } catch (err) {
    await server.close().catch(() => undefined);
    throw nbdListenError(err as NodeJS.ErrnoException, config);
  }
}

/** The URL NBD clients use for a server of `config` listening on `port` (nbds:// with TLS; the export name follows). */
export function nbdUrlOf(config: NbdConfig, port: number): string {
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `${config.tls ? 'nbds' : 'nbd'}://${host}:${port}`;
}

export function nbdListenError(err: NodeJS.ErrnoException, config: NbdConfig): Error {
  const where = `${config.host}:${config.port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new ListenError(`NBD: port ${config.port} is in use on ${config.host} (another process listens there): choose another with --nbd-listen (or STRONGROOM_NBD_LISTEN)`);
    case 'EACCES':
      return new ListenError(`NBD: ${where} needs privileges this process does not have: choose a port above 1023 with --nbd-listen`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError(`NBD: cannot listen on ${config.host}: not an address of this machine; choose another with --nbd-listen`);
    default:
      return err;
  }
}

/**
 * Fails with a ListenError when the NBD address cannot be listened on (as assertCanListen does for the HTTP
 * port): checked before anything is created, so a busy NBD port costs nothing but the message.
 */
export async function assertNbdCanListen(config: NbdConfig): Promise<void> {
  if (config.port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err: NodeJS.ErrnoException) => reject(nbdListenError(err, config)));
    probe.listen({ host: config.host, port: config.port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

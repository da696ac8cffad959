import { createServer } from 'node:net';

/** The server cannot listen where it was asked to: one line says why and which setting to change. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}

/** A listen failure (EADDRINUSE, EACCES, EADDRNOTAVAIL, ENOTFOUND) as the line the user reads. */
export function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  switch (err.code) {
    case 'EADDRINUSE':
      return new ListenError(`port ${port} is in use on ${host} (another process listens there): choose another with --port (or STRONGROOM_PORT)`);
    case 'EACCES':
      return new ListenError(`port ${port} on ${host} needs privileges this process does not have: choose a port above 1023 with --port (or STRONGROOM_PORT)`);
    case 'EADDRNOTAVAIL':
      return new ListenError(`cannot listen on ${host}: it is not an address of this machine; choose another with --host (or STRONGROOM_HOST)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError(`cannot listen on ${host}: the name does not resolve; choose another with --host (or STRONGROOM_HOST)`);
    default:
      return err;
  }
}

/**
 * Fails with a ListenError when host:port cannot be listened on, by listening there and closing again: run
 * before anything is created (data dir, keys, credentials), so a busy port costs nothing but the message.
 * Port 0 (any free port) cannot be busy. A process that takes the port in between is still caught by the
 * real listen (main.ts maps its error the same way).
 */
export async function assertCanListen(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, host, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

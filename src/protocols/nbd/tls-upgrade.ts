import { Socket } from 'node:net';
import { Server as TlsServer, TLSSocket, createServer as createTlsServer } from 'node:tls';
import { ProtocolViolation } from './protocol-violation.js';

/**
 * NBD_OPT_STARTTLS (proto.md "TLS support"): the TCP connection of a client already in option haggling becomes a
 * TLS server socket. The upgrade goes through a tls.Server that never listens — handed the socket as a new
 * connection — because only tls.Server checks the client's certificate against the CA (requestCert +
 * rejectUnauthorized: a client without a certificate, or with one the CA did not sign, never gets through).
 */
export class TlsUpgrader {
  private readonly server: TlsServer;
  /** Upgrades in progress by the TCP connection's remote address and port (unique on one listener). */
  private readonly pending = new Map<string, (socket: TLSSocket) => void>();

  constructor(tls: { readonly cert: Buffer; readonly key: Buffer; readonly ca: Buffer }) {
    this.server = createTlsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    this.server.on('secureConnection', (secure: TLSSocket) => {
      const done = this.pending.get(key(secure));
      if (done && secure.authorized) done(secure);
      else secure.destroy();
    });
    // A failed handshake: the raw socket closes, which ends the wait below.
    this.server.on('tlsClientError', (_err, secure: TLSSocket) => secure.destroy());
  }

  upgrade(socket: Socket): Promise<TLSSocket> {
    const id = key(socket);
    return new Promise<TLSSocket>((resolve, reject) => {
      const closed = () => {
        this.pending.delete(id);
        reject(new ProtocolViolation('TLS handshake failed (no valid client certificate?)'));
      };
      socket.once('close', closed);
      this.pending.set(id, (secure) => {
        this.pending.delete(id);
        socket.off('close', closed);
        resolve(secure);
      });
      this.server.emit('connection', socket);
    });
  }
}

function key(s: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string {
  return `${s.remoteAddress}|${s.remotePort}`;
}

import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { ConfigError } from './config.js';

/** Where the NBD server listens (src/protocols/nbd) and, off loopback, its TLS. */
export interface NbdConfig {
  readonly host: string;
  readonly port: number;
  /** PEM files: the server's certificate and key, and the CA that signs the clients' certificates. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

export interface NbdFlags {
  nbdListen?: string;
  nbdTlsCert?: string;
  nbdTlsKey?: string;
  nbdTlsCa?: string;
}

/** The IANA port of NBD; what `--nbd-listen` uses when only an address is given. */
export const NBD_DEFAULT_PORT = 10809;

/**
 * `--nbd-listen` (STRONGROOM_NBD_LISTEN): `off` (the default), `PORT` (on 127.0.0.1), `HOST:PORT`, `[IPv6]:PORT` or
 * `HOST` (port 10809). Off loopback, TLS with client certificates is required: `--nbd-tls-cert`, `--nbd-tls-key`
 * and `--nbd-tls-ca` (STRONGROOM_NBD_TLS_CERT/_KEY/_CA), or the server refuses to start. With them on loopback,
 * TLS is required there too.
 */
export function loadNbdConfig(flags: NbdFlags, env: NodeJS.ProcessEnv = process.env): NbdConfig | undefined {
  const listen = (flags.nbdListen ?? env.STRONGROOM_NBD_LISTEN ?? 'off').trim();
  const certFile = nonEmpty(flags.nbdTlsCert ?? env.STRONGROOM_NBD_TLS_CERT);
  const keyFile = nonEmpty(flags.nbdTlsKey ?? env.STRONGROOM_NBD_TLS_KEY);
  const caFile = nonEmpty(flags.nbdTlsCa ?? env.STRONGROOM_NBD_TLS_CA);
  const given = [certFile, keyFile, caFile].filter((f) => f !== undefined).length;
  if (given !== 0 && given !== 3) throw new ConfigError('--nbd-tls-cert, --nbd-tls-key and --nbd-tls-ca go together (the CA signs the clients\' certificates)');
  if (listen === 'off' || listen === '') {
    if (given > 0) throw new ConfigError('--nbd-tls-cert/--nbd-tls-key/--nbd-tls-ca need --nbd-listen (STRONGROOM_NBD_LISTEN)');
    return undefined;
  }
  const { host, port } = parseListen(listen);
  const tls = certFile && keyFile && caFile ? { certFile: resolve(certFile), keyFile: resolve(keyFile), caFile: resolve(caFile) } : undefined;
  if (!tls && !isLoopback(host)) {
    throw new ConfigError(
      `--nbd-listen ${listen} is not a loopback address: volumes are exported there only over TLS with client certificates; ` +
        'give --nbd-tls-cert, --nbd-tls-key and --nbd-tls-ca (STRONGROOM_NBD_TLS_CERT, _KEY, _CA)',
    );
  }
  return { host, port, ...(tls ? { tls } : {}) };
}

function parseListen(value: string): { host: string; port: number } {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (v6) [host, portText] = [v6[1]!, v6[2]];
  else if (/^\d+$/.test(value)) [host, portText] = ['127.0.0.1', value];
  else if (value.split(':').length === 2) [host, portText] = value.split(':') as [string, string];
  else if (isIP(value) === 6) [host, portText] = [value, undefined];
  else [host, portText] = [value, undefined];
  const port = portText === undefined ? NBD_DEFAULT_PORT : Number(portText);
  if (host === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`--nbd-listen (STRONGROOM_NBD_LISTEN) ${value}: expected off, PORT, HOST, HOST:PORT or [IPv6]:PORT`);
  }
  return { host, port };
}

/** Only these stay on the machine; anything else (0.0.0.0, ::, a LAN address, a name) may be reached from outside. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

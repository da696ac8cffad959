import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Throwaway certificates for the NBD TLS tests (openssl): a CA, a server certificate for 127.0.0.1 and a client
 * certificate it signed, laid out as libnbd's `tls-certificates=DIR` wants them (ca-cert.pem, client-cert.pem,
 * client-key.pem); plus `rogue/`, a client certificate from another CA, which the server must refuse.
 */
export interface NbdCerts {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A directory like `dir` whose client certificate no trusted CA signed. */
  readonly rogueDir: string;
}

export function makeNbdCerts(root: string): NbdCerts {
  const dir = join(root, 'pki');
  const rogueDir = join(root, 'rogue');
  mkdirSync(dir, { recursive: true });
  mkdirSync(rogueDir, { recursive: true });
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  const ca = (d: string, prefix: string, cn: string) =>
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(d, `${prefix}-key.pem`), '-out', join(d, `${prefix}-cert.pem`), '-days', '1', '-subj', `/CN=${cn}`);
  const issue = (d: string, name: string, cn: string, ext: string, caPrefix = 'ca') => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(d, `${name}-key.pem`), '-out', join(d, `${name}.csr`), '-subj', `/CN=${cn}`);
    const extFile = join(d, `${name}.ext`);
    execFileSync('sh', ['-c', `printf '%s\\n' "${ext}" > "${extFile}"`]);
    ssl('x509', '-req', '-in', join(d, `${name}.csr`), '-CA', join(d, `${caPrefix}-cert.pem`), '-CAkey', join(d, `${caPrefix}-key.pem`), '-CAcreateserial', '-out', join(d, `${name}-cert.pem`), '-days', '1', '-extfile', extFile);
  };
  ca(dir, 'ca', 'strongroom test nbd CA');
  issue(dir, 'server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  issue(dir, 'client', 'nbd test client', 'extendedKeyUsage=clientAuth');
  // The rogue client trusts the server's CA (ca-cert.pem), so that only its own certificate is what fails.
  ca(rogueDir, 'rogue-ca', 'some other CA');
  issue(rogueDir, 'client', 'rogue client', 'extendedKeyUsage=clientAuth', 'rogue-ca');
  execFileSync('cp', [join(dir, 'ca-cert.pem'), join(rogueDir, 'ca-cert.pem')]);
  return {
    dir,
    caCert: join(dir, 'ca-cert.pem'),
    serverCert: join(dir, 'server-cert.pem'),
    serverKey: join(dir, 'server-key.pem'),
    clientCert: join(dir, 'client-cert.pem'),
    clientKey: join(dir, 'client-key.pem'),
    rogueDir,
  };
}

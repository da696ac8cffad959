import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Where `serve --tls-self-signed` keeps its certificate: `<dataDir>/tls/cert.pem` and `key.pem` (0600). */
export function selfSignedFiles(dataDir: string): { certFile: string; keyFile: string } {
  return { certFile: join(dataDir, 'tls', 'cert.pem'), keyFile: join(dataDir, 'tls', 'key.pem') };
}

/** The names the certificate is made for: localhost, 127.0.0.1 and ::1, and the listen address (or, on a wildcard one, this machine's name). */
export function selfSignedNames(host: string): string[] {
  const names = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];
  const wildcard = host === '0.0.0.0' || host === '::';
  const extra = wildcard ? `DNS:${hostname()}` : isIP(host) ? `IP:${host}` : `DNS:${host}`;
  if (!names.includes(extra)) names.push(extra);
  return names;
}

/**
 * Makes a self-signed certificate (P-256, valid a year) for `selfSignedNames(host)` the first time; later starts
 * reuse it, so clients that trust it keep working (delete `<dataDir>/tls` for a new one). Node cannot make X.509
 * certificates, so this runs `openssl req -x509` (OpenSSL ≥ 1.1.1, for -addext); its default configuration marks
 * the certificate CA:TRUE, which lets clients use the certificate itself as their CA bundle (AWS_CA_BUNDLE,
 * NODE_EXTRA_CA_CERTS). The data dir must exist. Returns whether a certificate was made.
 */
export function ensureSelfSignedCertificate(dataDir: string, host: string): boolean {
  const { certFile, keyFile } = selfSignedFiles(dataDir);
  if (existsSync(certFile) && existsSync(keyFile)) return false;
  mkdirSync(join(dataDir, 'tls'), { recursive: true, mode: 0o700 });
  const tmpCert = `${certFile}.tmp`;
  const tmpKey = `${keyFile}.tmp`;
  const names = selfSignedNames(host);
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-sha256', '-days', '365',
        '-keyout', tmpKey, '-out', tmpCert, '-subj', '/CN=Strongroom self-signed', '-addext', `subjectAltName=${names.join(',')}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    rmSync(tmpCert, { force: true });
    rmSync(tmpKey, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SelfSignedError('--tls-self-signed runs openssl to make the certificate (Node cannot), and openssl is not installed: install it, or pass --tls-cert and --tls-key');
    }
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim().split('\n')[0] ?? '';
    throw new SelfSignedError(`openssl could not make the self-signed certificate: ${stderr || (err as Error).message}`);
  }
  chmodSync(tmpKey, 0o600);
  renameSync(tmpKey, keyFile);
  renameSync(tmpCert, certFile);
  return true;
}

export class SelfSignedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelfSignedError';
  }
}

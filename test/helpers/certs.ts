// Certificates made at test time with the openssl command line (scripts/setup.sh installs it): a CA,
// a collector certificate it signed (SAN 127.0.0.1 and localhost), a client certificate it signed,
// and an unrelated self-signed certificate. EC P-256 keys: fast to make.
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** self-signed, unrelated to the CA */
  otherCert: string;
  otherKey: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function key(dir: string, name: string): string {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir);
  return join(dir, `${name}.key`);
}

function signed(dir: string, name: string, subject: string, ext: string): void {
  key(dir, name);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir);
}

export function makePki(dir: string): TestPki {
  key(dir, 'ca');
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=goalkeeper test CA', '-days', '2', '-out', 'ca.crt'], dir);
  signed(dir, 'server', '/CN=collector', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed(dir, 'client', '/CN=gw1', 'extendedKeyUsage=clientAuth\n');
  key(dir, 'other');
  openssl(['req', '-x509', '-new', '-key', 'other.key', '-subj', '/CN=impostor', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-days', '2', '-out', 'other.crt'], dir);
  const p = (f: string): string => join(dir, f);
  return {
    dir, caCert: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key'), clientCert: p('client.crt'),
    clientKey: p('client.key'), otherCert: p('other.crt'), otherKey: p('other.key'),
  };
}

/** sha256 hex of a PEM certificate's SubjectPublicKeyInfo, computed with openssl (independent of the agent's code). */
export function spkiPin(certFile: string): string {
  const pub = execFileSync('openssl', ['x509', '-in', certFile, '-pubkey', '-noout']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  return createHash('sha256').update(der).digest('hex');
}

/** sha256 of the DER certificate, as `openssl x509 -fingerprint -sha256` prints it (colons). */
export function certFingerprint(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

// A throw-away certificate authority for tests, made with the openssl CLI: a server certificate
// for 127.0.0.1 / localhost, and client certificates for mutual TLS.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const openssl = (...args: string[]) => run('openssl', args);
// -subj on the command line, so that openssl never prompts.
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
}

export async function createTestCa(folder: string) {
  const file = (name: string) => path.join(folder, name);
  await openssl(
    'req',
    '-x509',
    ...EC_KEY,
    '-subj',
    '/CN=mfa-gateway test CA',
    '-days',
    '2',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  );

  /** A certificate signed by the CA, with `extensions` (an openssl extfile line). */
  async function issue(name: string, subject: string, extensions: string): Promise<IssuedCertificate> {
    await openssl(
      'req',
      '-new',
      ...EC_KEY,
      '-subj',
      subject,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
    );
    await writeFile(file(`${name}.ext`), `${extensions}\n`);
    await openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.pem`),
    );
    return { certFile: file(`${name}.pem`), keyFile: file(`${name}.key`) };
  }

  return {
    caFile: file('ca.pem'),
    server: () => issue('server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost'),
    client: (name: string, subject: string) => issue(name, subject, 'extendedKeyUsage=clientAuth'),
  };
}

/** The SHA-256 fingerprint of a certificate as openssl prints it (`AB:CD:...`). */
export async function fingerprintOf(certFile: string): Promise<string> {
  const { stdout } = await run('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', certFile]);
  return stdout.trim().split('=')[1] ?? '';
}

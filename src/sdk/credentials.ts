// Who is calling the SDK: a client certificate the TLS listener verified, else a bearer token, else
// HTTP Basic (account name and token). Every failure is the same 401, so a caller learns nothing
// about which accounts exist.
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import type { ServiceAccounts } from '../core/accounts/service-accounts.ts';
import type { ServiceAccount } from '../core/ports.ts';

function verifiedCertificate(request: FastifyRequest): { fingerprint: string; subject: string } | undefined {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (!socket.authorized || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert?.fingerprint256) return undefined;
  const subject = Object.entries(cert.subject ?? {})
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(',');
  return { fingerprint: cert.fingerprint256, subject };
}

export async function callerOf(
  request: FastifyRequest,
  accounts: Pick<ServiceAccounts, 'byToken' | 'byNameAndToken' | 'byCertificate'>,
): Promise<ServiceAccount | undefined> {
  const certificate = verifiedCertificate(request);
  if (certificate) {
    const account = await accounts.byCertificate(certificate.fingerprint, certificate.subject);
    if (account) return account;
  }
  const header = request.headers.authorization?.trim() ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer?.[1]) return accounts.byToken(bearer[1]);
  const basic = /^Basic\s+([A-Za-z0-9+/]+=*)$/i.exec(header);
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return accounts.byNameAndToken(decoded.slice(0, colon), decoded.slice(colon + 1));
  }
  return undefined;
}

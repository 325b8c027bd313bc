// Who the client is (DESIGN §6 rule 2): the socket peer, unless that peer is a trusted proxy, in
// which case X-Forwarded-For is read right to left through trusted proxies only. Entries left of
// the first untrusted one were written by the client and are never read, so no header can buy a
// trusted-network exemption.
import { MfaError } from '../core/errors.ts';
import { type NetworkList, normaliseAddress } from '../core/policy/networks.ts';

export interface ResolvedClient {
  address: string;
  scheme: 'http' | 'https';
  /** The socket peer is a trusted proxy, so its X-Forwarded-* headers were believed. */
  viaProxy: boolean;
}

/** Repeated header lines form one list (RFC 9110 §5.3). */
function joined(header: string | string[] | undefined): string {
  return Array.isArray(header) ? header.join(',') : (header ?? '');
}

function forwardedClient(forwardedFor: string, trustedProxies: NetworkList): string | undefined {
  if (forwardedFor.trim() === '') return undefined;
  const entries = forwardedFor.split(',').map((entry) => entry.trim());
  for (let i = entries.length - 1; i >= 0; i--) {
    const address = normaliseAddress(entries[i] ?? '');
    // Reached while walking, so a trusted proxy wrote it: a proxy we trust that writes garbage is
    // a configuration error, and guessing past it could hand the client's choice of address back.
    if (address === undefined) throw new MfaError('input.invalid', { detail: 'malformed X-Forwarded-For' });
    if (!trustedProxies.contains(address) || i === 0) return address;
  }
  return undefined;
}

export function resolveClient(input: {
  socketAddress: string | undefined;
  forwardedFor: string | string[] | undefined;
  forwardedProto: string | string[] | undefined;
  trustedProxies: NetworkList;
  socketScheme: 'http' | 'https';
}): ResolvedClient {
  const { trustedProxies, socketScheme } = input;
  const peer = input.socketAddress === undefined ? undefined : normaliseAddress(input.socketAddress);
  if (peer === undefined) throw new MfaError('input.invalid', { detail: 'no socket address' });
  if (!trustedProxies.contains(peer)) return { address: peer, scheme: socketScheme, viaProxy: false };
  // A trusted proxy that sends no X-Forwarded-For is itself the client (health checks, for one).
  const address = forwardedClient(joined(input.forwardedFor), trustedProxies) ?? peer;
  const proto = joined(input.forwardedProto).split(',').at(-1)?.trim().toLowerCase();
  const scheme = proto === 'http' || proto === 'https' ? proto : socketScheme;
  return { address, scheme, viaProxy: true };
}

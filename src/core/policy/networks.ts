// Lists of networks (IP addresses and CIDRs, v4 and v6) and the one way client addresses are
// normalised before they are compared with them: trusted proxies, trusted networks and per-app
// networks all go through here, so an address cannot match one list and miss another by spelling.
import { BlockList, isIP } from 'node:net';

export interface NetworkList {
  /** False for anything that is not an IP address: an unparsable address is never trusted. */
  contains(address: string): boolean;
  readonly entries: readonly string[];
}

interface ParsedEntry {
  address: string;
  family: 'ipv4' | 'ipv6';
  /** Undefined for a single address. */
  prefix: number | undefined;
}

/**
 * The address as it is compared and logged: `::ffff:10.1.2.3` (how a dual-stack socket reports an
 * IPv4 peer) becomes `10.1.2.3`, IPv6 is lower-cased and compressed, a zone id (`%eth0`) is dropped.
 * Undefined when the text is not an IP address (no brackets, no port, no surrounding spaces).
 */
export function normaliseAddress(a: string): string | undefined {
  const family = isIP(a);
  if (family === 4) return a;
  if (family !== 6) return undefined;
  const zone = a.indexOf('%');
  const bare = zone === -1 ? a : a.slice(0, zone);
  // The WHATWG serialiser gives one spelling per IPv6 address (RFC 5952 style), whatever was sent.
  const compressed = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed);
  if (!mapped) return compressed;
  const high = Number.parseInt(mapped[1] ?? '', 16);
  const low = Number.parseInt(mapped[2] ?? '', 16);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

function parseEntry(entry: string): ParsedEntry | undefined {
  const parts = entry.split('/');
  if (parts.length > 2) return undefined;
  const [address = '', prefixText] = parts;
  // A zone id names an interface of one host; it has no meaning in a configured network.
  if (address.includes('%')) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address, family, prefix: undefined };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address, family, prefix };
}

function add(list: BlockList, parsed: ParsedEntry): void {
  if (parsed.prefix === undefined) list.addAddress(parsed.address, parsed.family);
  else list.addSubnet(parsed.address, parsed.prefix, parsed.family);
}

/** Accepts `10.0.0.1`, `::1`, `10.0.0.0/8`, `fd00::/8`; returns undefined for anything else. */
export function parseAddressOrCidr(entry: string): BlockList | undefined {
  const parsed = parseEntry(entry);
  if (!parsed) return undefined;
  const list = new BlockList();
  add(list, parsed);
  return list;
}

/** Throws on the first invalid entry, naming it: a network list that silently drops an entry fails open or shut by accident. */
export function createNetworkList(entries: readonly string[]): NetworkList {
  const list = new BlockList();
  for (const entry of entries) {
    const parsed = parseEntry(entry);
    if (!parsed) throw new Error(`'${entry}' is not an IP address or CIDR`);
    add(list, parsed);
  }
  const frozen = Object.freeze([...entries]);
  return {
    entries: frozen,
    contains(address: string): boolean {
      const normal = normaliseAddress(address);
      if (normal === undefined) return false;
      // BlockList also matches v4-mapped IPv6 against v4 rules, but one normal form keeps that explicit.
      return list.check(normal, isIP(normal) === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

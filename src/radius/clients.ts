// The RADIUS clients (NASes) this server answers, found by source address. The most specific
// network wins, so a site can give one NAS in a subnet its own secret and mode. An address that is
// no client's gets no answer at all.
import { BlockList } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { RadiusClientConfig } from '../config/schema.ts';
import { normaliseAddress } from '../core/policy/networks.ts';
import type { Attribute } from './packet.ts';
import { compileReplyAttributes } from './reply-attributes.ts';

export interface RadiusClient {
  name: string;
  /** Shown on the phone and in the audit log. */
  application: string;
  secret: Buffer;
  config: Readonly<RadiusClientConfig>;
  /** What an Access-Accept carries for a user in these directory groups. */
  replyAttributes(groups: readonly string[]): Attribute[];
}

interface Entry {
  client: RadiusClient;
  list: BlockList;
  family: 'ipv4' | 'ipv6';
  prefix: number;
}

function parseNetwork(address: string): Omit<Entry, 'client'> {
  const [ip = '', prefixText] = address.split('/');
  const normalised = normaliseAddress(ip);
  if (!normalised) throw new Error(`'${address}' is not an IP address or CIDR`);
  const family = normalised.includes(':') ? 'ipv6' : 'ipv4';
  const prefix = prefixText === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefixText);
  const list = new BlockList();
  list.addSubnet(normalised, prefix, family);
  return { list, family, prefix };
}

export interface ClientTable {
  /** The client for a datagram's source address, or undefined (the datagram is dropped). */
  find(sourceAddress: string): RadiusClient | undefined;
  readonly clients: readonly RadiusClient[];
}

export function createClientTable(configs: readonly Readonly<RadiusClientConfig>[]): ClientTable {
  const clients: RadiusClient[] = configs.map((config) => ({
    name: config.name,
    application: config.application ?? config.name,
    secret: Buffer.from(config.secret, 'utf8'),
    config,
    replyAttributes: compileReplyAttributes(config.replyAttributes),
  }));
  const entries: Entry[] = clients
    .map((client) => ({ client, ...parseNetwork(client.config.address) }))
    .sort((a, b) => b.prefix - a.prefix);
  // Sources repeat (a handful of NASes), and scanning networks for every packet adds up under load.
  // Misses are cached too, bounded, so a flood of spoofed sources cannot grow memory.
  const seen = new LRUCache<string, RadiusClient | false>({ max: 4096 });
  return {
    clients,
    find(sourceAddress) {
      const hit = seen.get(sourceAddress);
      if (hit !== undefined) return hit || undefined;
      const address = normaliseAddress(sourceAddress);
      const family = address?.includes(':') ? 'ipv6' : 'ipv4';
      const match = address
        ? entries.find((e) => e.family === family && e.list.check(address, family))
        : undefined;
      seen.set(sourceAddress, match?.client ?? false);
      return match?.client;
    },
  };
}

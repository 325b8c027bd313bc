// The attributes an administrator may name in configuration (reply attributes, mostly), and how a configured
// value becomes wire bytes. Numbers and types follow FreeRADIUS's dictionaries, so a name that works there
// means the same here; the list is deliberately short: only what a reply or a log line plausibly needs.
import { isIPv4, isIPv6 } from 'node:net';
import type { Attribute } from './packet.ts';

export type AttributeType = 'string' | 'octets' | 'integer' | 'ipaddr' | 'ipv6addr';

export interface AttributeDef {
  name: string;
  vendor: number | undefined;
  code: number;
  type: AttributeType;
}

export const VENDORS = { Microsoft: 311, Citrix: 66 } as const;

const VENDOR_SPECIFIC = 26;
const MAX_VALUE_LENGTH = 253;
/** A Vendor-Specific value spends 4 bytes on the vendor id and 2 on the vendor type and length. */
const MAX_VENDOR_VALUE_LENGTH = MAX_VALUE_LENGTH - 6;
const MAX_INTEGER = 0xffff_ffff;
const TUNNEL_PRIVATE_GROUP_ID = 81;
/** RFC 2868: a first byte up to 0x1F is read as a tag (0x00 meaning none), not as text. */
const MAX_TUNNEL_TAG = 0x1f;

type Entry = readonly [name: string, code: number, type: AttributeType];

// RFC 2865, 2866, 2868, 2869 (and 3162 for NAS-IPv6-Address).
// RFC 2868's tunnel attributes carry a tag; only tag 0 ("no tag") is offered, which needs no code of its own:
// Tunnel-Type and Tunnel-Medium-Type are a 1-byte tag then a 3-byte value, which is exactly an integer below
// 2^24 (a larger integer sets the tag byte, as RFC 2868 lays it out); Tunnel-Private-Group-Id is sent without
// a tag byte, which RFC 2868 §3.6 allows when the first byte is above 0x1F, so a leading control byte is refused.
const STANDARD: readonly Entry[] = [
  ['User-Name', 1, 'string'],
  ['NAS-IP-Address', 4, 'ipaddr'],
  ['NAS-Port', 5, 'integer'],
  ['Service-Type', 6, 'integer'],
  ['Framed-Protocol', 7, 'integer'],
  ['Framed-IP-Address', 8, 'ipaddr'],
  ['Framed-IP-Netmask', 9, 'ipaddr'],
  ['Filter-Id', 11, 'string'],
  ['Framed-MTU', 12, 'integer'],
  ['Reply-Message', 18, 'string'],
  ['State', 24, 'octets'],
  ['Class', 25, 'octets'],
  ['Session-Timeout', 27, 'integer'],
  ['Idle-Timeout', 28, 'integer'],
  ['Termination-Action', 29, 'integer'],
  ['Called-Station-Id', 30, 'string'],
  ['Calling-Station-Id', 31, 'string'],
  ['NAS-Identifier', 32, 'string'],
  ['Tunnel-Type', 64, 'integer'],
  ['Tunnel-Medium-Type', 65, 'integer'],
  ['Tunnel-Private-Group-Id', 81, 'string'],
  ['Acct-Interim-Interval', 85, 'integer'],
  ['Framed-Pool', 88, 'string'],
  ['NAS-IPv6-Address', 95, 'ipv6addr'],
];

// FreeRADIUS dictionary.microsoft (RFC 2548), without the MS-CHAP attributes (they belong to an authentication
// method we do not implement), the salt-encrypted keys, and the opaque octets ones nobody types into a config.
const MICROSOFT: readonly Entry[] = [
  ['MS-MPPE-Encryption-Policy', 7, 'integer'],
  ['MS-MPPE-Encryption-Types', 8, 'integer'],
  ['MS-MPPE-Encryption-Type', 8, 'integer'],
  ['MS-RAS-Vendor', 9, 'integer'],
  ['MS-BAP-Usage', 13, 'integer'],
  ['MS-Link-Utilization-Threshold', 14, 'integer'],
  ['MS-Link-Drop-Time-Limit', 15, 'integer'],
  ['MS-RAS-Version', 18, 'string'],
  ['MS-ARAP-PW-Change-Reason', 21, 'integer'],
  ['MS-Acct-Auth-Type', 23, 'integer'],
  ['MS-Acct-EAP-Type', 24, 'integer'],
  ['MS-Primary-DNS-Server', 28, 'ipaddr'],
  ['MS-Secondary-DNS-Server', 29, 'ipaddr'],
  ['MS-Primary-NBNS-Server', 30, 'ipaddr'],
  ['MS-Secondary-NBNS-Server', 31, 'ipaddr'],
  ['MS-RAS-Client-Name', 34, 'string'],
  ['MS-RAS-Client-Version', 35, 'string'],
  ['MS-Quarantine-Session-Timeout', 37, 'integer'],
  ['MS-User-Security-Identity', 40, 'string'],
  ['MS-Identity-Type', 41, 'integer'],
  ['MS-Service-Class', 42, 'string'],
  ['MS-Quarantine-User-Class', 44, 'string'],
  ['MS-Quarantine-State', 45, 'integer'],
  ['MS-Quarantine-Grace-Time', 46, 'integer'],
  ['MS-Network-Access-Server-Type', 47, 'integer'],
  ['MS-AFW-Zone', 48, 'integer'],
  ['MS-AFW-Protection-Level', 49, 'integer'],
  ['MS-Machine-Name', 50, 'string'],
  ['MS-RNAP-Not-Quarantine-Capable', 54, 'integer'],
  ['MS-Extended-Quarantine-State', 57, 'integer'],
  ['MS-HCAP-User-Groups', 58, 'string'],
  ['MS-HCAP-Location-Group-Name', 59, 'string'],
  ['MS-HCAP-User-Name', 60, 'string'],
  ['MS-User-IPv4-Address', 61, 'ipaddr'],
  ['MS-User-IPv6-Address', 62, 'ipv6addr'],
  ['MS-TSG-Device-Redirection', 63, 'integer'],
];

// FreeRADIUS dictionary.citrix.
const CITRIX: readonly Entry[] = [
  ['Citrix-UID', 10, 'integer'],
  ['Citrix-GID', 11, 'integer'],
  ['Citrix-Home', 12, 'string'],
  ['Citrix-Shell', 13, 'string'],
  ['Citrix-Group-Names', 14, 'string'],
  ['Citrix-Group-Ids', 15, 'string'],
  ['Citrix-User-Groups', 16, 'string'],
];

const BY_NAME: ReadonlyMap<string, AttributeDef> = new Map(
  [
    ...definitions(STANDARD, undefined),
    ...definitions(MICROSOFT, VENDORS.Microsoft),
    ...definitions(CITRIX, VENDORS.Citrix),
  ].map((def) => [def.name.toLowerCase(), def]),
);

function definitions(entries: readonly Entry[], vendor: number | undefined): AttributeDef[] {
  return entries.map(([name, code, type]) => ({ name, vendor, code, type }));
}

/** Case-insensitive, as administrators copy names from vendor documents that disagree on case. */
export function findAttribute(name: string): AttributeDef | undefined {
  return BY_NAME.get(name.trim().toLowerCase());
}

/**
 * Encodes a configured value for the attribute; throws an Error whose message completes "<value> ..." in a
 * config error. Strings as UTF-8; octets as `0x`-prefixed hex or else as the text's UTF-8 bytes (a Class
 * is usually a readable tag); integers as a number or a decimal string.
 */
export function encodeValue(def: AttributeDef, value: string | number): Buffer {
  const bytes = encodeByType(def, value);
  if (bytes.length === 0) throw new Error('must not be empty');
  const limit = maxValueLength(def);
  if (bytes.length > limit) throw new Error(`must be at most ${limit} bytes`);
  if (def.vendor === undefined && def.code === TUNNEL_PRIVATE_GROUP_ID && (bytes[0] ?? 0) <= MAX_TUNNEL_TAG) {
    throw new Error('must not start with a control character (a NAS would read it as an RFC 2868 tag)');
  }
  return bytes;
}

function encodeByType(def: AttributeDef, value: string | number): Buffer {
  switch (def.type) {
    case 'string':
      return Buffer.from(String(value), 'utf8');
    case 'octets':
      return hexOctets(value);
    case 'integer':
      return integer(value);
    case 'ipaddr':
      return ipv4(value);
    case 'ipv6addr':
      return ipv6(value);
  }
}

function hexOctets(value: string | number): Buffer {
  const text = String(value);
  if (!/^0x/i.test(text)) return Buffer.from(text, 'utf8');
  if (!/^0x([0-9a-fA-F]{2})*$/.test(text.trim())) {
    throw new Error("must be hex bytes after '0x' (e.g. 0x0a1b), or text without the '0x'");
  }
  return Buffer.from(text.trim().slice(2), 'hex');
}

function integer(value: string | number): Buffer {
  const number =
    typeof value === 'number' ? value : /^\s*\d{1,10}\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(number) || number < 0 || number > MAX_INTEGER) {
    throw new Error(`must be an integer from 0 to ${MAX_INTEGER}`);
  }
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(number);
  return bytes;
}

function ipv4(value: string | number): Buffer {
  const text = typeof value === 'string' ? value.trim() : '';
  if (!isIPv4(text)) throw new Error('must be an IPv4 address');
  return Buffer.from(text.split('.').map(Number));
}

function ipv6(value: string | number): Buffer {
  const text = typeof value === 'string' ? value.trim() : '';
  // A zone id (fe80::1%eth0) names an interface on this host; it has no meaning on the wire.
  if (!isIPv6(text) || text.includes('%')) throw new Error('must be an IPv6 address');
  return ipv6Bytes(text);
}

/** Expands `::` and a trailing dotted IPv4 part; the text is already known to be a valid IPv6 address. */
function ipv6Bytes(text: string): Buffer {
  const groups = (part: string) => (part === '' ? [] : part.split(':').flatMap(groupWords));
  const [head = '', tail] = text.split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = Buffer.alloc(16);
  words.forEach((word, index) => {
    bytes.writeUInt16BE(word, index * 2);
  });
  return bytes;
}

function groupWords(group: string): number[] {
  if (!group.includes('.')) return [Number.parseInt(group, 16)];
  const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
  return [(a << 8) | b, (c << 8) | d];
}

function maxValueLength(def: AttributeDef): number {
  return def.vendor === undefined ? MAX_VALUE_LENGTH : MAX_VENDOR_VALUE_LENGTH;
}

/**
 * The wire attribute: standard ones as is; vendor ones wrapped in Vendor-Specific (26) in the RFC 2865 §5.26
 * recommended layout that Microsoft and Citrix both use: vendor id (4 bytes BE), vendor type (1), vendor
 * length (1, = 2 + value length), value. Throws a RangeError for a value too long to frame.
 */
export function toWireAttribute(def: AttributeDef, value: Buffer): Attribute {
  const limit = maxValueLength(def);
  if (value.length > limit) {
    throw new RangeError(`${def.name} value of ${value.length} bytes is over the ${limit}-byte limit`);
  }
  if (def.vendor === undefined) return { type: def.code, value };
  const wrapped = Buffer.alloc(6 + value.length);
  wrapped.writeUInt32BE(def.vendor, 0);
  wrapped[4] = def.code;
  wrapped[5] = 2 + value.length;
  value.copy(wrapped, 6);
  return { type: VENDOR_SPECIFIC, value: wrapped };
}

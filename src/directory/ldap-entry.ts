// Reading LDAP search entries: attribute names case-insensitively, values as text, AD's binary objectGUID
// as a GUID string, and a group's name from the first RDN of its DN.
import type { Entry } from 'ldapts';

type Value = Buffer | string;

/** An entry's attributes by lower-cased name, since LDAP attribute names are case-insensitive. */
export class EntryReader {
  readonly dn: string;
  private readonly values = new Map<string, Value[]>();

  constructor(entry: Entry) {
    this.dn = entry.dn;
    for (const [name, value] of Object.entries(entry)) {
      if (name === 'dn') continue;
      const list: Value[] = Array.isArray(value) ? value : [value];
      const key = name.toLowerCase();
      this.values.set(key, [...(this.values.get(key) ?? []), ...list]);
    }
  }

  /** Every non-empty value of `name`, as UTF-8 text, in the order the server sent them. */
  texts(name: string): string[] {
    const list = this.values.get(name.toLowerCase()) ?? [];
    return list.map((value) => (Buffer.isBuffer(value) ? value.toString('utf8') : value)).filter(isNonEmpty);
  }

  text(name: string): string | undefined {
    return this.texts(name)[0];
  }

  /** The first value of `name` as the server's bytes (requested with `explicitBufferAttributes`). */
  bytes(name: string): Buffer | undefined {
    const value = this.values.get(name.toLowerCase())?.[0];
    if (value === undefined) return undefined;
    return Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
  }
}

function isNonEmpty(value: string): boolean {
  return value.trim().length > 0;
}

/** Attributes whose values are binary GUIDs in AD's byte order. */
const GUID_ATTRIBUTES = new Set(['objectguid', 'ms-ds-consistencyguid', 'msds-consistencyguid']);

/**
 * A stable identifier from the configured attribute: a 16-byte AD GUID as the standard GUID string
 * (`{...}` without braces, lower case), other values (OpenLDAP's entryUUID) as their text. Undefined when
 * the entry has no such value; the caller then falls back to the DN.
 */
export function readUniqueId(reader: EntryReader, attribute: string): string | undefined {
  const bytes = reader.bytes(attribute);
  if (!bytes || bytes.length === 0) return undefined;
  if (GUID_ATTRIBUTES.has(attribute.toLowerCase()) && bytes.length === 16) return formatGuid(bytes);
  const text = bytes.toString('utf8').trim();
  return text.length > 0 ? text : undefined;
}

/** AD stores the first three GUID fields little-endian: the standard string reverses their bytes. */
export function formatGuid(bytes: Buffer): string {
  const hex = (from: number, to: number, reverse = false) => {
    const part = Buffer.from(bytes.subarray(from, to));
    return (reverse ? part.reverse() : part).toString('hex');
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10), hex(10, 16)].join('-');
}

/**
 * The value of a DN's first RDN: `CN=VPN Users,OU=Groups,DC=corp` gives `VPN Users`, and escapes are
 * undone (`CN=Ops\, Night,...` gives `Ops, Night`; `\2C` likewise). A multi-valued first RDN keeps
 * only its first value. Returns the whole DN when it has no `=`.
 */
export function firstRdnValue(dn: string): string {
  const end = indexOfUnescaped(dn, [',', ';', '+']);
  const rdn = end === -1 ? dn : dn.slice(0, end);
  const equals = indexOfUnescaped(rdn, ['=']);
  if (equals === -1) return dn.trim();
  return unescapeDnValue(rdn.slice(equals + 1).trim());
}

function indexOfUnescaped(text: string, stops: string[]): number {
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '\\') index++;
    else if (char !== undefined && stops.includes(char)) return index;
  }
  return -1;
}

/** Undoes `\,`-style escapes and `\2C`-style hex escapes (runs of them form UTF-8 sequences). */
function unescapeDnValue(value: string): string {
  return value.replace(
    /(?:\\[0-9a-fA-F]{2})+|\\(.)/gs,
    (match, escaped: string | undefined) =>
      escaped ?? Buffer.from(match.replaceAll('\\', ''), 'hex').toString('utf8'),
  );
}

/** Values in order without blanks or repeats. */
export function distinct(values: Iterable<string>): string[] {
  return [...new Set(Array.from(values, (value) => value.trim()).filter((value) => value.length > 0))];
}

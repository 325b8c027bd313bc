// The one canonical form of a request's target (DESIGN §6 rule 3): host, port, path and query are
// normalised once, here, and what the policy checks is exactly what is forwarded. Anything whose
// meaning could differ between us and an upstream is refused rather than guessed. Also the framing
// check: requests whose length or headers two HTTP parsers could read differently (smuggling).
import { isIP } from 'node:net';
import { MfaError } from '../core/errors.ts';

export interface CanonicalRequest {
  scheme: 'http' | 'https';
  /** Lower case, no trailing dot, IPv6 with brackets, no port. */
  host: string;
  /** The explicit port, or 80/443 from the scheme. */
  port: number;
  /** host, plus :port when not the default. */
  authority: string;
  /** Canonical: what is forwarded. */
  path: string;
  /** `path` with `;params` removed from every segment: what rules match on. */
  matchPath: string;
  /** '' or '?…', unchanged but validated. */
  query: string;
}

const DEFAULT_PORT = { http: 80, https: 443 } as const;

function refuse(detail: string): MfaError {
  return new MfaError('input.invalid', { detail });
}

/** Control characters, space, DEL and anything outside ASCII: never valid in a request target. */
const NOT_VISIBLE_ASCII = /[^\x21-\x7e]/;

export function canonicalRequest(input: {
  rawUrl: string;
  hostHeader: string | undefined;
  scheme: 'http' | 'https';
}): CanonicalRequest {
  const { rawUrl, scheme } = input;
  // Only origin-form: absolute-form (`http://x/`), authority-form (CONNECT) and `*` would make the
  // target name a host other than the Host header's.
  if (!rawUrl.startsWith('/')) throw refuse('request target is not origin-form');
  if (NOT_VISIBLE_ASCII.test(rawUrl))
    throw refuse('request target has control, space or non-ASCII characters');
  if (rawUrl.includes('#')) throw refuse('request target has a fragment');
  const q = rawUrl.indexOf('?');
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q);
  const path = canonicalPath(rawPath);
  // A path whose escapes are not UTF-8 (IIS falls back to the ANSI code page for those) would be
  // read differently by different servers: refused like the encoded slash.
  try {
    decodeURIComponent(path);
  } catch {
    throw refuse('path escapes are not UTF-8');
  }
  const { host, port } = parseHost(input.hostHeader, scheme);
  return {
    scheme,
    host,
    port,
    authority: port === DEFAULT_PORT[scheme] ? host : `${host}:${port}`,
    path,
    matchPath: path
      .split('/')
      .map((segment) => segment.split(';', 1)[0] ?? '')
      .join('/'),
    query,
  };
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

function canonicalPath(raw: string): string {
  // One rule for every slash look-alike: upstreams disagree on whether a backslash (IIS: yes) or an
  // encoded slash (Apache AllowEncodedSlashes, Tomcat ALLOW_ENCODED_SLASH, Express: decoded after
  // routing) separates segments. Whichever reading we chose, some upstream would see `/a%2F..%2Fb`
  // as a different path than we checked, so none of them is accepted.
  if (/\\|%5c|%2f/i.test(raw)) throw refuse('path has a backslash or an encoded slash');
  const escaped = raw.replace(/%(.{0,2})/g, (_, hex: string) => {
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw refuse('path has a malformed percent escape');
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  return removeDotSegments(escaped);
}

/**
 * Merges duplicate slashes and resolves dot segments (RFC 3986 §5.2.4, never above the root). A
 * segment's name is the part before its first ';' because Tomcat and Jetty read `..;x` as `..` and
 * `;x` as an empty segment: both are treated the way those upstreams would treat them.
 */
function removeDotSegments(path: string): string {
  const segments = path.slice(1).split('/');
  const out: string[] = [];
  let trailingSlash = false;
  segments.forEach((segment, index) => {
    const name = segment.split(';', 1)[0] ?? '';
    const last = index === segments.length - 1;
    if (name === '' || name === '.') trailingSlash = last;
    else if (name === '..') {
      out.pop();
      trailingSlash = last;
    } else {
      out.push(segment);
      trailingSlash = false;
    }
  });
  if (out.length === 0) return '/';
  return `/${out.join('/')}${trailingSlash ? '/' : ''}`;
}

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function parseHost(header: string | undefined, scheme: 'http' | 'https'): { host: string; port: number } {
  if (header === undefined || header === '') throw refuse('Host header is missing');
  if (NOT_VISIBLE_ASCII.test(header) || header.includes('@'))
    throw refuse('Host header is not a host[:port]');
  const text = header.toLowerCase();
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    const inner = close === -1 ? '' : text.slice(1, close);
    // A zone id (`%eth0`) names an interface of the client, not a host of ours.
    if (isIP(inner) !== 6 || inner.includes('%')) throw refuse('Host header has an invalid IPv6 literal');
    host = new URL(`http://[${inner}]/`).hostname;
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw refuse('Host header is not a host[:port]');
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = text.indexOf(':');
    host = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? undefined : text.slice(colon + 1);
    if (host.endsWith('.')) host = host.slice(0, -1);
    if (!isDnsNameOrIPv4(host)) throw refuse('Host header is not a DNS name or IP literal');
  }
  if (portText === undefined) return { host, port: DEFAULT_PORT[scheme] };
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535)
    throw refuse('Host header has an invalid port');
  return { host, port };
}

function isDnsNameOrIPv4(host: string): boolean {
  if (isIP(host) === 4) return true;
  if (!DNS_NAME.test(host)) return false;
  // A name ending in a number (`127.1`, `0x7f.1`, `2130706433`) is an IPv4 address to URL parsers
  // and resolvers, in a spelling no rule would be written in.
  const last = host.slice(host.lastIndexOf('.') + 1);
  return !/^(\d+|0x[0-9a-f]*)$/.test(last);
}

/** Optional whitespace around a field value is spaces and tabs only (RFC 9110 §5.6.3), not `\v` or `\f`. */
const trimOws = (value: string) => value.replace(/^[ \t]+|[ \t]+$/g, '');

/** The RFC 9110 token characters, the only ones a header name may have. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Refuses requests that two parsers could frame differently (request smuggling). Node's parser
 * already rejects most of them; this holds on its own, so a parser option or a lenient mode cannot
 * open it. `rawHeaders` is Node's flat list: name, value, name, value ...
 */
export function checkFraming(input: {
  method: string;
  rawHeaders: readonly string[];
  httpVersion: string;
}): void {
  const { rawHeaders } = input;
  if (rawHeaders.length % 2 !== 0) throw refuse('headers are not name/value pairs');
  const values = new Map<string, string[]>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const value = rawHeaders[i + 1] ?? '';
    if (!TOKEN.test(name)) throw refuse('a header name has characters outside the token set');
    if (/[\r\n\0]/.test(value)) throw refuse(`header ${name} has CR, LF or NUL in its value`);
    const key = name.toLowerCase();
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  const contentLength = values.get('content-length') ?? [];
  const transferEncoding = values.get('transfer-encoding') ?? [];
  if ((values.get('host') ?? []).length > 1) throw refuse('more than one Host header');
  if (contentLength.length > 1) throw refuse('more than one Content-Length header');
  if (contentLength.some((v) => !/^\d+$/.test(trimOws(v)))) throw refuse('Content-Length is not a number');
  if (transferEncoding.length === 0) return;
  if (contentLength.length > 0) throw refuse('both Transfer-Encoding and Content-Length');
  // HTTP/1.0 has no chunked coding: a 1.0 server would read the body by Content-Length or to close.
  if (input.httpVersion === '1.0') throw refuse('Transfer-Encoding on HTTP/1.0');
  if (transferEncoding.length > 1 || trimOws(transferEncoding[0] ?? '').toLowerCase() !== 'chunked')
    throw refuse('Transfer-Encoding is not exactly chunked');
}

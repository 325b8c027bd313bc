// Where the gateway may send a browser after sign-in (the `rd` parameter): DESIGN §6 rule 4, in one
// place for every flow. Anything doubtful becomes '/', since a refused return URL costs a click and
// an accepted bad one is an open redirect that lends our domain to a phishing page.

export interface ReturnUrlContext {
  /** The origin the user is on, e.g. `https://intranet.example.com` or `http://127.0.0.1:8080`. */
  origin: string;
  /** Other hosts the gateway protects, lower case, `name` (any port) or `name:port`. */
  protectedHosts: readonly string[];
  /** Plain http targets, for the plain-HTTP demo only. */
  allowHttp: boolean;
}

const FALLBACK = '/';

/**
 * Characters that browsers strip or reinterpret before they parse a URL (tabs and newlines vanish,
 * a backslash becomes a slash in http URLs), so the string we check is not the one they follow.
 */
const UNSAFE = /[\s\\\p{Cc}]/u;

function decodeOnce(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The path part (before '?' or '#') must not contain '//': `//evil` is another host to a browser. */
function pathIsSafe(path: string): boolean {
  const end = path.search(/[?#]/);
  const pathOnly = end === -1 ? path : path.slice(0, end);
  const decoded = decodeOnce(pathOnly);
  if (decoded === undefined) return false;
  return decoded.startsWith('/') && !decoded.includes('//') && !UNSAFE.test(decoded);
}

function hostAllowed(url: URL, protectedHosts: readonly string[]): boolean {
  return protectedHosts.some((entry) => entry === url.host || entry === url.hostname);
}

export function safeReturnUrl(rd: string | undefined, ctx: ReturnUrlContext): string {
  // Our own return URLs are built from canonical (ASCII) paths; anything else was made by hand.
  if (!rd || /[^\x21-\x7e]|\\/.test(rd)) return FALLBACK;
  let origin: URL;
  try {
    origin = new URL(ctx.origin);
  } catch {
    return FALLBACK;
  }
  if (rd.startsWith('/')) return relativeTarget(rd, origin);
  // Only `scheme://` with the slashes: WHATWG reads `https:evil` as `https://evil/` for special schemes.
  const scheme = /^(https?):\/\//i.exec(rd)?.[1]?.toLowerCase();
  if (scheme !== 'https' && !(scheme === 'http' && ctx.allowHttp)) return FALLBACK;
  const authority = rd.slice(scheme.length + 3).split(/[/?#]/, 1)[0] ?? '';
  // Userinfo is how `https://trusted.example.com@evil` dresses one host up as another, and a host
  // needs no escapes: the WHATWG host parser would decode them after we looked.
  if (/[@%]/.test(authority)) return FALLBACK;
  let url: URL;
  try {
    url = new URL(rd);
  } catch {
    return FALLBACK;
  }
  if (url.username !== '' || url.password !== '' || !pathIsSafe(`${url.pathname}${url.search}`))
    return FALLBACK;
  if (url.origin === origin.origin) return relativeTarget(`${url.pathname}${url.search}${url.hash}`, origin);
  return hostAllowed(url, ctx.protectedHosts) ? url.href : FALLBACK;
}

function relativeTarget(path: string, origin: URL): string {
  if (!pathIsSafe(path)) return FALLBACK;
  let url: URL;
  try {
    url = new URL(path, origin);
  } catch {
    return FALLBACK;
  }
  if (url.origin !== origin.origin) return FALLBACK;
  const target = `${url.pathname}${url.search}${url.hash}`;
  // The serialised form is what the browser gets: check it again rather than trust the parse.
  return pathIsSafe(target) ? target : FALLBACK;
}

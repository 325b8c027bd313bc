// What every server-rendered page of the service shares (gateway sign-in, portal): the security
// headers, the double-submit CSRF token, cookie reading, and the static files of portal/static.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MfaError } from '../core/errors.ts';
import { constantTimeEqual } from '../core/secrets/constant-time.ts';
import type { RequestView } from './request-view.ts';

export const PORTAL_DIR = path.resolve(import.meta.dirname, '../../portal');

/** Pages carry secrets (CSRF tokens, codes being typed): never cached, never framed, no inline code. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/** The value of one cookie in a Cookie header; the first occurrence wins, as browsers send the most specific first. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

// ---------------------------------------------------------------- CSRF

export const csrfCookieName = (view: RequestView) =>
  view.scheme === 'https' ? '__Host-mfa_csrf' : 'mfa_csrf';

const TOKEN = /^[A-Za-z0-9_-]{32}$/;

/**
 * Double-submit token: the form's hidden `_csrf` field must equal a cookie that only this origin
 * could set (SameSite=Strict, `__Host-` on HTTPS). Reuses the client's token while it has one.
 */
export function csrfToken(request: FastifyRequest, reply: FastifyReply, view: RequestView): string {
  const existing = readCookie(request.headers.cookie, csrfCookieName(view));
  if (existing && TOKEN.test(existing)) return existing;
  const token = randomBytes(24).toString('base64url');
  reply.setCookie(csrfCookieName(view), token, {
    path: '/',
    httpOnly: true,
    secure: view.scheme === 'https',
    sameSite: 'strict',
  });
  return token;
}

/** Throws `input.invalid` unless the posted `_csrf` field matches the cookie. */
export function checkCsrf(request: FastifyRequest, view: RequestView): void {
  const cookie = readCookie(request.headers.cookie, csrfCookieName(view)) ?? '';
  const sent = (request.body as Record<string, unknown> | undefined)?._csrf;
  if (typeof sent !== 'string' || cookie === '' || !constantTimeEqual(sent, cookie))
    throw new MfaError('input.invalid', { detail: 'CSRF token missing or wrong' });
}

// ---------------------------------------------------------------- static files

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

export interface StaticFile {
  body: Buffer;
  contentType: string;
}

/** The files of portal/static (not its sub-folders), read once, keyed by file name. */
export const STATIC_FILES: Readonly<Record<string, StaticFile>> = (() => {
  const dir = path.join(PORTAL_DIR, 'static');
  const files: Record<string, StaticFile> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const contentType = CONTENT_TYPES[path.extname(entry.name).toLowerCase()] ?? 'application/octet-stream';
    files[entry.name] = { body: readFileSync(path.join(dir, entry.name)), contentType };
  }
  return Object.freeze(files);
})();

/** Answers a static file by name, or returns false so the caller can send its own 404. */
export function sendStatic(reply: FastifyReply, name: string): FastifyReply | false {
  const file = Object.hasOwn(STATIC_FILES, name) ? STATIC_FILES[name] : undefined;
  if (!file) return false;
  return reply
    .header('content-type', file.contentType)
    .header('cache-control', 'public, max-age=3600')
    .header('x-content-type-options', 'nosniff')
    .send(file.body);
}

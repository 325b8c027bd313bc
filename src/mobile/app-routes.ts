// Serves the installable web authenticator of portal/mobile: the app shell at /mobile/app (and its
// activation link) plus the app's own scripts, style, service worker, manifest and icon.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CONTENT_TYPES, PAGE_HEADERS, PORTAL_DIR } from '../http/web-page.ts';

export const MOBILE_APP_DIR = path.join(PORTAL_DIR, 'mobile');

const SHELL_FILE = 'app.html';
const SHELL_PATHS = ['/mobile/app', '/mobile/app/', '/mobile/app/activate'] as const;

/** The page policy plus what an installable app needs: its own service worker and manifest. */
export const MOBILE_APP_CSP = `${PAGE_HEADERS['content-security-policy']}; worker-src 'self'; manifest-src 'self'`;

const SHELL_HEADERS = { ...PAGE_HEADERS, 'content-security-policy': MOBILE_APP_CSP };

interface AppFile {
  body: Buffer;
  headers: Record<string, string>;
}

/**
 * `no-cache` rather than a max-age: an authenticator that keeps running old code after a fix is
 * worse than one more revalidation; the service worker keeps a copy for offline use anyway.
 */
function assetHeaders(name: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream',
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  };
  if (name === 'sw.js') {
    headers['service-worker-allowed'] = '/mobile/app/';
    headers['content-security-policy'] = MOBILE_APP_CSP;
  }
  return headers;
}

/** Every file of the folder except the shell, which is only reachable at the app's own paths. */
function readAssets(dir: string): Map<string, AppFile> {
  const assets = new Map<string, AppFile>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile() || entry.name === SHELL_FILE) continue;
    assets.set(entry.name, {
      body: readFileSync(path.join(dir, entry.name)),
      headers: assetHeaders(entry.name),
    });
  }
  return assets;
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply.status(404).send({ code: 'not_found', message: 'Not found.' });
}

/** Registers the app's routes; the files are read now, once, so a missing file fails the start-up. */
export function registerMobileAppRoutes(app: FastifyInstance, dir: string = MOBILE_APP_DIR): void {
  const shell = readFileSync(path.join(dir, SHELL_FILE));
  const assets = readAssets(dir);
  for (const url of SHELL_PATHS) app.get(url, (_request, reply) => reply.headers(SHELL_HEADERS).send(shell));
  app.get('/mobile/app/:file', (request, reply) => {
    const { file } = request.params as { file: string };
    const asset = assets.get(file);
    return asset ? reply.headers(asset.headers).send(asset.body) : notFound(reply);
  });
}

// The gateway's server-rendered sign-in pages (eta templates under portal/gateway, one shared layout
// portal/layout.eta) and its static files (portal/static), both read once and then served from memory.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Eta } from 'eta/core';
import { PORTAL_DIR } from '../http/web-page.ts';

export interface LoginPageData {
  appName: string;
  /** Form action URL. */
  action: string;
  /** The signed return URL, posted back unchanged in a hidden field. */
  rd: string;
  csrf: string;
  username?: string;
  error?: string;
}

export interface TotpPageData {
  appName: string;
  action: string;
  csrf: string;
  username: string;
  digits: number;
  error?: string;
  restartUrl: string;
}

export interface PushPageData {
  appName: string;
  /** Form posted once the phone approved, to finish the sign-in. */
  action: string;
  /** Polled by push-wait.js; answers JSON `{ state: 'pending'|'approved'|'denied'|'expired' }`. */
  statusUrl: string;
  csrf: string;
  username: string;
  /** The two digits the user picks in the app (number matching). */
  number: string;
  restartUrl: string;
  error?: string;
  /** "Use a code instead". */
  fallbackUrl?: string;
}

export interface DeniedPageData {
  title?: string;
  message: string;
  requestId: string;
  signOutUrl?: string;
}

export interface ErrorPageData {
  status: number;
  title: string;
  message: string;
  requestId: string;
}

export interface SignedOutPageData {
  loginUrl: string;
}

export interface NoFactorPageData {
  enrollUrl: string;
  username: string;
}

export interface PageData {
  login: LoginPageData;
  totp: TotpPageData;
  push: PushPageData;
  denied: DeniedPageData;
  error: ErrorPageData;
  'signed-out': SignedOutPageData;
  'no-factor': NoFactorPageData;
}

export type PageName = keyof PageData;

export const PAGE_NAMES: readonly PageName[] = [
  'login',
  'totp',
  'push',
  'denied',
  'error',
  'signed-out',
  'no-factor',
];

export interface Pages {
  render<N extends PageName>(name: N, data: PageData[N]): string;
}

export interface PagesOptions {
  /** Folder holding layout.eta and gateway/*.eta; default: the repository's portal/. */
  templatesDir?: string;
  /** An administrator's HTML file served as-is instead of the denial page. */
  denialPageFile?: string;
}

/**
 * The fields of each page that end up in an href or a form action. They come from the gateway, never
 * from the client, but a value that is not a path or an http(s) URL (`javascript:`, `//evil`) is
 * refused rather than rendered: escaping does not make such a URL harmless.
 */
const URL_FIELDS: { [N in PageName]: ReadonlyArray<keyof PageData[N]> } = {
  login: ['action'],
  totp: ['action', 'restartUrl'],
  push: ['action', 'statusUrl', 'restartUrl', 'fallbackUrl'],
  denied: ['signOutUrl'],
  error: [],
  'signed-out': ['loginUrl'],
  'no-factor': ['enrollUrl'],
};

function isSafeUrl(value: string): boolean {
  if (/[\\\s]/.test(value)) return false;
  if (value.startsWith('/')) return !value.startsWith('//');
  return /^https?:\/\/[^/?#]/i.test(value);
}

function checkUrls<N extends PageName>(name: N, data: PageData[N]): void {
  for (const field of URL_FIELDS[name]) {
    const value = data[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !isSafeUrl(value)) {
      throw new TypeError(`page '${name}': ${String(field)} is not a path or an http(s) URL`);
    }
  }
}

/** Compiles every template now; a missing or broken template fails here, at start-up. */
export function createPages(options: PagesOptions = {}): Pages {
  const dir = options.templatesDir ?? PORTAL_DIR;
  // eta/core has no file loader: templates are registered by name once, never read per request.
  // autoEscape (eta's default) is set explicitly: `<%= %>` XML-escapes & < > " '. Templates use
  // raw output `<%~ %>` only for the layout's body, which is the already-escaped rendered page.
  const eta = new Eta({ autoEscape: true, cache: true, useWith: false, varName: 'it' });
  eta.loadTemplate('@layout', readFileSync(path.join(dir, 'layout.eta'), 'utf8'));
  for (const name of PAGE_NAMES) {
    eta.loadTemplate(`@${name}`, readFileSync(path.join(dir, 'gateway', `${name}.eta`), 'utf8'));
  }
  const denialPage =
    options.denialPageFile === undefined ? undefined : readFileSync(options.denialPageFile, 'utf8');

  return {
    render(name, data) {
      if (name === 'denied' && denialPage !== undefined) return denialPage;
      checkUrls(name, data);
      return eta.render(`@${name}`, data);
    },
  };
}

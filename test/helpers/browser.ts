// Debian's Chromium driven by playwright-core, for the end-to-end tests: one browser per test file
// (launch it in before(), close it in after()), a fresh context per test, every wait bounded, and a
// recorder of what a page complained about (console errors, uncaught exceptions, CSP violations).
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** No wait in these tests lasts longer than this. */
export const WAIT_MS = 10_000;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    timeout: 15_000,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh context (its own cookies) whose actions and navigations give up after WAIT_MS. */
export async function newContext(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  return context;
}

export interface PageProblems {
  /** Console messages of type error (Chromium reports CSP refusals and failed loads here). */
  consoleErrors: string[];
  /** Uncaught exceptions thrown by page scripts. */
  pageErrors: string[];
  /** `securitypolicyviolation` events seen by the documents themselves. */
  cspViolations: string[];
  /** Everything above, plus console warnings that mention the Content Security Policy. */
  all(): string[];
}

/**
 * Starts recording the problems of every page of `context`. Call it before the first navigation.
 * The CSP listener is added by the browser (an init script), not by the page, so the pages' own CSP
 * does not block it.
 */
export async function recordProblems(context: BrowserContext): Promise<PageProblems> {
  const consoleErrors: string[] = [];
  const cspWarnings: string[] = [];
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  await context.exposeBinding('__mfaReportCsp', ({ page }, text: string) => {
    cspViolations.push(`${page.url()}: ${text}`);
  });
  // Browser-side code as text: the project's TypeScript has no DOM types.
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => {
  window.__mfaReportCsp?.(event.violatedDirective + ' blocked ' + (event.blockedURI || '(inline)'));
});`,
  });
  const watch = (page: Page) => {
    page.on('console', (message) => {
      const line = `${page.url()}: [${message.type()}] ${message.text()}`;
      if (message.type() === 'error') consoleErrors.push(line);
      else if (/content security policy/i.test(message.text())) cspWarnings.push(line);
    });
    page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  };
  for (const page of context.pages()) watch(page);
  context.on('page', watch);
  return {
    consoleErrors,
    pageErrors,
    cspViolations,
    all: () => [...consoleErrors, ...cspWarnings, ...pageErrors, ...cspViolations],
  };
}

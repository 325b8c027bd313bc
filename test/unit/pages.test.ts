// The gateway's sign-in pages: every page renders inside the shared layout, all data is escaped, no page
// carries inline script, inline style or event-handler attributes (the CSP is default-src 'self'), and
// an administrator's denial page replaces ours.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import vm from 'node:vm';
import { createPages, PAGE_NAMES, type PageData, type PageName } from '../../src/gateway/pages.ts';
import { STATIC_FILES } from '../../src/http/web-page.ts';

const SCRIPT = '<script>alert(1)</script>';
const ATTRIBUTE = `"'><img src=x onerror=alert(1)>`;
/** A hostile value that is still a path, for the fields that must be URLs. */
const URL_PAYLOAD = `/next?a="'><svg/onload=alert(1)>`;

function sample(text: string, url: string): PageData {
  return {
    login: { appName: text, action: url, rd: text, csrf: text, username: text, error: text },
    totp: { appName: text, action: url, csrf: text, username: text, digits: 6, error: text, restartUrl: url },
    push: {
      appName: text,
      action: url,
      statusUrl: url,
      csrf: text,
      username: text,
      number: text,
      restartUrl: url,
      fallbackUrl: url,
    },
    denied: { title: text, message: text, requestId: text, signOutUrl: url },
    error: { status: 502, title: text, message: text, requestId: text },
    'signed-out': { loginUrl: url },
    'no-factor': { enrollUrl: url, username: text },
  };
}

const pages = createPages();

function renderAll(data: PageData): Array<[PageName, string]> {
  return PAGE_NAMES.map((name) => [name, pages.render(name, data[name] as never)]);
}

/** Every start tag, with its quoted attribute values blanked, so escaped text inside a value cannot match. */
function tagsWithoutValues(html: string): string[] {
  return (html.match(/<[a-zA-Z][^>]*>/g) ?? []).map((tag) => tag.replace(/"[^"]*"|'[^']*'/g, '""'));
}

function assertNoActiveContent(name: string, html: string): void {
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/i, `${name}: inline <script>`);
  assert.doesNotMatch(html, /<style/i, `${name}: <style> element`);
  for (const tag of tagsWithoutValues(html)) {
    assert.doesNotMatch(tag, /\sstyle\s*=/i, `${name}: style attribute in ${tag}`);
    assert.doesNotMatch(tag, /\son[a-z]+\s*=/i, `${name}: event handler attribute in ${tag}`);
  }
}

describe('gateway pages', () => {
  test('every page renders inside the shared layout', () => {
    for (const [name, html] of renderAll(sample('Wiki', '/_mfa/login'))) {
      assert.match(html, /^<!doctype html>/, name);
      assert.match(html, /<html lang="en">/, name);
      assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/, name);
      assert.match(html, /<link rel="stylesheet" href="\/_mfa\/static\/style.css">/, name);
      assert.match(html, /<main[ >][\s\S]*<\/main>/, name);
      assert.match(html, /<h1>/, name);
      assert.doesNotMatch(html, /undefined/, name);
    }
  });

  test('pages carry no inline script, no inline style and no event handler attributes', () => {
    for (const [name, html] of renderAll(sample('Wiki', '/_mfa/login'))) assertNoActiveContent(name, html);
  });

  for (const payload of [SCRIPT, ATTRIBUTE]) {
    test(`escapes ${payload} in every data field of every page`, () => {
      for (const [name, html] of renderAll(sample(payload, URL_PAYLOAD))) {
        assert.ok(!html.includes(payload), `${name}: raw payload in output`);
        assert.ok(!html.includes(URL_PAYLOAD), `${name}: raw URL payload in output`);
        assert.doesNotMatch(html, /<img|<svg|<script>/i, name);
        assertNoActiveContent(name, html);
      }
      const login = pages.render('login', sample(payload, URL_PAYLOAD).login);
      const escaped = payload.replace(
        /[&<>"']/g,
        (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`,
      );
      // appName, rd, csrf, username (value attribute) and error all appear, escaped.
      assert.equal(login.split(escaped).length - 1, 5);
    });
  }

  test('the push page names its status URL in a data attribute and loads its script deferred', () => {
    const html = pages.render('push', sample('x', '/_mfa/push/status?id=1&t=2').push);
    assert.match(html, /<script src="\/_mfa\/static\/push-wait.js" defer><\/script>/);
    assert.match(
      html,
      /<form [^>]*id="push-finish"[^>]*data-status-url="\/_mfa\/push\/status\?id=1&amp;t=2"/,
    );
    assert.match(html, /role="alert"/);
  });

  test('forms label every visible input and use the right autocomplete hints', () => {
    const data = sample('Wiki', '/_mfa/login');
    for (const name of ['login', 'totp'] as const) {
      const html = pages.render(name, data[name]);
      const inputs = (html.match(/<input [^>]*>/g) ?? []).filter((i) => !i.includes('type="hidden"'));
      assert.ok(inputs.length > 0);
      for (const input of inputs) {
        const id = /\sid="([^"]+)"/.exec(input)?.[1];
        assert.ok(id, `${name}: input without id: ${input}`);
        assert.match(html, new RegExp(`<label for="${id}">`), `${name}: no label for ${id}`);
      }
      assert.match(html, /<input type="hidden" name="_csrf" value="Wiki">/);
    }
    const login = pages.render('login', data.login);
    assert.match(login, /autocomplete="username"/);
    assert.match(login, /autocomplete="current-password"/);
    assert.match(login, /<input type="hidden" name="rd" value="Wiki">/);
    const totp = pages.render('totp', { ...data.totp, digits: 8 });
    const code = /<input id="code"[^>]*>/.exec(totp)?.[0] ?? '';
    for (const attribute of [
      'inputmode="numeric"',
      'pattern="[0-9]*"',
      'maxlength="8"',
      'autocomplete="one-time-code"',
      'autofocus',
    ]) {
      assert.ok(code.includes(attribute), `totp input lacks ${attribute}`);
    }
  });

  test('the error region appears only when there is an error', () => {
    const data = sample('Wiki', '/_mfa/login').login;
    assert.match(pages.render('login', data), /role="alert"/);
    assert.doesNotMatch(
      pages.render('login', { ...data, error: undefined }),
      /role="alert"|aria-describedby/,
    );
  });

  test('optional links are left out when not given', () => {
    const data = sample('Wiki', '/_mfa/login');
    assert.doesNotMatch(pages.render('push', { ...data.push, fallbackUrl: undefined }), /Use a code instead/);
    assert.doesNotMatch(pages.render('denied', { message: 'No', requestId: 'r1' }), /Sign out/);
    assert.match(pages.render('denied', { message: 'No', requestId: 'r1' }), /<h1>Access denied<\/h1>/);
  });

  test('refuses a link that is not a path or an http(s) URL', () => {
    const data = sample('Wiki', '/_mfa/login');
    for (const url of [
      'javascript:alert(1)',
      '//evil.example/',
      '/\\evil.example',
      'data:text/html,x',
      ' /x',
    ]) {
      assert.throws(() => pages.render('login', { ...data.login, action: url }), TypeError, url);
      assert.throws(() => pages.render('signed-out', { loginUrl: url }), TypeError, url);
    }
    assert.ok(pages.render('signed-out', { loginUrl: 'https://intranet.example.com/_mfa/login' }));
  });

  test("an administrator's denial page replaces ours as-is", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mfa-pages-'));
    try {
      const file = path.join(dir, 'denied.html');
      const custom = '<!doctype html><title>Nope</title><p>Call extension 4242.</p>\n';
      writeFileSync(file, custom);
      const withFile = createPages({ denialPageFile: file });
      writeFileSync(file, 'changed after start-up');
      assert.equal(withFile.render('denied', { message: 'ignored', requestId: 'req-1' }), custom);
      assert.match(withFile.render('signed-out', { loginUrl: '/_mfa/login' }), /You have signed out/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('static files', () => {
  test('are the files of portal/static, keyed by file name, with their content types', () => {
    const css = STATIC_FILES['style.css'];
    const js = STATIC_FILES['push-wait.js'];
    assert.equal(css?.contentType, 'text/css; charset=utf-8');
    assert.equal(js?.contentType, 'text/javascript; charset=utf-8');
    const onDisk = readFileSync(path.resolve(import.meta.dirname, '../../portal/static/style.css'));
    assert.ok(css?.body.equals(onDisk));
    for (const key of Object.keys(STATIC_FILES)) assert.match(key, /^[^/]+$/);
  });
});

describe('push-wait.js', () => {
  type Answer = { status: number; state?: string } | Error;

  /** Runs the script against a minimal page and a scripted status endpoint; timers run on demand. */
  function runPushWait(answers: Answer[]) {
    const timers: Array<() => void> = [];
    const polled: Array<{ url: string; init: { credentials?: string } }> = [];
    const alertRegion = { textContent: '', hidden: true };
    const statusRegion = { textContent: 'Waiting', hidden: false };
    const form = {
      dataset: { statusUrl: '/_mfa/push/status' },
      submitted: 0,
      submit() {
        this.submitted += 1;
      },
    };
    const elements: Record<string, unknown> = {
      'push-finish': form,
      'push-alert': alertRegion,
      'push-status': statusRegion,
    };
    const context = vm.createContext({
      document: { getElementById: (id: string) => elements[id] ?? null },
      setTimeout: (fn: () => void) => timers.push(fn),
      Date,
      fetch: async (url: string, init: { credentials?: string }) => {
        polled.push({ url, init });
        const answer = answers.shift() ?? { status: 200, state: 'pending' };
        if (answer instanceof Error) throw answer;
        return {
          ok: answer.status < 300,
          status: answer.status,
          json: async () => ({ state: answer.state }),
        };
      },
    });
    vm.runInContext(
      readFileSync(path.resolve(import.meta.dirname, '../../portal/static/push-wait.js'), 'utf8'),
      context,
    );
    const tick = async () => {
      const next = timers.shift();
      assert.ok(next, 'no timer pending');
      next();
      await new Promise((resolve) => setImmediate(resolve));
    };
    return { tick, timers, polled, form, alertRegion };
  }

  test('keeps polling while pending and submits the finish form once approved', async () => {
    const page = runPushWait([
      { status: 200, state: 'pending' },
      new Error('offline'),
      { status: 200, state: 'approved' },
    ]);
    await page.tick();
    await page.tick();
    assert.equal(page.form.submitted, 0);
    await page.tick();
    assert.equal(page.form.submitted, 1);
    assert.equal(page.timers.length, 0);
    assert.equal(page.polled.length, 3);
    assert.equal(page.polled[0]?.url, '/_mfa/push/status');
    assert.equal(page.polled[0]?.init.credentials, 'same-origin');
  });

  for (const state of ['denied', 'expired']) {
    test(`stops and shows the alert when the push is ${state}`, async () => {
      const page = runPushWait([{ status: 200, state }]);
      await page.tick();
      assert.equal(page.form.submitted, 0);
      assert.equal(page.timers.length, 0);
      assert.equal(page.alertRegion.hidden, false);
      assert.match(page.alertRegion.textContent, new RegExp(state));
    });
  }

  test('stops when the gateway no longer knows the request', async () => {
    const page = runPushWait([{ status: 403 }]);
    await page.tick();
    assert.equal(page.timers.length, 0);
    assert.equal(page.alertRegion.hidden, false);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { safeReturnUrl } from '../../src/core/policy/return-url.ts';

const HTTPS = {
  origin: 'https://intranet.example.com',
  protectedHosts: ['wiki.example.com', 'payroll.example.com:8443'],
  allowHttp: false,
};
const DEMO = { origin: 'http://127.0.0.1:8080', protectedHosts: [], allowHttp: true };

describe('safeReturnUrl accepts', () => {
  const cases: Array<[string, string, typeof HTTPS]> = [
    ['/', '/', HTTPS],
    ['/wiki/page', '/wiki/page', HTTPS],
    ['/wiki/page?x=1&y=two#top', '/wiki/page?x=1&y=two#top', HTTPS],
    ['/wiki/', '/wiki/', HTTPS],
    ['/caf%C3%A9', '/caf%C3%A9', HTTPS],
    ['/a/../b', '/b', HTTPS],
    ['/search?q=https://elsewhere', '/search?q=https://elsewhere', HTTPS],
    ['https://intranet.example.com/wiki?x=1', '/wiki?x=1', HTTPS],
    ['https://intranet.example.com:443/wiki', '/wiki', HTTPS],
    ['HTTPS://INTRANET.example.com/wiki', '/wiki', HTTPS],
    ['https://wiki.example.com/page', 'https://wiki.example.com/page', HTTPS],
    ['https://wiki.example.com:9443/page', 'https://wiki.example.com:9443/page', HTTPS],
    ['https://payroll.example.com:8443/', 'https://payroll.example.com:8443/', HTTPS],
    ['/app', '/app', DEMO],
    ['http://127.0.0.1:8080/app?x', '/app?x', DEMO],
  ];
  for (const [rd, expected, ctx] of cases) {
    test(`${JSON.stringify(rd)} → ${expected}`, () => assert.equal(safeReturnUrl(rd, ctx), expected));
  }
});

describe('safeReturnUrl refuses every open-redirect variant (gives /)', () => {
  const refused: Array<[string, string]> = [
    ['nothing', ''],
    ['another host', 'https://evil'],
    ['another host with a path', 'https://evil.example.net/login'],
    ['a look-alike suffix of the origin', 'https://intranet.example.com.evil.net/'],
    ['a protected host on another port than listed', 'https://payroll.example.com/'],
    ['a scheme-relative URL', '//evil'],
    ['a scheme-relative URL with a path', '//evil/x'],
    ['slash backslash', '/\\evil'],
    ['backslash backslash', '\\\\evil'],
    ['a backslash later in the path', '/ok\\..\\..\\evil'],
    ['javascript:', 'javascript:alert(1)'],
    ['javascript: in mixed case', 'JaVaScRiPt:alert(1)'],
    ['javascript: with an encoded newline', 'java%0ascript:alert(1)'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['vbscript:', 'vbscript:msgbox(1)'],
    ['a special scheme without slashes', 'https:evil'],
    ['a special scheme with one slash', 'https:/evil'],
    ['three slashes', 'https:///evil'],
    ['encoded double slash', '%2F%2Fevil'],
    ['encoded slash backslash', '%2F%5Cevil'],
    ['encoded double slash after a slash', '/%2F%2Fevil'],
    ['an encoded slash after a slash', '/%2F/evil'],
    ['an encoded slash in lower case', '/%2f/evil'],
    ['an encoded backslash', '/%5Cevil'],
    ['an encoded backslash in lower case', '/%5cevil'],
    ['an encoded tab', '/%09/evil'],
    ['a raw tab', '/\t/evil'],
    ['a raw newline', '/\n/evil'],
    ['a carriage return', '/\r/evil'],
    ['a space', '/ /evil'],
    ['an encoded NUL', '/%00evil'],
    ['an encoded line separator', '/%E2%80%A8evil'],
    ['a tab inside the scheme', 'java\tscript:alert(1)'],
    ['a newline inside the authority', 'https://intranet.example.com\n@evil/'],
    ['non-ASCII', '/\u2215\u2215evil'],
    ['a fullwidth solidus', '\uff0f\uff0fevil'],
    ['userinfo naming the trusted host', 'https://intranet.example.com@evil'],
    ['userinfo with a password', 'https://intranet.example.com:pw@evil/'],
    ['userinfo on the trusted host itself', 'https://user@intranet.example.com/'],
    ['an encoded @', 'https://intranet.example.com%40evil/'],
    ['a percent-encoded host', 'https://evil%2Ecom/'],
    ['http when allowHttp is false', 'http://intranet.example.com/wiki'],
    ['http to a protected host when allowHttp is false', 'http://wiki.example.com/'],
    ['ftp', 'ftp://intranet.example.com/'],
    ['a same-origin URL whose path starts with //', 'https://intranet.example.com//evil'],
    ['a same-origin URL with an encoded // path', 'https://intranet.example.com/%2F%2Fevil'],
    ['a path with // later on', '/a//evil'],
    ['a relative path without a slash', 'evil'],
    ['a dot path', './evil'],
    ['a malformed escape', '/%zz'],
    ['a trailing-dot host', 'https://wiki.example.com./'],
  ];
  for (const [name, rd] of refused) {
    test(`${name}: ${JSON.stringify(rd)}`, () => assert.equal(safeReturnUrl(rd, HTTPS), '/'));
  }

  test('undefined', () => assert.equal(safeReturnUrl(undefined, HTTPS), '/'));

  test('http to another host is refused even when allowHttp is true', () => {
    assert.equal(safeReturnUrl('http://evil/', DEMO), '/');
    assert.equal(safeReturnUrl('http://127.0.0.1:9999/', DEMO), '/');
  });

  test('an invalid origin refuses everything', () => {
    assert.equal(safeReturnUrl('/ok', { ...HTTPS, origin: 'not a url' }), '/');
  });

  test('whatever is accepted stays on a checked host: never starts with // or /\\', () => {
    const inputs = ['/', '/./', '/.//evil', '/..//evil', '/a/..//evil', '/%2e/%2e%2e//evil', '/.%2F/evil'];
    for (const rd of inputs) {
      const out = safeReturnUrl(rd, HTTPS);
      assert.ok(out.startsWith('/') && !out.startsWith('//') && !out.startsWith('/\\'), `${rd} → ${out}`);
    }
  });
});

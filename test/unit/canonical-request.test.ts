import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isMfaError } from '../../src/core/errors.ts';
import { canonicalRequest, checkFraming } from '../../src/http/canonical-request.ts';

const HOST = 'intranet.example.com';
const canon = (rawUrl: string, hostHeader: string | undefined = HOST, scheme: 'http' | 'https' = 'https') =>
  canonicalRequest({ rawUrl, hostHeader, scheme });
const withHost = (hostHeader: string | undefined) =>
  canonicalRequest({ rawUrl: '/', hostHeader, scheme: 'https' });

function assertRefused(run: () => unknown): void {
  assert.throws(run, (error: unknown) => isMfaError(error, 'input.invalid') && error.spec.httpStatus === 400);
}

describe('canonical path', () => {
  const toPrivate = [
    '/private',
    '/public/../private',
    '/public/%2e%2e/private',
    '/public/%2E%2e/private',
    '/public/.%2e/private',
    '//private',
    '///private',
    '/./private',
    '/%2e/private',
    '/public/..;/private',
    '/public/..;jsessionid=x/private',
    '/;x/private',
    '/a/b/../../private',
    '/../private',
    '/../../../../private',
    '/public/./../private',
    '/%70rivate',
    '/%70%72%69%76%61%74%65',
  ];
  for (const raw of toPrivate) {
    test(`every spelling of /private is checked as /private: ${raw}`, () => {
      const request = canon(raw);
      assert.equal(request.path, '/private');
      assert.equal(request.matchPath, '/private');
    });
  }

  const cases: Array<[string, string, string]> = [
    ['/', '/', '/'],
    ['/private;jsessionid=1', '/private;jsessionid=1', '/private'],
    ['/a;x/b;y=1/c', '/a;x/b;y=1/c', '/a/b/c'],
    ['/app/', '/app/', '/app/'],
    ['/app//', '/app/', '/app/'],
    ['/app/.', '/app/', '/app/'],
    ['/app/x/..', '/app/', '/app/'],
    ['/..', '/', '/'],
    ['/.', '/', '/'],
    ['/a/;x', '/a/', '/a/'],
    ['/%41%7e%2D%5f%2e/', '/A~-_./', '/A~-_./'],
    ['/caf%c3%a9', '/caf%C3%A9', '/caf%C3%A9'],
    ['/a%3fb', '/a%3Fb', '/a%3Fb'],
    ['/a%3bb/c', '/a%3Bb/c', '/a%3Bb/c'],
    ['/%2525', '/%2525', '/%2525'],
    ['/...', '/...', '/...'],
    ['/a/..x/b', '/a/..x/b', '/a/..x/b'],
  ];
  for (const [raw, path, matchPath] of cases) {
    test(`${raw} → path ${path}, matched as ${matchPath}`, () => {
      const request = canon(raw);
      assert.equal(request.path, path);
      assert.equal(request.matchPath, matchPath);
    });
  }

  test('percent-decoding happens once: %252e%252e is not a dot segment', () => {
    assert.equal(canon('/public/%252e%252e/private').path, '/public/%252e%252e/private');
  });

  test('the canonical path is a fixed point (canonicalising twice changes nothing)', () => {
    for (const raw of [...toPrivate, ...cases.map(([r]) => r)]) {
      const once = canon(raw);
      assert.equal(canon(once.path).path, once.path, raw);
    }
  });
});

describe('canonical path refusals', () => {
  const refused: Array<[string, string]> = [
    ['absolute-form', 'http://intranet.example.com/private'],
    ['authority-form', 'intranet.example.com:443'],
    ['asterisk-form', '*'],
    ['empty', ''],
    ['a fragment', '/private#x'],
    ['a space', '/pri vate'],
    ['a tab', '/pri\tvate'],
    ['a newline', '/private\n'],
    ['a NUL', '/private\0'],
    ['DEL', '/private\x7f'],
    ['non-ASCII', '/caf\u00e9'],
    ['a malformed escape', '/a%zz'],
    ['a truncated escape', '/a%2'],
    ['a lone percent', '/100%'],
    ['a backslash', '/public\\..\\private'],
    ['an encoded backslash', '/public%5C..%5Cprivate'],
    ['an encoded backslash in lower case', '/public%5c..%5cprivate'],
    ['an encoded slash', '/public%2F..%2Fprivate'],
    ['an encoded slash in lower case', '/public%2f..%2fprivate'],
    ['an encoded slash only', '/a%2Fb'],
    ['a fragment in the query', '/private?x=1#y'],
    ['a space in the query', '/private?x=a b'],
    ['a control character in the query', '/private?x=\r\n'],
    ['non-ASCII in the query', '/private?x=\u00e9'],
  ];
  for (const [name, raw] of refused) {
    test(`refuses ${name}: ${JSON.stringify(raw)}`, () => assertRefused(() => canon(raw)));
  }

  test('keeps the query as sent', () => {
    assert.equal(canon('/private?a=%2F..%2F&b=%zz;c=/../').query, '?a=%2F..%2F&b=%zz;c=/../');
    assert.equal(canon('/private?').query, '?');
    assert.equal(canon('/private').query, '');
  });

  test('a dot segment inside the query is not resolved', () => {
    const request = canon('/public?next=../private');
    assert.equal(request.path, '/public');
    assert.equal(request.query, '?next=../private');
  });
});

describe('canonical host', () => {
  const cases: Array<[string, 'http' | 'https', string, number, string]> = [
    ['intranet.example.com', 'https', 'intranet.example.com', 443, 'intranet.example.com'],
    ['Intranet.Example.COM', 'https', 'intranet.example.com', 443, 'intranet.example.com'],
    ['intranet.example.com.', 'https', 'intranet.example.com', 443, 'intranet.example.com'],
    ['intranet.example.com:443', 'https', 'intranet.example.com', 443, 'intranet.example.com'],
    ['intranet.example.com.:443', 'https', 'intranet.example.com', 443, 'intranet.example.com'],
    ['intranet.example.com:80', 'https', 'intranet.example.com', 80, 'intranet.example.com:80'],
    ['intranet.example.com', 'http', 'intranet.example.com', 80, 'intranet.example.com'],
    ['intranet.example.com:8080', 'http', 'intranet.example.com', 8080, 'intranet.example.com:8080'],
    ['localhost:8080', 'http', 'localhost', 8080, 'localhost:8080'],
    ['127.0.0.1:8080', 'http', '127.0.0.1', 8080, '127.0.0.1:8080'],
    ['[::1]:8080', 'http', '[::1]', 8080, '[::1]:8080'],
    ['[::1]', 'https', '[::1]', 443, '[::1]'],
    ['[2001:DB8::0001]:8443', 'https', '[2001:db8::1]', 8443, '[2001:db8::1]:8443'],
    ['xn--caf-dma.example', 'https', 'xn--caf-dma.example', 443, 'xn--caf-dma.example'],
    ['a-b.1x.example', 'https', 'a-b.1x.example', 443, 'a-b.1x.example'],
  ];
  for (const [header, scheme, host, port, authority] of cases) {
    test(`Host ${header} over ${scheme} → ${authority}`, () => {
      const request = canon('/', header, scheme);
      assert.deepEqual(
        { host: request.host, port: request.port, authority: request.authority, scheme: request.scheme },
        { host, port, authority, scheme },
      );
    });
  }

  const refused: Array<[string, string | undefined]> = [
    ['a missing Host', undefined],
    ['an empty Host', ''],
    ['userinfo', 'user@intranet.example.com'],
    ['userinfo naming the host', 'intranet.example.com@evil'],
    ['an empty port', 'intranet.example.com:'],
    ['port 0', 'intranet.example.com:0'],
    ['port 65536', 'intranet.example.com:65536'],
    ['a signed port', 'intranet.example.com:+443'],
    ['two ports', 'intranet.example.com:443:443'],
    ['an unbracketed IPv6 literal', '::1'],
    ['an unclosed IPv6 literal', '[::1'],
    ['junk after an IPv6 literal', '[::1]x'],
    ['an IPv6 zone id', '[fe80::1%25eth0]'],
    ['a bracketed IPv4 literal', '[127.0.0.1]'],
    ['a bracketed name', '[intranet]'],
    ['a path', 'intranet.example.com/x'],
    ['a backslash', 'intranet.example.com\\x'],
    ['a space', 'intranet example.com'],
    ['an underscore', 'intra_net.example.com'],
    ['an empty label', 'intranet..example.com'],
    ['two trailing dots', 'intranet.example.com..'],
    ['a leading dot', '.intranet.example.com'],
    ['a leading hyphen', '-intranet.example.com'],
    ['a label of 64 characters', `${'a'.repeat(64)}.example.com`],
    ['a short IPv4 form', '127.1'],
    ['a decimal IPv4 form', '2130706433'],
    ['a hex IPv4 form', '0x7f.0.0.1'],
    ['an octal IPv4 form', '0177.0.0.1'],
    ['non-ASCII', 'caf\u00e9.example'],
    ['a percent escape', 'intranet%2eexample.com'],
    ['a lone dot', '.'],
  ];
  for (const [name, header] of refused) {
    test(`refuses ${name}: ${JSON.stringify(header)}`, () => assertRefused(() => withHost(header)));
  }
});

describe('checkFraming', () => {
  const ok = (rawHeaders: string[], httpVersion = '1.1', method = 'POST') =>
    checkFraming({ method, rawHeaders, httpVersion });

  test('accepts an ordinary request', () => {
    ok(['Host', HOST, 'Content-Length', '12', 'Content-Type', 'text/plain']);
    ok(['Host', HOST, 'Transfer-Encoding', 'chunked']);
    ok(['Host', HOST, 'transfer-encoding', ' Chunked '], '1.1');
    ok(['Host', HOST], '1.0', 'GET');
    ok([], '1.0', 'GET');
  });

  const refused: Array<[string, string[], string?]> = [
    [
      'Transfer-Encoding with Content-Length',
      ['Host', HOST, 'Transfer-Encoding', 'chunked', 'Content-Length', '5'],
    ],
    [
      'Content-Length with Transfer-Encoding, either order',
      ['Content-Length', '5', 'transfer-encoding', 'chunked'],
    ],
    ['two Content-Length headers', ['Content-Length', '5', 'Content-Length', '5']],
    ['two Content-Length headers in different case', ['Content-Length', '5', 'content-length', '6']],
    ['a Content-Length list', ['Content-Length', '5, 5']],
    ['a signed Content-Length', ['Content-Length', '+5']],
    ['a hex Content-Length', ['Content-Length', '0x5']],
    ['an empty Content-Length', ['Content-Length', '']],
    ['a form feed around Content-Length', ['Content-Length', '\f5']],
    ['two Host headers', ['Host', HOST, 'host', 'evil.example.net']],
    ['Transfer-Encoding other than chunked', ['Transfer-Encoding', 'gzip']],
    ['Transfer-Encoding with chunked not alone', ['Transfer-Encoding', 'gzip, chunked']],
    ['Transfer-Encoding chunked twice in one value', ['Transfer-Encoding', 'chunked, chunked']],
    ['two Transfer-Encoding headers', ['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']],
    ['an obfuscated Transfer-Encoding', ['Transfer-Encoding', 'xchunked']],
    ['a Transfer-Encoding with a vertical tab', ['Transfer-Encoding', 'chunked\v']],
    ['Transfer-Encoding on HTTP/1.0', ['Transfer-Encoding', 'chunked'], '1.0'],
    ['a CR in a value', ['X-Note', 'a\rb']],
    ['an LF in a value', ['X-Note', 'a\nTransfer-Encoding: chunked']],
    ['a NUL in a value', ['X-Note', 'a\0b']],
    ['a space in a header name', ['Transfer-Encoding ', 'chunked']],
    ['a colon in a header name', ['X:Y', '1']],
    ['an empty header name', ['', '1']],
    ['a non-ASCII header name', ['X-Caf\u00e9', '1']],
    ['an unpaired header list', ['Host']],
  ];
  for (const [name, rawHeaders, version] of refused) {
    test(`refuses ${name}`, () => assertRefused(() => ok(rawHeaders, version)));
  }
});

test('a path whose escapes are not UTF-8 is refused, since servers disagree on how to read it', () => {
  assertRefused(() => canon('/files/M%FCller.txt'));
  assertRefused(() => canon('/files/%C3'));
  assert.equal(canon('/files/M%C3%BCller.txt').path, '/files/M%C3%BCller.txt');
});

// The administrators' pages at /enroll/admin over real sockets: every route refuses a visitor and
// a non-administrator before it reads or changes anything, each permission gates its own forms,
// CSRF protects every post, unblocking a locked-out user is audited with the administrator's name,
// and the audit CSV export cannot smuggle a formula into a spreadsheet.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { buildServices } from '../../src/main.ts';
import {
  browse,
  CookieJar,
  DEFAULT_USERS,
  type GatewaySite,
  startGatewaySite,
} from '../helpers/gateway-site.ts';

/** alice: every permission; bob: all but bypass; erin: read only; grace: the audit log only; frank: bypass only; dave: none. */
const GROUPS: Record<string, string[]> = { erin: ['helpdesk'], grace: ['auditors'], frank: ['vpn-users'] };
const USERS = DEFAULT_USERS.map((u) => ({ ...u, groups: GROUPS[u.username] ?? u.groups ?? [] }));
const ADMINS = `  admins:
    - { group: staff, permissions: ['users:read', 'users:write', enrollment, audit] }
    - { group: vpn-users, permissions: [bypass] }
    - { group: helpdesk, permissions: ['users:read'] }
    - { group: auditors, permissions: [audit] }`;

/** A user name that needs percent-encoding in a path and HTML-escaping in a page. */
const ODD_NAME = "o'brien.ops?x#y";

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

interface Browser {
  go: ReturnType<typeof browse>;
  csrf: string;
  post(path: string, fields?: Record<string, string>, options?: { csrf?: string | false }): Promise<Response>;
}

describe('the portal administration pages', () => {
  let site: GatewaySite;
  const as: Record<'alice' | 'bob' | 'erin' | 'grace' | 'frank' | 'dave', Browser> = {} as never;

  function browser(jar = new CookieJar(), csrf = ''): Browser {
    const go = browse(site, jar);
    const self: Browser = {
      go,
      csrf,
      post(path, fields = {}, options = {}) {
        const token = options.csrf === undefined ? self.csrf : options.csrf;
        const body = new URLSearchParams({ ...(token === false ? {} : { _csrf: token }), ...fields });
        return go(path, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: body.toString(),
        });
      },
    };
    return self;
  }

  /** A fresh browser with the CSRF cookie of the sign-in page and no session. */
  async function visitor(): Promise<Browser> {
    const b = browser();
    b.csrf = csrfOf(await (await b.go('/enroll/login')).text());
    assert.notEqual(b.csrf, '');
    return b;
  }

  async function signIn(username: string, password: string): Promise<Browser> {
    const b = await visitor();
    const first = await b.post('/enroll/login', { username, password });
    assert.equal(first.status, 303, `${username}: password step`);
    assert.equal(first.headers.get('location'), '/enroll/login/code');
    await (await b.go('/enroll/login/code')).text();
    const second = await b.post('/enroll/login/code', { code: site.code(username) });
    assert.equal(second.status, 303, `${username}: code step`);
    assert.equal(second.headers.get('location'), '/enroll');
    return b;
  }

  /** What an admin route could change: every user, alice's factors and window, and the admin audit trail. */
  async function snapshot(): Promise<string> {
    const services = await buildServices(loadConfig(`${site.dir}/config.yaml`), {
      logger: pino({ level: 'silent' }),
    });
    try {
      const users = await services.store.listUsers({ limit: 1000 });
      const admin = await services.store.queryAudit({ type: 'admin.', limit: 10_000 });
      const alice = await services.userAdmin.overview('alice');
      return JSON.stringify({ users, admin, alice });
    } finally {
      await services.close();
    }
  }

  async function adminEvents(type: string, username: string) {
    const services = await buildServices(loadConfig(`${site.dir}/config.yaml`), {
      logger: pino({ level: 'silent' }),
    });
    try {
      return await services.store.queryAudit({ type, username, limit: 100 });
    } finally {
      await services.close();
    }
  }

  before(async () => {
    site = await startGatewaySite({
      users: USERS,
      portalExtra: ADMINS,
      regulation: '  user: { maxFailures: 5 }\n  address: { maxFailures: 200 }',
      apps: `    - { name: intranet, match: { pathPrefix: / }, upstream: 'http://127.0.0.1:9', policy: two_factor }`,
    });
    as.alice = await signIn('alice', 'alice-pw');
    as.bob = await signIn('bob', 'bob-pw');
    as.erin = await signIn('erin', 'erin-pw');
    as.grace = await signIn('grace', 'grace-pw');
    as.frank = await signIn('frank', 'frank-pw');
    as.dave = await signIn('dave', 'dave-pw');
  });
  after(async () => {
    await site?.stop();
  });

  const GETS = [
    '/enroll/admin',
    '/enroll/admin?q=alice&status=any',
    '/enroll/admin/users/new',
    '/enroll/admin/users/alice',
    '/enroll/admin/users/nobody-here',
    '/enroll/admin/audit',
    '/enroll/admin/audit?user=alice',
    '/enroll/admin/audit.csv',
  ];
  const POSTS: Array<[string, Record<string, string>]> = [
    [
      '/enroll/admin/users',
      { username: 'mallory', displayName: 'Mallory', email: 'm@example.test', phone: '' },
    ],
    [
      '/enroll/admin/users/alice/settings',
      {
        displayName: 'Owned',
        email: 'owned@example.test',
        phone: '+14155550100',
        method: '',
        language: 'de',
      },
    ],
    ['/enroll/admin/users/alice/reset', { confirm: 'yes' }],
    ['/enroll/admin/users/alice/disable', {}],
    ['/enroll/admin/users/alice/enable', {}],
    ['/enroll/admin/users/alice/unblock', {}],
    ['/enroll/admin/users/alice/bypass', { seconds: '3600', reason: 'x' }],
    ['/enroll/admin/users/alice/enrollment-window', { hours: '24' }],
  ];

  test('a visitor without a session is sent to sign in, and a form post is refused', async () => {
    const b = await visitor();
    const before = await snapshot();
    for (const path of GETS) {
      const response = await b.go(path);
      await response.arrayBuffer();
      assert.equal(response.status, 303, path);
      assert.equal(response.headers.get('location'), '/enroll/login', path);
    }
    for (const [path, fields] of POSTS) {
      const response = await b.post(path, fields);
      assert.equal(response.status, 401, path);
      assert.doesNotMatch(await response.text(), /alice@example\.test/, path);
    }
    assert.equal(await snapshot(), before);
  });

  test('a non-administrator gets 403 on every admin route', async () => {
    const before = await snapshot();
    for (const path of GETS) {
      const response = await as.dave.go(path);
      const body = await response.text();
      assert.equal(response.status, 403, path);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/, path);
      assert.doesNotMatch(body, /alice@example\.test|id="users"|id="audit-log"|^time,/m, path);
    }
    for (const [path, fields] of POSTS) {
      const response = await as.dave.post(path, fields);
      await response.arrayBuffer();
      assert.equal(response.status, 403, path);
    }
    assert.equal(await snapshot(), before, 'nothing changed');
    // The navigation offers no administration to dave either.
    assert.doesNotMatch(await (await as.dave.go('/enroll')).text(), /href="\/enroll\/admin"/);
  });

  test('a read-only administrator sees users but no forms, and cannot change them', async () => {
    const list = await as.erin.go('/enroll/admin?q=alice');
    const html = await list.text();
    assert.equal(list.status, 200);
    assert.match(html, /<table id="users"/);
    assert.match(html, /<a class="user-link" href="\/enroll\/admin\/users\/alice">alice<\/a>/);
    assert.doesNotMatch(html, /id="add-user"|id="audit-link"/);
    const page = await (await as.erin.go('/enroll/admin/users/alice')).text();
    assert.match(page, /alice@example\.test/);
    assert.doesNotMatch(page, /<form method="post" action="\/enroll\/admin/);
    const before = await snapshot();
    for (const [path, fields] of POSTS) {
      const response = await as.erin.post(path, fields);
      await response.arrayBuffer();
      assert.equal(response.status, 403, path);
    }
    for (const path of ['/enroll/admin/users/new', '/enroll/admin/audit', '/enroll/admin/audit.csv']) {
      const response = await as.erin.go(path);
      await response.arrayBuffer();
      assert.equal(response.status, 403, path);
    }
    assert.equal(await snapshot(), before);
  });

  test('an auditor reads the audit log but no user', async () => {
    const start = await as.grace.go('/enroll/admin');
    await start.arrayBuffer();
    assert.equal(start.status, 303, 'the Administration link leads to what an auditor may see');
    assert.equal(start.headers.get('location'), '/enroll/admin/audit');
    const log = await as.grace.go('/enroll/admin/audit?user=alice');
    const html = await log.text();
    assert.equal(log.status, 200);
    assert.match(html, /<table id="audit-log"/);
    assert.doesNotMatch(html, /class="user-link"/, 'no links to user pages she may not open');
    const csv = await as.grace.go('/enroll/admin/audit.csv?user=alice');
    await csv.arrayBuffer();
    assert.equal(csv.status, 200);
    for (const path of ['/enroll/admin/users/alice', '/enroll/admin/users/new']) {
      const response = await as.grace.go(path);
      await response.arrayBuffer();
      assert.equal(response.status, 403, path);
    }
  });

  test('an administrator without the bypass permission cannot issue a bypass', async () => {
    const page = await (await as.bob.go('/enroll/admin/users/grace')).text();
    assert.match(page, /id="settings-form"/, 'bob may change users');
    assert.doesNotMatch(page, /id="bypass-form"/, 'but is not offered a bypass');
    const refused = await as.bob.post('/enroll/admin/users/grace/bypass', {
      seconds: '300',
      reason: 'lost phone',
    });
    await refused.arrayBuffer();
    assert.equal(refused.status, 403);
    assert.equal((await adminEvents('admin.bypass_issued', 'grace')).length, 0);

    const issued = await as.alice.post('/enroll/admin/users/grace/bypass', {
      seconds: '300',
      reason: 'lost phone',
    });
    assert.equal(issued.status, 303);
    assert.equal(issued.headers.get('location'), '/enroll/admin/users/grace?done=bypass');
    const events = await adminEvents('admin.bypass_issued', 'grace');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.actor, 'alice');
    assert.equal(events[0]?.channel, 'portal');
    assert.match(await (await as.alice.go('/enroll/admin/users/grace?done=bypass')).text(), /id="done"/);
  });

  test('an administrator who may only issue bypasses never sees a user page, not even with a wrong form', async () => {
    const page = await as.frank.go('/enroll/admin/users/carol');
    await page.arrayBuffer();
    assert.equal(page.status, 403);
    const wrong = await as.frank.post('/enroll/admin/users/carol/bypass', { seconds: '0' });
    const html = await wrong.text();
    assert.equal(wrong.status, 400);
    assert.doesNotMatch(html, /id="user-details"|id="user-events"/);
    assert.match(html, /The input is not valid\. \(seconds\)/);
    const issued = await as.frank.post('/enroll/admin/users/carol/bypass', { seconds: '60' });
    await issued.arrayBuffer();
    assert.equal(issued.status, 303);
    assert.deepEqual(
      (await adminEvents('admin.bypass_issued', 'carol')).map((e) => e.actor),
      ['frank'],
    );
  });

  test('an administrator unblocks a user locked out after 5 wrong passwords; the audit log names the administrator', async () => {
    const frank = await visitor();
    for (let i = 0; i < 5; i += 1) {
      const wrong = await frank.post('/enroll/login', { username: 'frank', password: `wrong-${i}` });
      await wrong.arrayBuffer();
      assert.equal(wrong.status, 401);
    }
    const locked = await frank.post('/enroll/login', { username: 'frank', password: 'frank-pw' });
    await locked.arrayBuffer();
    assert.equal(locked.status, 401, 'the right password is refused while locked');

    const list = await (await as.alice.go('/enroll/admin')).text();
    assert.match(list, /<ul id="lockouts"[\s\S]*href="\/enroll\/admin\/users\/frank"/);
    assert.match(await (await as.alice.go('/enroll/admin/users/frank')).text(), /id="user-locked"/);

    const unblock = await as.alice.post('/enroll/admin/users/frank/unblock');
    assert.equal(unblock.status, 303);
    assert.equal(unblock.headers.get('location'), '/enroll/admin/users/frank?done=unblock');
    const after = await (await as.alice.go('/enroll/admin/users/frank?done=unblock')).text();
    assert.match(after, /<p class="admin-done" role="status" id="done">The user was unblocked\.<\/p>/);
    assert.doesNotMatch(after, /id="user-locked"/);
    assert.doesNotMatch(await (await as.alice.go('/enroll/admin')).text(), /id="lockouts"/);

    const again = await frank.post('/enroll/login', { username: 'frank', password: 'frank-pw' });
    await again.arrayBuffer();
    assert.equal(again.status, 303, 'frank may sign in again');
    assert.equal(again.headers.get('location'), '/enroll/login/code');

    const audit = await as.alice.go('/enroll/admin/audit?user=frank&type=admin.user_unblock');
    const html = await audit.text();
    assert.equal(audit.status, 200);
    const rows = /<table id="audit-log"[\s\S]*?<\/table>/.exec(html)?.[0].match(/<tr>[\s\S]*?<\/tr>/g) ?? [];
    const row = rows.find((r) => r.includes('admin.user_unblock'));
    assert.ok(row, 'the unblock is in the audit log');
    assert.match(row, /<td>alice<\/td>/, 'with the administrator as the actor');
    assert.match(row, /href="\/enroll\/admin\/users\/frank">frank</);
    assert.match(html, /href="\/enroll\/admin\/audit\.csv\?user=frank&amp;type=admin\.user_unblock"/);
  });

  test('a form without its CSRF token changes nothing', async () => {
    const before = await snapshot();
    for (const csrf of [false, 'A'.repeat(32)] as const) {
      const response = await as.alice.post('/enroll/admin/users/alice/disable', {}, { csrf });
      await response.arrayBuffer();
      assert.equal(response.status, 400);
      const added = await as.alice.post('/enroll/admin/users', { username: 'csrf-victim' }, { csrf });
      await added.arrayBuffer();
      assert.equal(added.status, 400);
    }
    assert.equal(await snapshot(), before);
    assert.match(await (await as.alice.go('/enroll/admin/users/alice')).text(), /id="user-status">Enabled</);
  });

  test('the audit CSV quotes cells per RFC 4180 and defuses cells a spreadsheet would run', async () => {
    const b = await visitor();
    for (const username of [`=cmd|' /C calc'!A0`, '-2+3,"quoted"', '@sum(1)']) {
      const response = await b.post('/enroll/login', { username, password: 'x' });
      await response.arrayBuffer();
      assert.equal(response.status, 401);
    }
    const csv = await as.alice.go('/enroll/admin/audit.csv?type=auth.primary&outcome=failure');
    const text = await csv.text();
    assert.equal(csv.status, 200);
    assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.match(
      csv.headers.get('content-disposition') ?? '',
      /^attachment; filename="audit-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    assert.equal(csv.headers.get('cache-control'), 'no-store');
    const lines = text.split('\r\n');
    assert.equal(lines[0], 'time,type,outcome,channel,user,actor,client_address,reason,application,details');
    assert.equal(lines.at(-1), '', 'every row ends in CRLF');
    assert.ok(
      lines.some((l) => l.includes(`,'=cmd|' /c calc'!a0,`)),
      'a formula gets a leading quote mark',
    );
    assert.ok(
      lines.some((l) => l.includes(`,"'-2+3,""quoted""",`)),
      'quoted, quotes doubled, and defused',
    );
    assert.ok(lines.some((l) => l.includes(`,'@sum(1),`)));
    assert.ok(!/(^|,)[=+\-@]/m.test(text), 'no cell starts with a formula character');
    for (const line of lines.slice(1, -1))
      assert.match(line, /^\d{4}-\d{2}-\d{2}T[^,]+,auth\.primary,failure,/);

    // The page shows the same events, escaped, and links the same filters to the export.
    const page = await (await as.alice.go('/enroll/admin/audit?type=auth.primary&outcome=failure')).text();
    assert.match(page, /-2\+3,&quot;quoted&quot;/);
    assert.match(page, /href="\/enroll\/admin\/audit\.csv\?type=auth\.primary&amp;outcome=failure"/);
  });

  test('audit filters: UTC days, a type family and a bad date', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const page = await as.alice.go(
      `/enroll/admin/audit?since=${today}&until=${today}&type=admin.&limit=1000`,
    );
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(html, /admin\.bypass_issued/);
    assert.doesNotMatch(html, /<code>auth\.primary<\/code>/);
    const old = await (await as.alice.go('/enroll/admin/audit?until=2000-01-01')).text();
    assert.match(old, /id="no-events"/);
    const bad = await as.alice.go('/enroll/admin/audit?since=2024-02-31');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /role="alert"[^>]*>The input is not valid\. \(since\)/);
    const tooMany = await as.alice.go('/enroll/admin/audit.csv?limit=10001');
    await tooMany.arrayBuffer();
    assert.equal(tooMany.status, 400);
  });

  test('an administrator adds a user, edits settings, opens an enrollment window and resets factors', async () => {
    const form = await as.bob.go('/enroll/admin/users/new');
    assert.equal(form.status, 200);
    assert.match(await form.text(), /<form method="post" action="\/enroll\/admin\/users"/);
    const bad = await as.bob.post('/enroll/admin/users', { username: 'hal 9000', phone: '' });
    assert.equal(bad.status, 400);
    const badHtml = await bad.text();
    assert.match(badHtml, /id="form-error">The input is not valid\. \(username\)/);
    assert.match(badHtml, /value="hal 9000"/, 'the form keeps what was typed');
    const exists = await as.bob.post('/enroll/admin/users', { username: 'Alice' });
    assert.equal(exists.status, 409);
    assert.match(await exists.text(), /The user already exists\./);

    const added = await as.bob.post('/enroll/admin/users', {
      username: ODD_NAME,
      displayName: 'Pat <O’Brien>',
      email: 'pat@example.test',
      phone: '+4930123456',
    });
    const path = `/enroll/admin/users/${encodeURIComponent(ODD_NAME)}`;
    assert.equal(added.status, 303);
    assert.equal(added.headers.get('location'), `${path}?done=add`);
    const page = await (await as.bob.go(path)).text();
    assert.match(page, /Pat &lt;O’Brien&gt;/);
    assert.ok(
      page.includes(`action="${path.replaceAll("'", '&#39;')}/settings"`),
      'forms post to the encoded path',
    );

    const saved = await as.bob.post(`${path}/settings`, {
      displayName: 'Pat',
      email: '',
      phone: '+49 30 123456',
      backupPhone: '+14155550100',
      method: 'totp',
      language: 'de',
    });
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.get('location'), `${path}?done=settings`);
    const details = /<dl [\s\S]*?<\/dl>/.exec(await (await as.bob.go(path)).text())?.[0] ?? '';
    assert.match(details, /<dd>\+4930123456, \+14155550100<\/dd>/);
    assert.match(details, /<dd>Deutsch<\/dd>/);
    assert.match(details, /<dd>Authenticator app<\/dd>/);
    const badPhone = await as.bob.post(`${path}/settings`, { phone: '12345', language: 'xx' });
    assert.equal(badPhone.status, 400);
    assert.match(await badPhone.text(), /id="form-error">The input is not valid\./);

    const window = await as.bob.post('/enroll/admin/users/carol/enrollment-window', { hours: '2' });
    assert.equal(window.status, 303);
    assert.match(
      await (await as.bob.go('/enroll/admin/users/carol')).text(),
      /id="user-window">open until \d{4}-/,
    );
    const tooLong = await as.bob.post('/enroll/admin/users/carol/enrollment-window', { hours: '169' });
    assert.equal(tooLong.status, 400);
    await tooLong.arrayBuffer();

    const unconfirmed = await as.bob.post('/enroll/admin/users/grace/reset', {});
    assert.equal(unconfirmed.status, 400);
    assert.match(await unconfirmed.text(), /\(confirm\)/);
    assert.match(await (await as.bob.go('/enroll/admin/users/grace')).text(), /<table id="factors"/);
    const reset = await as.bob.post('/enroll/admin/users/grace/reset', { confirm: 'yes' });
    assert.equal(reset.status, 303);
    assert.match(await (await as.bob.go('/enroll/admin/users/grace')).text(), /id="no-factors"/);

    const disabled = await as.bob.post(`${path}/disable`);
    assert.equal(disabled.status, 303);
    assert.match(await (await as.bob.go(`/enroll/admin?status=disabled`)).text(), /o&#39;brien\.ops\?x#y/);
    const events = await adminEvents('admin.', ODD_NAME);
    assert.deepEqual(
      events.map((e) => [e.type, e.actor]),
      [
        ['admin.user_add', 'bob'],
        ['admin.user_update', 'bob'],
        ['admin.user_disable', 'bob'],
      ],
    );
  });

  test('an unknown user is a 404 page', async () => {
    const response = await as.alice.go('/enroll/admin/users/nobody-here');
    assert.equal(response.status, 404);
    assert.match(await response.text(), /No such user\./);
    const post = await as.alice.post('/enroll/admin/users/nobody-here/disable');
    assert.equal(post.status, 404);
    await post.arrayBuffer();
  });
});

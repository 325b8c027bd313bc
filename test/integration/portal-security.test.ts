// The portal's security properties over real sockets, checked in the store: the password alone never
// adds or replaces a factor of a user who has one; a form without its CSRF token changes nothing; the
// trusted-only first-enrollment policy holds (and a forged X-Forwarded-For does not satisfy it);
// answers and PINs are stored only as hashes; form posts are rate limited per address; a gateway
// session cookie is not a portal session.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  browse,
  CookieJar,
  type GatewaySite,
  oathtoolCode,
  signIn,
  startGatewaySite,
} from '../helpers/gateway-site.ts';

const APPS = `    - name: intranet
      match: { pathPrefix: /app }
      upstream: 'http://127.0.0.1:9'
      policy: two_factor`;

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

interface Client {
  go: ReturnType<typeof browse>;
  jar: CookieJar;
  csrf: string;
  post(
    path: string,
    fields?: Record<string, string>,
    options?: { csrf?: string | false; headers?: Record<string, string> },
  ): Promise<Response>;
}

function client(site: GatewaySite): Client {
  const jar = new CookieJar();
  const go = browse(site, jar);
  const self: Client = {
    go,
    jar,
    csrf: '',
    post(path, fields = {}, options = {}) {
      const token = options.csrf === undefined ? self.csrf : options.csrf;
      return go(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
        body: new URLSearchParams({ ...(token === false ? {} : { _csrf: token }), ...fields }).toString(),
      });
    },
  };
  return self;
}

/** Opens the sign-in page (CSRF cookie), posts the password; returns where the portal sent the client. */
async function password(
  site: GatewaySite,
  username: string,
  pw: string,
  headers: Record<string, string> = {},
) {
  const c = client(site);
  c.csrf = csrfOf(await (await c.go('/enroll/login')).text());
  const answer = await c.post('/enroll/login', { username, password: pw }, { headers });
  await answer.text();
  return { c, location: answer.headers.get('location'), status: answer.status };
}

async function fullSignIn(site: GatewaySite, username: string): Promise<Client> {
  const { c, location } = await password(site, username, `${username}-pw`);
  assert.equal(location, '/enroll/login/code');
  const done = await c.post('/enroll/login/code', { code: site.code(username) });
  assert.equal(done.headers.get('location'), '/enroll');
  return c;
}

function readStore(site: GatewaySite) {
  const db = new Database(join(site.dir, 'data', 'mfa.db'), { readonly: true, fileMustExist: true });
  try {
    const factors = (username: string) =>
      (
        db
          .prepare(
            'select count(*) as n from factors f join users u on u.id = f.user_id where u.username = ?',
          )
          .get(username) as { n: number }
      ).n;
    const user = (username: string) =>
      db.prepare('select phones, pin_hash from users where username = ?').get(username) as {
        phones: string;
        pin_hash: string | null;
      };
    return {
      factors,
      user,
      answers: (username: string) =>
        db
          .prepare(
            'select a.answer_hash from security_answers a join users u on u.id = a.user_id where u.username = ?',
          )
          .all(username) as Array<{ answer_hash: string }>,
    };
  } finally {
    setImmediate(() => db.close());
  }
}

describe('the portal with a trusted network (password alone signs in)', () => {
  let site: GatewaySite;
  before(async () => {
    site = await startGatewaySite({
      apps: APPS,
      portalExtra: `  trustedNetworks: [127.0.0.1/32]
  enrollment: { promptOathToken: true }
  pin: { required: true }`,
    });
  });
  after(() => site?.stop());

  test('a user who has a factor cannot add or replace one with the password alone', async () => {
    const { c, location } = await password(site, 'alice', 'alice-pw');
    assert.equal(location, '/enroll', 'the trusted network signs in with the password');
    assert.equal(readStore(site).factors('alice'), 1);

    const page = await c.go('/enroll/authenticator');
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/enroll/stepup?rd=%2Fenroll%2Fauthenticator');
    c.csrf = csrfOf(await (await c.go('/enroll')).text());

    // Straight to the posts, with a seed and a valid code for it: still refused.
    const seed = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBV';
    const code = oathtoolCode(seed, Math.floor(Date.now() / 30_000));
    const token = await c.post('/enroll/authenticator/token', { secret: seed, code });
    assert.equal(token.headers.get('location'), '/enroll/stepup?rd=%2Fenroll%2Fauthenticator');
    const home = await (await c.go('/enroll')).text();
    const factorId = /\/enroll\/devices\/([^/]+)\/remove/.exec(home)?.[1];
    assert.ok(factorId);
    const removal = await c.post(`/enroll/devices/${factorId}/remove`);
    assert.equal(removal.headers.get('location'), '/enroll/stepup?rd=%2Fenroll');
    const bypass = await c.post('/enroll/bypass', { seconds: '300' });
    assert.equal(bypass.headers.get('location'), '/enroll/stepup?rd=%2Fenroll');
    assert.equal(readStore(site).factors('alice'), 1, 'no factor was added or removed');

    // With the current code (the step-up), the same removal goes through.
    const stepUp = await c.post('/enroll/stepup', { code: site.code('alice'), rd: '/enroll' });
    assert.equal(stepUp.headers.get('location'), '/enroll');
    const again = await c.post(`/enroll/devices/${factorId}/remove`);
    assert.equal(again.headers.get('location'), '/enroll?done=removed');
    assert.equal(readStore(site).factors('alice'), 0);
  });

  test('a gateway session cookie is not a portal session', async () => {
    const { jar } = await signIn(site, 'grace', 'grace-pw', { rd: '/app' });
    const gatewayCookie = jar.cookies.get('mfa_session');
    assert.ok(gatewayCookie);
    const forged = new CookieJar();
    forged.cookies.set('mfa_portal', gatewayCookie);
    const answer = await browse(site, forged)('/enroll');
    assert.equal(answer.headers.get('location'), '/enroll/login');
  });
});

describe('the portal with first enrollment only from trusted networks', () => {
  let site: GatewaySite;
  before(async () => {
    site = await startGatewaySite({
      apps: APPS,
      portalExtra: `  trustedNetworks: [10.0.0.0/8]
  enrollment: { firstEnrollment: trusted-networks }`,
    });
  });
  after(() => site?.stop());

  test('first enrollment outside a trusted network is refused when the policy says trusted-only', async () => {
    // X-Forwarded-For from an untrusted peer (no trusted proxies) does not make the client trusted.
    const { c, location } = await password(site, 'carol', 'carol-pw', { 'x-forwarded-for': '10.1.2.3' });
    assert.equal(location, '/enroll/setup');
    const setup = await c.go('/enroll/setup');
    assert.equal(setup.status, 403);
    assert.match(await setup.text(), /Enrollment is not available here/);
    const page = await c.go('/enroll/authenticator');
    assert.equal(page.status, 403);
    c.csrf = csrfOf(await page.text());
    const seed = 'MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43UMFRGGZDF';
    const code = oathtoolCode(seed, Math.floor(Date.now() / 30_000));
    for (const path of ['/enroll/authenticator', '/enroll/phone', '/enroll/questions']) {
      const answer = await c.post(path, { code, phone: '+4930999888', secret: seed });
      assert.ok(answer.status >= 300 && answer.status !== 200, `${path}: ${answer.status}`);
    }
    assert.equal(readStore(site).factors('carol'), 0);
    assert.deepEqual(JSON.parse(readStore(site).user('carol').phones), []);
  });

  test('a form without its CSRF token changes nothing', async () => {
    const c = await fullSignIn(site, 'bob');
    c.csrf = csrfOf(await (await c.go('/enroll/phone')).text());
    const before = readStore(site).user('bob');
    for (const csrf of [false, 'A'.repeat(32), ''] as const) {
      const answer = await c.post('/enroll/phone', { phone: '+4930111222' }, { csrf });
      assert.equal(answer.status, 400);
    }
    const language = await c.post('/enroll/language', { language: 'de' }, { csrf: false });
    assert.equal(language.status, 400);
    assert.deepEqual(readStore(site).user('bob'), before);
    const saved = await c.post('/enroll/phone', { phone: '+4930111222' });
    assert.equal(saved.headers.get('location'), '/enroll?done=phone');
    assert.deepEqual(JSON.parse(readStore(site).user('bob').phones), ['+4930111222']);
  });

  test('security answers and PINs are not readable in the database', async () => {
    const c = await fullSignIn(site, 'erin');
    c.csrf = csrfOf(await (await c.go('/enroll/questions')).text());
    const answers = ['Wuffelhund', 'Kleinstadtheim', 'Sonnenschule', 'Freundfritz'];
    const ids = ['first-pet', 'birth-city', 'first-school', 'childhood-friend'];
    const fields = Object.fromEntries(
      ids.flatMap((id, i) => [
        [`question_${i + 1}`, id],
        [`answer_${i + 1}`, answers[i] ?? ''],
      ]),
    );
    assert.equal(
      (await c.post('/enroll/questions', fields)).headers.get('location'),
      '/enroll?done=questions',
    );
    const weak = await c.post('/enroll/pin', { pin: '1234', pinConfirm: '1234' });
    assert.equal(weak.status, 400, 'a weak PIN is refused');
    assert.equal((await c.post('/enroll/pin', { pin: '480913', pinConfirm: '480913' })).status, 303);

    const stored = readStore(site);
    assert.equal(stored.answers('erin').length, 4);
    for (const { answer_hash } of stored.answers('erin')) assert.match(answer_hash, /^\$argon2id\$/);
    assert.match(stored.user('erin').pin_hash ?? '', /^\$argon2id\$/);
    const raw = ['mfa.db', 'mfa.db-wal']
      .map((f) => {
        try {
          return readFileSync(join(site.dir, 'data', f))
            .toString('latin1')
            .toLowerCase();
        } catch {
          return '';
        }
      })
      .join('');
    for (const secret of [...answers, '480913']) assert.ok(!raw.includes(secret.toLowerCase()), secret);
  });
});

describe('the portal with a low limit on form posts', () => {
  let site: GatewaySite;
  before(async () => {
    site = await startGatewaySite({ apps: APPS, portalExtra: '  rateLimitPerMinute: 12' });
  });
  after(() => site?.stop());

  test('form posts beyond the per-address limit are refused with 429, pages still answer', async () => {
    const c = client(site);
    c.csrf = csrfOf(await (await c.go('/enroll/login')).text());
    const statuses: number[] = [];
    for (let i = 0; i < 16; i++) {
      const answer = await c.post('/enroll/login', { username: 'bob', password: 'wrong' });
      await answer.text();
      statuses.push(answer.status);
    }
    assert.ok(statuses.includes(429), `statuses: ${statuses.join(',')}`);
    assert.equal(statuses.at(-1), 429);
    const page = await c.go('/enroll/login');
    assert.equal(page.status, 200, 'pages are not limited');
  });
});

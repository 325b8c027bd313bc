// RADIUS against FreeRADIUS's own client (Debian freeradius-utils) on loopback: the exchanges a
// NetScaler or an RRAS server makes, and the ones this server must refuse by staying silent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GatewaySite } from '../helpers/gateway-site.ts';
import { radclient, SECRETS, startRadiusSite } from '../helpers/radius.ts';

describe('RADIUS with radclient', () => {
  let site: GatewaySite;
  let authPort: number;
  let accountingPort: number;
  let v6Port: number;

  before(async () => {
    ({ site, authPort, accountingPort, v6Port } = await startRadiusSite());
  });
  after(async () => {
    await site.stop();
  });

  const auth = (lines: string[], secret: string = SECRETS.netscaler) =>
    radclient({ port: authPort, secret, command: 'auth', lines: [...lines, 'Message-Authenticator = 0x00'] });

  it('PAP with a wrong password is rejected, with the Message-Authenticator radclient verifies', async () => {
    const answer = await auth(['User-Name = "alice"', 'User-Password = "wrong"']);
    assert.equal(answer.code, 'Access-Reject', answer.output);
  });

  it('challenge round trip: the password gets Access-Challenge, the code with its State gets Access-Accept', async () => {
    const first = await auth(['User-Name = "alice"', 'User-Password = "alice-pw"']);
    assert.equal(first.code, 'Access-Challenge', first.output);
    assert.equal(first.attributes.get('Reply-Message'), 'Enter your code or type push');
    const state = first.attributes.get('State');
    assert.match(state ?? '', /^0x[0-9a-f]{32,}$/, 'State of at least 16 bytes');
    const second = await auth([
      'User-Name = "alice"',
      `User-Password = "${site.code('alice')}"`,
      `State = ${state}`,
    ]);
    assert.equal(second.code, 'Access-Accept', second.output);
    assert.equal(second.attributes.get('Class'), '0x6d66612d67617465776179', 'Class = "mfa-gateway"');
  });

  it('the reply attributes follow directory groups (Citrix-Group-Names for vpn-admins only)', async () => {
    const first = await auth(['User-Name = "alice"', 'User-Password = "alice-pw"']);
    const state = first.attributes.get('State');
    const done = await auth([
      'User-Name = "alice"',
      `User-Password = "${site.code('alice')}"`,
      `State = ${state}`,
    ]);
    assert.equal(done.code, 'Access-Accept', done.output);
    assert.equal(done.attributes.has('Citrix-Group-Names'), false, 'alice is not in vpn-admins');
  });

  it('a State cannot be replayed', async () => {
    const first = await auth(['User-Name = "bob"', 'User-Password = "bob-pw"']);
    const state = first.attributes.get('State');
    const code = site.code('bob');
    const lines = ['User-Name = "bob"', `User-Password = "${code}"`, `State = ${state}`];
    assert.equal((await auth(lines)).code, 'Access-Accept');
    assert.equal((await auth(lines)).code, 'Access-Reject');
  });

  it('a request without Message-Authenticator is dropped when the client requires one', async () => {
    const answer = await radclient({
      port: authPort,
      secret: SECRETS.netscaler,
      command: 'auth',
      lines: ['User-Name = "alice"', 'User-Password = "alice-pw"'],
    });
    assert.equal(answer.code, undefined, answer.output);
  });

  it('a request signed with the wrong secret is dropped', async () => {
    const answer = await auth(
      ['User-Name = "alice"', 'User-Password = "alice-pw"'],
      'not-the-secret-000000000',
    );
    assert.equal(answer.code, undefined, answer.output);
  });

  it('a datagram from an address that is no client is dropped (radclient over IPv6 to a listener whose client is not ::1)', async () => {
    // ::1 is a client only of the append mode; the v4 port's clients never include ::1, so the
    // same request sent to the IPv6 listener with the netscaler secret is unknown there.
    const answer = await radclient({
      port: v6Port,
      host: '::1',
      secret: SECRETS.netscaler,
      command: 'auth',
      lines: ['User-Name = "alice"', 'User-Password = "alice-pw"', 'Message-Authenticator = 0x00'],
    });
    assert.equal(answer.code, undefined, answer.output);
  });

  it('IPv6: append mode over [::1] accepts password,code', async () => {
    const answer = await radclient({
      port: v6Port,
      host: '::1',
      secret: SECRETS.v6,
      command: 'auth',
      lines: [
        'User-Name = "erin"',
        `User-Password = "erin-pw,${site.code('erin')}"`,
        'Message-Authenticator = 0x00',
      ],
    });
    assert.equal(answer.code, 'Access-Accept', answer.output);
  });

  it('accounting is answered with Accounting-Response', async () => {
    const answer = await radclient({
      port: accountingPort,
      secret: SECRETS.netscaler,
      command: 'acct',
      lines: ['User-Name = "alice"', 'Acct-Status-Type = Start', 'Acct-Session-Id = "s-1"'],
    });
    assert.equal(answer.code, 'Accounting-Response', answer.output);
  });

  it('Status-Server is answered on the authentication and the accounting port', async () => {
    for (const port of [authPort, accountingPort]) {
      const answer = await radclient({
        port,
        secret: SECRETS.netscaler,
        command: 'status',
        lines: ['Message-Authenticator = 0x00'],
      });
      assert.match(answer.code ?? '', /^(Access-Accept|Accounting-Response)$/, answer.output);
      assert.ok(answer.attributes.has('Message-Authenticator'), 'signed, and radclient verified it');
    }
  });
});

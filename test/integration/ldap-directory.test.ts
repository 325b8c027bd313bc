// The LDAP directory adapter against a real OpenLDAP slapd (test/helpers/slapd.ts): binds, groups,
// filter injection, outages, server order, connection reuse, TLS and listing.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { LdapConfig } from '../../src/config/schema.ts';
import { systemClock } from '../../src/core/clock.ts';
import { isMfaError } from '../../src/core/errors.ts';
import type { Directory } from '../../src/core/ports.ts';
import { createLdapDirectory } from '../../src/directory/ldap-directory.ts';
import { firstRdnValue, formatGuid } from '../../src/directory/ldap-entry.ts';
import { type SlapdHandle, startSlapd, TEST_USERS } from '../helpers/slapd.ts';
import { failure } from '../helpers/users.ts';

const TIMEOUT = { timeout: 30_000 };
const ALICE_GUID = '7a3b5c1d-2e4f-4a6b-8c9d-0e1f2a3b4c5d';
/** bob's GUID bytes are printable ASCII: they must still be read as binary. */
const BOB_GUID = '44434241-4645-4847-494a-4b4c4d4e4f50';

const opened: Directory[] = [];

function configFor(slapd: SlapdHandle, overrides: Partial<LdapConfig> = {}): LdapConfig {
  return {
    servers: [slapd.url],
    startTls: false,
    bindDn: slapd.serviceDn,
    bindPassword: slapd.servicePassword,
    baseDn: slapd.baseDn,
    usernameAttribute: 'sAMAccountName',
    userFilter: '(objectClass=person)',
    attributes: {
      uniqueId: 'objectGUID',
      displayName: 'displayName',
      email: 'mail',
      phones: ['mobile', 'telephoneNumber'],
      memberOf: 'memberOf',
    },
    groups: { mode: 'memberOf', filter: '(member={dn})', nameAttribute: 'cn' },
    connectTimeoutMs: 1000,
    timeoutMs: 2000,
    import: {},
    ...overrides,
  };
}

function directoryFor(config: LdapConfig): Directory {
  const directory = createLdapDirectory(config, { clock: systemClock });
  opened.push(directory);
  return directory;
}

/** A port on 127.0.0.1 with nothing listening (refuses connections). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

/** A TCP server on 127.0.0.1 that accepts connections and never answers. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `ldap://127.0.0.1:${port}/`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

after(async () => {
  await Promise.all(opened.map((directory) => directory.close()));
});

describe('LDAP directory against a real slapd', () => {
  let slapd: SlapdHandle;

  before(async () => {
    slapd = await startSlapd({ tls: true });
  });
  after(async () => {
    await slapd?.stop();
  });

  test(
    'binds as the user found by sAMAccountName and reads groups, phones, e-mail and the objectGUID',
    TIMEOUT,
    async () => {
      const directory = directoryFor(configFor(slapd));
      const user = await directory.authenticate('alice', TEST_USERS.alice.password);
      assert.deepEqual(user, {
        username: 'alice',
        uniqueId: ALICE_GUID,
        dn: TEST_USERS.alice.dn,
        displayName: 'Alice Adams',
        email: 'alice@example.test',
        phones: ['+15550100001', '+15550100002'],
        groups: ['VPN Users', 'Staff'],
      });
      const log = await slapd.settledLog();
      assert.match(log, new RegExp(`BIND dn="${TEST_USERS.alice.dn}" mech=SIMPLE`));
    },
  );

  test('binds as the user found by userPrincipalName', TIMEOUT, async () => {
    const directory = directoryFor(configFor(slapd, { usernameAttribute: 'userPrincipalName' }));
    const user = await directory.authenticate('Bob@Example.test', TEST_USERS.bob.password);
    assert.equal(user.username, 'bob@example.test');
    assert.equal(user.dn, TEST_USERS.bob.dn);
    assert.equal(user.uniqueId, BOB_GUID);
  });

  test('binds as the user found by uid, with entryUUID as the unique id', TIMEOUT, async () => {
    const attributes = { ...configFor(slapd).attributes, uniqueId: 'entryUUID' };
    const directory = directoryFor(configFor(slapd, { usernameAttribute: 'uid', attributes }));
    const user = await directory.authenticate('carol', TEST_USERS.carol.password);
    assert.equal(user.username, 'carol');
    assert.match(user.uniqueId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.deepEqual(user.groups, ['VPN Users']);
  });

  test(
    'groups.mode search finds the groups whose member is the user, with the DN escaped',
    TIMEOUT,
    async () => {
      const groups = {
        mode: 'search' as const,
        filter: '(&(objectClass=groupOfNames)(member={dn}))',
        nameAttribute: 'cn',
      };
      const directory = directoryFor(configFor(slapd, { groups }));
      const alice = await directory.authenticate('alice', TEST_USERS.alice.password);
      assert.deepEqual([...alice.groups].sort(), ['Staff', 'VPN Users']);
      const dave = await directory.authenticate('dave', TEST_USERS.dave.password);
      assert.deepEqual(dave.groups, ['Ops, Night Shift']);
    },
  );

  test('memberOf group names are the first RDN value, escaped commas undone', TIMEOUT, async () => {
    const dave = await directoryFor(configFor(slapd)).findUser('dave');
    assert.deepEqual(dave?.groups, ['Ops, Night Shift']);
  });

  test(
    'phones come in the configured order without repeats; no phone gives an empty list',
    TIMEOUT,
    async () => {
      const directory = directoryFor(
        configFor(slapd, {
          attributes: { ...configFor(slapd).attributes, phones: ['telephoneNumber', 'mobile'] },
        }),
      );
      assert.deepEqual((await directory.findUser('alice'))?.phones, ['+15550100002', '+15550100001']);
      assert.deepEqual((await directory.findUser('bob'))?.phones, ['+15550100003']);
      assert.deepEqual((await directory.findUser('carol'))?.phones, []);
    },
  );

  test('a user without the unique-id attribute falls back to the DN', TIMEOUT, async () => {
    const carol = await directoryFor(configFor(slapd)).findUser('carol');
    assert.equal(carol?.uniqueId, TEST_USERS.carol.dn);
  });

  test('an empty password never binds', TIMEOUT, async () => {
    const directory = directoryFor(configFor(slapd));
    const wrong = await failure(directory.authenticate('alice', 'not-her-password'));
    const connectionsBefore = await slapd.acceptedConnections();
    const logBefore = (await slapd.settledLog()).length;

    const empty = await failure(directory.authenticate('alice', ''));
    assert.equal(empty.code, 'auth.invalid_credentials');
    assert.equal(empty.code, wrong.code);
    assert.equal(empty.publicMessage, wrong.publicMessage);
    const blankName = await failure(directory.authenticate('   ', TEST_USERS.alice.password));
    assert.equal(blankName.code, 'auth.invalid_credentials');

    // Nothing reached slapd: no new connection, no bind, no search.
    assert.equal(await slapd.acceptedConnections(), connectionsBefore);
    const logDuring = (await slapd.settledLog()).slice(logBefore);
    assert.doesNotMatch(logDuring, /BIND|SRCH/);

    // Rejected before any I/O: with no directory reachable it is still a credentials failure,
    // while a non-empty password has to ask the directory and finds it unavailable.
    const down = directoryFor(configFor(slapd, { servers: [`ldap://127.0.0.1:${await closedPort()}/`] }));
    assert.equal((await failure(down.authenticate('alice', ''))).code, 'auth.invalid_credentials');
    assert.equal((await failure(down.authenticate('alice', 'x'))).code, 'directory.unavailable');
  });

  test('LDAP filter injection in the username finds no other user', TIMEOUT, async () => {
    const directory = directoryFor(configFor(slapd));
    const uidDirectory = directoryFor(configFor(slapd, { usernameAttribute: 'uid' }));
    const logBefore = (await slapd.settledLog()).length;
    const attempts = [
      '*',
      'a*',
      '*)(uid=*',
      'alice)(|(uid=*',
      '\\00',
      'alice\\00',
      '(',
      ')',
      'alice\u0000',
      'al*ce',
    ];
    for (const username of attempts) {
      for (const dir of [directory, uidDirectory]) {
        const error = await failure(dir.authenticate(username, TEST_USERS.alice.password));
        assert.equal(error.code, 'auth.invalid_credentials', `authenticate(${JSON.stringify(username)})`);
        assert.equal(await dir.findUser(username), undefined, `findUser(${JSON.stringify(username)})`);
      }
    }
    // The values reached slapd as literal assertion values, never as wildcards or filter syntax.
    const log = (await slapd.settledLog()).slice(logBefore);
    assert.match(log, /filter="\(&\(objectClass=person\)\(sAMAccountName=\\2A\\29\\28uid=\\2A\)\)"/);
    assert.doesNotMatch(log, /\((sAMAccountName|uid)=\*\)|(sAMAccountName|uid)=a\*/);
    // Not one search found an entry, so no password was ever tried.
    assert.doesNotMatch(log, /nentries=[1-9]/);
    assert.doesNotMatch(log, /BIND dn="[^"]*ou=Users/);
  });

  test('a username that matches several entries is refused', TIMEOUT, async () => {
    const directory = directoryFor(configFor(slapd, { usernameAttribute: 'mail' }));
    const error = await failure(directory.authenticate('shared@example.test', TEST_USERS.dave.password));
    assert.equal(error.code, 'auth.invalid_credentials');
    assert.match(error.detail ?? '', /ambiguous/);
    assert.equal(await directory.findUser('shared@example.test'), undefined);
    assert.equal((await directory.findUser('alice@example.test'))?.dn, TEST_USERS.alice.dn);
  });

  test('unknown user and wrong password are indistinguishable', TIMEOUT, async () => {
    const directory = directoryFor(configFor(slapd));
    const unknown = await failure(directory.authenticate('nobody', 'whatever'));
    const wrong = await failure(directory.authenticate('alice', 'whatever'));
    assert.equal(unknown.code, 'auth.invalid_credentials');
    assert.equal(wrong.code, unknown.code);
    assert.equal(wrong.publicMessage, unknown.publicMessage);
    // The operator can still tell them apart.
    assert.equal(unknown.detail, 'unknown user');
    assert.equal(wrong.detail, 'wrong password');
  });

  test('servers are tried in order', TIMEOUT, async () => {
    const closed = `ldap://127.0.0.1:${await closedPort()}/`;
    const directory = directoryFor(configFor(slapd, { servers: [closed, slapd.url] }));
    const user = await directory.authenticate('bob', TEST_USERS.bob.password);
    assert.equal(user.dn, TEST_USERS.bob.dn);

    const closedToo = `ldap://127.0.0.1:${await closedPort()}/`;
    const none = directoryFor(configFor(slapd, { servers: [closed, closedToo] }));
    const error = await failure(none.findUser('bob'));
    assert.equal(error.code, 'directory.unavailable');
    assert.ok(error.detail?.includes(`${closed}: connect ECONNREFUSED`), error.detail);
    assert.ok(error.detail?.includes(`${closedToo}: connect ECONNREFUSED`), error.detail);
    assert.ok(error.detail && error.detail.indexOf(closed) < error.detail.indexOf(closedToo));
  });

  test('a server that accepts but never answers times out, and the next one is used', TIMEOUT, async () => {
    const silent = await silentServer();
    try {
      const onlySilent = directoryFor(configFor(slapd, { servers: [silent.url], timeoutMs: 500 }));
      const started = Date.now();
      const error = await failure(onlySilent.findUser('bob'));
      assert.equal(error.code, 'directory.unavailable');
      assert.ok(error.detail?.startsWith(`${silent.url}: `), error.detail);
      assert.ok(Date.now() - started < 3000, 'bounded by the operation timeout');

      const failover = directoryFor(configFor(slapd, { servers: [silent.url, slapd.url], timeoutMs: 500 }));
      assert.equal((await failover.authenticate('bob', TEST_USERS.bob.password)).dn, TEST_USERS.bob.dn);
    } finally {
      await silent.close();
    }
  });

  test('the service connection is reused across logins', TIMEOUT, async () => {
    const directory = directoryFor(configFor(slapd));
    await directory.findUser('alice');
    const log = await slapd.settledLog();
    const connections = await slapd.acceptedConnections();
    const serviceBinds = countServiceBinds(log, slapd.serviceDn);

    for (const name of ['alice', 'bob', 'carol', 'dave', 'nobody']) await directory.findUser(name);
    await directory.listUsers();
    await directory.ping();
    assert.equal(await slapd.acceptedConnections(), connections, 'searches open no connection');

    for (const name of ['alice', 'bob', 'carol'] as const) {
      await directory.authenticate(name, TEST_USERS[name].password);
    }
    // One short-lived connection per password check, and the service account never binds again.
    assert.equal(await slapd.acceptedConnections(), connections + 3);
    assert.equal(countServiceBinds(await slapd.settledLog(), slapd.serviceDn), serviceBinds);
  });

  test('concurrent first uses share one service connection', TIMEOUT, async () => {
    const directory = directoryFor(configFor(slapd));
    const before = await slapd.acceptedConnections();
    const users = await Promise.all(
      ['alice', 'bob', 'carol', 'dave', 'eve'].map((name) => directory.findUser(name)),
    );
    assert.deepEqual(
      users.map((user) => user?.username),
      ['alice', 'bob', 'carol', 'dave', 'eve'],
    );
    assert.equal(await slapd.acceptedConnections(), before + 1);
  });

  test('LDAPS and StartTLS check the server certificate against the CA file', TIMEOUT, async () => {
    const tls = slapd.tls;
    assert.ok(tls);
    const ldaps = directoryFor(configFor(slapd, { servers: [tls.ldapsUrl], caFile: tls.caFile }));
    assert.equal((await ldaps.authenticate('bob', TEST_USERS.bob.password)).uniqueId, BOB_GUID);

    const startTls = directoryFor(configFor(slapd, { startTls: true, caFile: tls.caFile }));
    assert.equal((await startTls.authenticate('bob', TEST_USERS.bob.password)).uniqueId, BOB_GUID);
    const log = await slapd.settledLog();
    assert.match(log, new RegExp(`BIND dn="${TEST_USERS.bob.dn}" mech=SIMPLE bind_ssf=0 ssf=256`));

    const named = directoryFor(
      configFor(slapd, { startTls: true, caFile: tls.caFile, tlsServerName: 'localhost' }),
    );
    assert.ok(await named.findUser('bob'));

    const untrusted = directoryFor(configFor(slapd, { startTls: true }));
    const untrustedError = await failure(untrusted.authenticate('bob', TEST_USERS.bob.password));
    assert.equal(untrustedError.code, 'directory.unavailable');
    assert.match(untrustedError.detail ?? '', /certificate/);

    const wrongName = directoryFor(
      configFor(slapd, { servers: [tls.ldapsUrl], caFile: tls.caFile, tlsServerName: 'ldap.elsewhere.test' }),
    );
    const wrongNameError = await failure(wrongName.findUser('bob'));
    assert.equal(wrongNameError.code, 'directory.unavailable');
    assert.match(wrongNameError.detail ?? '', /ldap\.elsewhere\.test/);
  });

  test('a refused service password is a configuration error, not a sign-in failure', TIMEOUT, async () => {
    const directory = directoryFor(configFor(slapd, { bindPassword: 'not-the-service-password' }));
    const error = await failure(directory.authenticate('alice', TEST_USERS.alice.password));
    assert.equal(error.code, 'directory.error');
    assert.match(error.detail ?? '', /service bind/);
  });

  test('listUsers returns every user, members of a group, or those matching a filter', TIMEOUT, async () => {
    const directory = directoryFor(configFor(slapd));
    const names = (users: Array<{ username: string }>) => users.map((user) => user.username).sort();
    const all = await directory.listUsers();
    assert.deepEqual(names(all), ['alice', 'bob', 'carol', 'dave', 'eve']);
    assert.deepEqual(
      all.find((user) => user.username === 'alice'),
      await directory.findUser('alice'),
    );
    assert.deepEqual(names(await directory.listUsers({ group: 'VPN Users' })), ['alice', 'carol']);
    assert.deepEqual(names(await directory.listUsers({ group: 'vpn users' })), ['alice', 'carol']);
    assert.deepEqual(
      names(await directory.listUsers({ group: 'CN=Staff, OU=Groups, DC=example, DC=test' })),
      ['alice', 'bob'],
    );
    assert.deepEqual(names(await directory.listUsers({ group: 'Ops, Night Shift' })), ['dave']);
    assert.deepEqual(names(await directory.listUsers({ filter: '(mail=shared@example.test)' })), [
      'dave',
      'eve',
    ]);
    assert.deepEqual(names(await directory.listUsers({ baseDn: 'ou=Groups,dc=example,dc=test' })), []);
  });

  test(
    'unparsable filters are refused: configured ones at creation, a query one per call',
    TIMEOUT,
    async () => {
      assert.throws(
        () =>
          createLdapDirectory(configFor(slapd, { userFilter: '(objectClass=person' }), {
            clock: systemClock,
          }),
        (error) => isMfaError(error, 'config.invalid') && error.field === 'directory.ldap.userFilter',
      );
      const groups = { mode: 'search' as const, filter: '(member={dn}', nameAttribute: 'cn' };
      assert.throws(
        () => createLdapDirectory(configFor(slapd, { groups }), { clock: systemClock }),
        (error) => isMfaError(error, 'config.invalid'),
      );
      const directory = directoryFor(configFor(slapd));
      const error = await failure(directory.listUsers({ filter: '(mail=' }));
      assert.equal(error.code, 'input.invalid');
      assert.equal(error.field, 'filter');
    },
  );

  test('listUsers by group in groups.mode search', TIMEOUT, async () => {
    const groups = { mode: 'search' as const, filter: '(member={dn})', nameAttribute: 'cn' };
    const directory = directoryFor(configFor(slapd, { groups }));
    const vpn = await directory.listUsers({ group: 'VPN Users' });
    assert.deepEqual(vpn.map((user) => user.username).sort(), ['alice', 'carol']);
    const byDn = await directory.listUsers({ group: 'cn=Staff,ou=Groups,dc=example,dc=test' });
    assert.deepEqual(byDn.map((user) => user.username).sort(), ['alice', 'bob']);
  });

  test('listUsers pages through more entries than one page holds', TIMEOUT, async () => {
    const many = await startSlapd({ ldif: ldifWithUsers(1203) });
    try {
      const directory = directoryFor(configFor(many, { usernameAttribute: 'uid' }));
      const users = await directory.listUsers();
      assert.equal(users.length, 1203);
      assert.equal(new Set(users.map((user) => user.username)).size, 1203);
      const log = await many.settledLog();
      assert.ok(countMatches(log, /SEARCH RESULT tag=101 err=0 [^\n]*nentries=500 /g) >= 2, 'several pages');
    } finally {
      await many.stop();
    }
  });
});

describe('LDAP directory through an outage', () => {
  let slapd: SlapdHandle;

  before(async () => {
    slapd = await startSlapd();
  });
  after(async () => {
    await slapd?.stop();
  });

  test(
    'slapd down fails closed with a clear error and recovers when it is back, without restart',
    TIMEOUT,
    async () => {
      const directory = directoryFor(configFor(slapd));
      assert.equal((await directory.authenticate('alice', TEST_USERS.alice.password)).uniqueId, ALICE_GUID);
      await directory.ping();

      await slapd.pause();
      const started = Date.now();
      const error = await failure(directory.authenticate('alice', TEST_USERS.alice.password));
      assert.ok(Date.now() - started < 1000, 'answers within the connect timeout');
      assert.equal(error.code, 'directory.unavailable');
      assert.ok(
        error.detail?.startsWith(`${slapd.url}: connect ECONNREFUSED 127.0.0.1:${slapd.port}`),
        error.detail,
      );
      assert.equal(error.publicMessage, 'Sign-in failed.');
      assert.equal((await failure(directory.findUser('alice'))).code, 'directory.unavailable');
      assert.equal((await failure(directory.ping())).code, 'directory.unavailable');
      // Even now an empty password is a credentials failure: it is refused before any I/O.
      assert.equal((await failure(directory.authenticate('alice', ''))).code, 'auth.invalid_credentials');

      await slapd.resume();
      assert.equal((await directory.authenticate('alice', TEST_USERS.alice.password)).uniqueId, ALICE_GUID);
      await directory.ping();
    },
  );

  test('close() ends the service connection and later calls fail closed', TIMEOUT, async () => {
    const directory = createLdapDirectory(configFor(slapd), { clock: systemClock });
    await directory.findUser('bob');
    await directory.close();
    const log = await slapd.settledLog();
    assert.match(log, /UNBIND/);
    assert.equal((await failure(directory.findUser('bob'))).code, 'directory.unavailable');
  });
});

describe('LDAP directory with a server that drops idle connections', () => {
  let slapd: SlapdHandle;

  before(async () => {
    slapd = await startSlapd({ tls: true, idleTimeoutSeconds: 1 });
  });
  after(async () => {
    await slapd?.stop();
  });

  test('a StartTLS service connection closed while idle is replaced, not waited on', TIMEOUT, async () => {
    const directory = directoryFor(
      configFor(slapd, { startTls: true, caFile: slapd.tls?.caFile, timeoutMs: 5000 }),
    );
    assert.ok(await directory.findUser('alice'));
    await waitForLog(slapd, /closed \(idletimeout\)/);

    const started = Date.now();
    assert.equal((await directory.findUser('alice'))?.dn, TEST_USERS.alice.dn);
    assert.ok(Date.now() - started < 1000, 'no wait for an operation timeout');
  });
});

describe('LDAP entry reading', () => {
  test('group names are the first RDN value with DN escapes undone', () => {
    assert.equal(firstRdnValue('CN=VPN Users,OU=Groups,DC=corp,DC=example'), 'VPN Users');
    assert.equal(firstRdnValue('cn=Ops\\, Night Shift,ou=Groups,dc=example,dc=test'), 'Ops, Night Shift');
    assert.equal(firstRdnValue('cn=Sales\\2C EMEA,ou=Groups'), 'Sales, EMEA');
    assert.equal(firstRdnValue('cn=Caf\\C3\\A9,ou=Groups'), 'Caf\u00e9');
    assert.equal(firstRdnValue('cn=a\\+b+uid=x,ou=Groups'), 'a+b');
    assert.equal(firstRdnValue('CN = Spaced , OU=Groups'), 'Spaced');
  });

  test('an AD objectGUID is written with its first three fields byte-reversed', () => {
    const bytes = Buffer.from('1d5c3b7a4f2e6b4a8c9d0e1f2a3b4c5d', 'hex');
    assert.equal(formatGuid(bytes), ALICE_GUID);
  });
});

function countServiceBinds(log: string, serviceDn: string): number {
  return countMatches(log, new RegExp(`BIND dn="${serviceDn}" mech=SIMPLE`, 'g'));
}

function countMatches(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].length;
}

async function waitForLog(slapd: SlapdHandle, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pattern.test(await slapd.settledLog())) {
    if (Date.now() > deadline) assert.fail(`slapd never logged ${pattern}`);
    await delay(200);
  }
}

/** A directory of `count` plain users (uid user0001 ...), for paging. */
function ldifWithUsers(count: number): string {
  const entries = [
    'dn: dc=example,dc=test\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example',
    'dn: ou=Users,dc=example,dc=test\nobjectClass: organizationalUnit\nou: Users',
    'dn: ou=Service,dc=example,dc=test\nobjectClass: organizationalUnit\nou: Service',
    'dn: cn=svc-mfa,ou=Service,dc=example,dc=test\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\ncn: svc-mfa\nuserPassword: svc-secret-0',
  ];
  for (let index = 1; index <= count; index++) {
    const uid = `user${String(index).padStart(4, '0')}`;
    entries.push(
      `dn: uid=${uid},ou=Users,dc=example,dc=test\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: ${uid}`,
    );
  }
  return `${entries.join('\n\n')}\n`;
}

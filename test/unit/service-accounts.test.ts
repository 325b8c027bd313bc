// SDK service accounts in the core, with memory ports: what is stored, and that every way of
// failing to authenticate gives the same nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMfaError } from '../../src/core/errors.ts';
import { coreFixture } from '../helpers/core-fixture.ts';
import { failure } from '../helpers/users.ts';

const FINGERPRINT = `${'AB:'.repeat(31)}AB`;

describe('service accounts', () => {
  it('the token is shown once and only its hash is stored', async () => {
    const f = coreFixture();
    const { account, token } = await f.accounts.create(
      { name: 'crm', scopes: ['users:read', 'auth'] },
      f.admin,
    );
    assert.match(token, /^mfa_sa_[A-Za-z0-9_-]{43}$/);
    const stored = await f.store.findServiceAccountByName('crm');
    assert.ok(stored);
    assert.notEqual(stored.tokenHash, token);
    assert.ok(!JSON.stringify(await f.accounts.list()).includes(token), 'no listing carries the token');
    assert.deepEqual((await f.accounts.byToken(token))?.id, account.id);
    assert.equal(f.store.events.at(-1)?.type, 'sdk.account_created');
    assert.equal(f.store.events.at(-1)?.actor, f.admin.actor);
  });

  it('a wrong token, an unknown name and a revoked account all authenticate as nobody', async () => {
    const f = coreFixture();
    const { token } = await f.accounts.create({ name: 'crm', scopes: ['auth'] }, f.admin);
    assert.equal(await f.accounts.byNameAndToken('crm', `${token}x`), undefined);
    assert.equal(await f.accounts.byNameAndToken('nobody', token), undefined);
    assert.equal(await f.accounts.byToken('mfa_sa_not-a-token'), undefined);
    assert.equal(await f.accounts.byToken('Bearer something-else'), undefined);
    assert.equal((await f.accounts.byNameAndToken('crm', token))?.name, 'crm');
    await f.accounts.revoke('crm', f.admin);
    assert.equal(await f.accounts.byToken(token), undefined);
    assert.equal(await f.accounts.byNameAndToken('crm', token), undefined);
    assert.equal((await f.accounts.list())[0]?.revokedAt, f.clock.now(), 'kept, marked revoked');
    assert.equal((await failure(f.accounts.revoke('crm', f.admin))).code, 'not_found');
  });

  it("a client certificate matches by fingerprint in openssl's spelling, or by subject", async () => {
    const f = coreFixture();
    await f.accounts.create({ name: 'edge-1', scopes: ['admin'], certFingerprint: FINGERPRINT }, f.admin);
    await f.accounts.create(
      { name: 'edge-2', scopes: ['admin'], certSubject: 'CN=edge-2,O=Example' },
      f.admin,
    );
    assert.equal((await f.accounts.byCertificate('ab'.repeat(32), 'CN=x'))?.name, 'edge-1');
    assert.equal((await f.accounts.byCertificate('00'.repeat(32), 'CN=edge-2,O=Example'))?.name, 'edge-2');
    assert.equal(await f.accounts.byCertificate('00'.repeat(32), 'CN=edge-3'), undefined);
    assert.equal(await f.accounts.byCertificate('not hex', 'CN=edge-3'), undefined);
  });

  it('bad input names the field and creates nothing', async () => {
    const f = coreFixture();
    const cases: Array<[Parameters<typeof f.accounts.create>[0], string]> = [
      [{ name: 'Bad Name', scopes: ['auth'] }, 'name'],
      [{ name: 'crm', scopes: [] }, 'scopes'],
      [{ name: 'crm', scopes: ['root'] }, 'scopes'],
      [{ name: 'crm', scopes: ['auth'], networks: ['10.0.0.0/33'] }, 'networks'],
      [{ name: 'crm', scopes: ['auth'], certFingerprint: 'abc' }, 'certFingerprint'],
    ];
    for (const [input, field] of cases) {
      const error = await failure(f.accounts.create(input, f.admin));
      assert.ok(isMfaError(error, 'input.invalid'));
      assert.equal(error.field, field);
    }
    await f.accounts.create({ name: 'crm', scopes: ['auth'] }, f.admin);
    assert.equal(
      (await failure(f.accounts.create({ name: 'crm', scopes: ['auth'] }, f.admin))).field,
      'name',
    );
    assert.equal((await f.accounts.list()).length, 1);
  });
});

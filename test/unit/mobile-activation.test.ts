import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashActivationCode } from '../../src/core/enrollment/mobile-activation.ts';
import type { ChangeProof } from '../../src/core/enrollment/types.ts';
import type { JsonWebKeyP256, Method, RequestContext } from '../../src/core/ports.ts';
import { base32Encode } from '../../src/core/secrets/base32.ts';
import {
  type CoreFixture,
  coreFixture,
  deviceKeyPair,
  PORTAL_OFFICE,
  PORTAL_OUTSIDE,
} from '../helpers/core-fixture.ts';
import { failure } from '../helpers/users.ts';

const PHONE: RequestContext = { channel: 'mobile', clientAddress: '100.64.0.9' };
const PASSWORD_ONLY: ChangeProof = { secondFactorAt: null };
const PUSH_METHODS: Method[] = ['totp', 'push', 'sms'];

/** A code for alice (added to the store) as the portal issues it, with a fresh second factor. */
async function issue(f: CoreFixture, username = 'alice', proof?: ChangeProof) {
  return f.enrollment.issueActivationCode(
    username,
    PORTAL_OUTSIDE,
    proof ?? { secondFactorAt: f.clock.now() },
  );
}

/** The phone's activation call; a fresh key pair unless the test gives a key. */
async function redeem(f: CoreFixture, code: unknown, ...key: [unknown?]) {
  const publicKey = key.length > 0 ? key[0] : (await deviceKeyPair()).publicKey;
  return f.enrollment.activateDevice({ code, deviceName: 'Pixel', publicKey }, PHONE);
}

async function devicesOf(f: CoreFixture, username = 'alice') {
  const user = await f.store.findUserByName(username);
  return f.store.listMobileDevices(user?.id ?? '');
}

describe('mobile activation', () => {
  it('an activation gives the phone a device id and an offline seed that is a factor of the user', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const { code, expiresAt } = await issue(f, 'alice', PASSWORD_ONLY);
    assert.match(code, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
    assert.equal(expiresAt, f.clock.now() + 600_000);
    const activated = await redeem(f, code);
    assert.equal(activated.username, 'alice');
    assert.deepEqual(
      { ...activated.totp, secret: undefined },
      { secret: undefined, algorithm: 'SHA1', digits: 6, period: 30 },
    );
    const [device, ...others] = await devicesOf(f);
    assert.equal(others.length, 0);
    assert.equal(device?.id, activated.deviceId);
    assert.equal(device?.name, 'Pixel');
    const factor = (await f.store.listTotpFactors(device?.userId ?? '')).find(
      (x) => x.id === device?.factorId,
    );
    assert.ok(factor);
    assert.equal(base32Encode(factor.secret), activated.totp.secret);
    assert.deepEqual(
      (await f.enrollment.overview('alice')).factors.map((x) => x.kind),
      ['mobile'],
    );
    const audited = f.store.events.find((e) => e.type === 'enrollment.mobile_activated');
    assert.equal(audited?.outcome, 'success');
    assert.deepEqual(audited?.details, { deviceId: device?.id, factorId: device?.factorId });
    assert.ok(!JSON.stringify(f.store.events).includes(code), 'the code is never audited');
    assert.ok(!JSON.stringify(f.store.events).includes(activated.totp.secret), 'nor the seed');
  });

  it('activation codes are single use', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const { code } = await issue(f);
    await redeem(f, code);
    assert.equal((await failure(redeem(f, code))).code, 'mobile.activation_invalid');
    assert.equal((await devicesOf(f)).length, 1);
  });

  it('an expired activation code is refused', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const { code } = await issue(f);
    f.clock.advance(601_000);
    assert.equal((await failure(redeem(f, code))).code, 'mobile.activation_invalid');
    assert.equal((await devicesOf(f)).length, 0);
  });

  it('a code typed in lower case, without dashes or with spaces, is the same code', async () => {
    const f = coreFixture({
      enrollment: { mobile: { allow: true, maxDevices: 5, activationTtlSeconds: 600 } },
    });
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const typed = [
      (code: string) => code.toLowerCase(),
      (code: string) => code.replaceAll('-', ''),
      (code: string) => ` ${code.replaceAll('-', ' ').toLowerCase()} `,
    ];
    for (const variant of typed) {
      const { code } = await issue(f);
      await redeem(f, variant(code));
    }
    assert.equal((await devicesOf(f)).length, 3);
  });

  it('a code that is not a string, or absurdly long, is refused', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    for (const code of [undefined, 42, { code: 'x' }, 'A'.repeat(65)])
      assert.equal((await failure(redeem(f, code))).code, 'mobile.activation_invalid');
  });

  it('maxDevices is enforced when a code is issued and again when it is redeemed', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    await f.activateDevice('alice');
    // Two codes while there is room for one more phone.
    const first = await issue(f);
    const second = await issue(f);
    await redeem(f, first.code);
    const atRedeem = await failure(redeem(f, second.code));
    assert.equal(atRedeem.code, 'mobile.too_many_devices');
    const atIssue = await failure(issue(f));
    assert.equal(atIssue.code, 'mobile.too_many_devices');
    assert.equal((await devicesOf(f)).length, 2);
  });

  it('an invalid public key is refused', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const { publicKey } = await deviceKeyPair();
    const other = (await deviceKeyPair()).publicKey;
    const bad: unknown[] = [
      // Coordinates of two different keys: almost surely not a point on the curve.
      { ...publicKey, y: other.y },
      { ...publicKey, crv: 'P-384' },
      { ...publicKey, kty: 'OKP' },
      { ...publicKey, x: `${publicKey.x}A` },
      { ...publicKey, y: publicKey.y.slice(1) },
      { ...publicKey, x: `${publicKey.x.slice(1)}=` },
      { kty: 'EC', crv: 'P-256', x: publicKey.x },
      'not a key',
      null,
      undefined,
    ];
    const { code } = await issue(f);
    for (const key of bad) {
      const error = await failure(redeem(f, code, key));
      assert.equal(error.code, 'input.invalid');
      assert.equal(error.field, 'publicKey');
    }
    assert.equal((await devicesOf(f)).length, 0);
  });

  it('only the public coordinates of a key are kept', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const { publicKey } = await deviceKeyPair();
    const { code } = await issue(f);
    await redeem(f, code, { ...publicKey, d: 'private-part', key_ops: ['sign'], alg: 'none' });
    const [device] = await devicesOf(f);
    assert.deepEqual(device?.publicKey, publicKey satisfies JsonWebKeyP256);
  });

  it('a device name must be short, printable text', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const { code } = await issue(f);
    const { publicKey } = await deviceKeyPair();
    for (const deviceName of ['', '   ', 'x'.repeat(65), 'bad\u0000name', 'bad\nname', 42]) {
      const error = await failure(f.enrollment.activateDevice({ code, deviceName, publicKey }, PHONE));
      assert.equal(error.code, 'input.invalid');
      assert.equal(error.field, 'deviceName');
    }
  });

  it('a disabled user cannot activate a phone with a code issued earlier', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const { code } = await issue(f);
    await f.userAdmin.disable('alice', f.admin);
    assert.equal((await failure(redeem(f, code))).code, 'auth.user_disabled');
    assert.equal((await devicesOf(f)).length, 0);
    assert.equal((await failure(issue(f))).code, 'auth.user_disabled');
    const audited = f.store.events.filter((e) => e.type === 'enrollment.mobile_activated');
    assert.deepEqual(
      audited.map((e) => `${e.outcome}:${e.reason}`),
      ['failure:auth.user_disabled'],
    );
  });

  it('issuing a code for a user who has a factor needs a recent second factor', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    await f.userAdmin.enrollTotp('alice', f.admin);
    const now = f.clock.now();
    for (const proof of [PASSWORD_ONLY, { secondFactorAt: now - 301_000 }]) {
      const error = await failure(issue(f, 'alice', proof));
      assert.equal(error.code, 'enrollment.step_up_required');
    }
    const { code } = await issue(f, 'alice', { secondFactorAt: now - 299_000 });
    await redeem(f, code);
    const failed = f.store.events.filter((e) => e.type === 'enrollment.mobile_code_issued');
    assert.deepEqual(
      failed.map((e) => e.outcome),
      ['failure', 'failure', 'success'],
    );
  });

  it('a first phone follows the first-enrollment policy', async () => {
    const f = coreFixture({ enrollment: { firstEnrollment: 'trusted-networks' } });
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const outside = await failure(issue(f, 'alice', PASSWORD_ONLY));
    assert.equal(outside.code, 'enrollment.not_allowed');
    await f.enrollment.issueActivationCode('alice', PORTAL_OFFICE, PASSWORD_ONLY);
  });

  it('with mobile activation turned off no code is issued and earlier codes stop working', async () => {
    const allow = { allow: true, maxDevices: 2, activationTtlSeconds: 600 };
    const on = coreFixture({ enrollment: { mobile: allow } });
    await on.userAdmin.add({ username: 'alice' }, on.admin);
    const { code } = await issue(on);
    const off = coreFixture({ enrollment: { mobile: { ...allow, allow: false } } });
    await off.userAdmin.add({ username: 'alice' }, off.admin);
    assert.equal((await failure(issue(off))).code, 'enrollment.not_allowed');
    // The code as it would be in the store when the setting is turned off after it was issued.
    const user = await off.store.findUserByName('alice');
    await off.store.createActivationCode({
      codeHash: hashActivationCode(code),
      userId: user?.id ?? '',
      createdBy: 'alice',
      createdAt: off.clock.now(),
      expiresAt: off.clock.now() + 600_000,
    });
    assert.equal((await failure(redeem(off, code))).code, 'mobile.activation_invalid');
  });

  it("activation makes push the user's method when push is offered", async () => {
    const f = coreFixture({ enrollment: { methods: PUSH_METHODS } });
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    await f.activateDevice('alice');
    assert.equal((await f.store.findUserByName('alice'))?.defaultMethod, 'push');
  });

  it('activation leaves the method alone when push is not offered', async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    await f.activateDevice('alice');
    assert.equal((await f.store.findUserByName('alice'))?.defaultMethod, null);
  });

  it('a user with an activated phone may choose push as their method again', async () => {
    const f = coreFixture({ enrollment: { methods: PUSH_METHODS } });
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    await f.activateDevice('alice');
    await f.enrollment.setMethod('alice', 'totp', PORTAL_OUTSIDE);
    await f.enrollment.setMethod('alice', 'push', PORTAL_OUTSIDE);
    assert.equal((await f.store.findUserByName('alice'))?.defaultMethod, 'push');
  });

  it('a user without a phone cannot choose push', async () => {
    const f = coreFixture({ enrollment: { methods: PUSH_METHODS } });
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    await f.userAdmin.enrollTotp('alice', f.admin);
    const error = await failure(f.enrollment.setMethod('alice', 'push', PORTAL_OUTSIDE));
    assert.equal(error.code, 'input.invalid');
  });

  it("removing the phone's factor removes the phone", async () => {
    const f = coreFixture();
    await f.userAdmin.add({ username: 'alice' }, f.admin);
    const phone = await f.activateDevice('alice');
    const second = await f.activateDevice('alice', { deviceName: 'Tablet' });
    await f.enrollment.removeFactor('alice', phone.device.factorId, PORTAL_OUTSIDE, {
      secondFactorAt: f.clock.now(),
    });
    assert.deepEqual(
      (await devicesOf(f)).map((d) => d.id),
      [second.deviceId],
    );
    assert.equal(await f.store.getMobileDevice(phone.deviceId), undefined);
    await f.userAdmin.reset('alice', f.admin);
    assert.deepEqual(await devicesOf(f), [], 'an administrator reset removes every phone');
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CATALOGUE, MfaError, SIGN_IN_FAILED, toMfaError } from '../../src/core/errors.ts';

test('the catalogue and the README error table list the same codes with the same mapping', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const rows = [...readme.matchAll(/^\| `([a-z_.]+)` *\| (\d{3}) *\| (\w+) *\| (.+?) *\|$/gm)];
  const documented = Object.fromEntries(
    rows.map((m) => [m[1], { status: Number(m[2]), radius: m[3], shown: m[4] }]),
  );
  assert.deepEqual(Object.keys(documented).sort(), Object.keys(ERROR_CATALOGUE).sort());
  for (const [code, spec] of Object.entries(ERROR_CATALOGUE)) {
    assert.deepEqual(
      documented[code],
      { status: spec.httpStatus, radius: spec.radius, shown: spec.expose ? spec.message : 'generic' },
      code,
    );
  }
});

test('an error that is not exposed shows only the generic message of its status', () => {
  const locked = new MfaError('auth.locked', { detail: 'user locked out' });
  assert.equal(locked.publicMessage, SIGN_IN_FAILED);
  assert.match(locked.message, /user locked out/, 'the operator detail stays in the message for logs');
  assert.equal(
    new MfaError('directory.unavailable', { detail: 'ldap://dc1: ECONNREFUSED' }).publicMessage,
    SIGN_IN_FAILED,
  );
  assert.equal(
    new MfaError('input.invalid', { field: 'phones[0]' }).publicMessage,
    'The input is not valid. (phones[0])',
  );
});

test('anything thrown that is not ours becomes internal, without leaking its text', () => {
  const error = toMfaError(new TypeError('secret stack detail'));
  assert.equal(error.code, 'internal');
  assert.equal(error.publicMessage, 'Internal error.');
});

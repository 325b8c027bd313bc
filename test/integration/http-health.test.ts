// The HTTP listener in-process (fastify inject, no port): health states and the error mapping.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { MfaError } from '../../src/core/errors.ts';
import { createNetworkList } from '../../src/core/policy/networks.ts';
import { buildHttpServer } from '../../src/http/server.ts';

const logger = pino({ level: 'silent' });
const ok = async () => {};
const failing = async () => {
  throw new MfaError('directory.unavailable', { detail: 'ldap://dc1.corp.example.com:636: ECONNREFUSED' });
};

function app(store: () => Promise<void>, directory: () => Promise<void>) {
  return buildHttpServer({
    health: { store, directory },
    logger,
    trustedProxies: createNetworkList([]),
  });
}

test('health is ok when the store and the directory answer', async () => {
  const response = await (await app(ok, ok)).inject({ method: 'GET', url: '/_mfa/health' });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json().checks, { store: 'ok', directory: 'ok' });
  assert.equal(response.headers['cache-control'], 'no-store');
});

test('health says degraded, without the error text, when the directory is down', async () => {
  const response = await (await app(ok, failing)).inject({ method: 'GET', url: '/_mfa/health' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.json().status, 'degraded');
  assert.doesNotMatch(response.body, /dc1|ECONNREFUSED|ldap/);
});

test('health fails with 503 when the store is down', async () => {
  const response = await (await app(failing, ok)).inject({ method: 'GET', url: '/_mfa/health' });
  assert.equal(response.statusCode, 503);
  assert.equal(response.json().status, 'failing');
});

test('an unknown route answers the typed not_found error', async () => {
  const response = await (await app(ok, ok)).inject({ method: 'GET', url: '/../../etc/passwd' });
  assert.equal(response.statusCode, 404);
  assert.deepEqual(response.json(), { code: 'not_found', message: 'Not found.' });
});

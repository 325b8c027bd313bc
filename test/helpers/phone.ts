// A phone running the web authenticator, in Node: the same calls and signatures as portal/mobile's
// browser code (activation with a P-256 public key, device proofs, signed answers), so tests and
// benchmarks can drive the mobile API without a browser.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CompactSign } from 'jose';
import { runCli } from './cli.ts';

export interface PendingRequest {
  id: string;
  application: string | null;
  clientAddress: string;
  createdAt: number;
  expiresAt: number;
  choices: number[];
  pinRequired: boolean;
  nonce: string;
}

export interface Phone {
  deviceId: string;
  username: string;
  totp: { secret: string; algorithm: string; digits: number; period: number };
  /** `Authorization: Device <jws>` for one call. */
  proof(method: string, path: string): Promise<string>;
  pending(waitSeconds?: number): Promise<PendingRequest[]>;
  /** Signs and posts an answer; returns the HTTP status and the JSON body. */
  answer(
    request: Pick<PendingRequest, 'id' | 'nonce'>,
    decision: 'approve' | 'deny' | 'fraud',
    number: number | null,
    extra?: Record<string, unknown>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  sign(payload: Record<string, unknown>, typ: string, key?: KeyObject, kid?: string): Promise<string>;
}

const encoder = new TextEncoder();
const nowSeconds = () => Math.floor(Date.now() / 1000);

export function newDeviceKey(): {
  privateKey: KeyObject;
  publicJwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string };
} {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  return { privateKey, publicJwk: { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y) } };
}

/** Activates a device with `code` against the service at `baseUrl`; throws with the server's answer on failure. */
export async function activatePhone(
  baseUrl: string,
  code: string,
  deviceName = 'Test phone',
): Promise<Phone> {
  const key = newDeviceKey();
  const response = await fetch(`${baseUrl}/mobile/v1/activations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, deviceName, publicKey: key.publicJwk }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 201)
    throw new Error(`activation failed: ${response.status} ${JSON.stringify(body)}`);
  const deviceId = String(body.deviceId);

  const sign = (payload: Record<string, unknown>, typ: string, signer = key.privateKey, kid = deviceId) =>
    new CompactSign(encoder.encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'ES256', kid, typ })
      .sign(signer);
  const proof = (method: string, path: string) =>
    sign(
      { htm: method, htu: path, iat: nowSeconds(), jti: randomBytes(16).toString('base64url') },
      'mfa-device+jwt',
    );

  return {
    deviceId,
    username: String(body.username),
    totp: body.totp as Phone['totp'],
    proof,
    sign,
    async pending(waitSeconds = 0) {
      const path = '/mobile/v1/requests';
      const res = await fetch(`${baseUrl}${path}?wait=${waitSeconds}`, {
        headers: { authorization: `Device ${await proof('GET', path)}` },
      });
      if (res.status !== 200) throw new Error(`requests: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { requests: PendingRequest[] }).requests;
    },
    async answer(request, decision, number, extra = {}) {
      const answer = await sign(
        { rid: request.id, decision, number, nonce: request.nonce, iat: nowSeconds(), ...extra },
        'mfa-answer+jwt',
      );
      const res = await fetch(`${baseUrl}/mobile/v1/requests/${encodeURIComponent(request.id)}/answer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ answer }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
  };
}

/** Waits (bounded) for the phone to see a request. */
export async function nextRequest(phone: Phone, timeoutMs = 10_000): Promise<PendingRequest> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [first] = await phone.pending(Math.min(5, Math.ceil((deadline - Date.now()) / 1000)));
    if (first) return first;
  }
  throw new Error('no push request reached the phone in time');
}

/**
 * Activates a phone for the user the way a help desk does: `mfa-gateway users mobile USER` prints
 * an activation code and link for the site, and the phone redeems the code.
 */
export async function activatePhoneByHelpDesk(
  site: { dir: string; url: string },
  username: string,
): Promise<Phone> {
  const result = await runCli(['users', 'mobile', username, '--config', join(site.dir, 'config.yaml')]);
  assert.equal(result.code, 0, result.stderr);
  const code = /activation code: (\S+)/.exec(result.stdout)?.[1];
  assert.ok(code, result.stdout);
  assert.match(result.stdout, new RegExp(`${site.url}/mobile/app/activate\\?c=${code}`));
  return activatePhone(site.url, code);
}

// What a phone signs with its device key (ECDSA P-256, a non-extractable WebCrypto key): answers to
// push requests, and short-lived proofs of possession for its API calls. Both are compact JWS with
// the device id as `kid`; a bad signature, an unknown device and a malformed token all look the same
// to the caller (`mobile.device_unknown`), so a probe learns nothing about which devices exist.
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import { MfaError } from '../errors.ts';
import type { JsonWebKeyP256, MobileDevice, MobileDeviceStore } from '../ports.ts';

export const ANSWER_TYPE = 'mfa-answer+jwt';
export const DEVICE_PROOF_TYPE = 'mfa-device+jwt';
/** JWS sizes are small; anything longer is not ours and is refused before parsing. */
const MAX_TOKEN_LENGTH = 4096;
const COORDINATE = /^[A-Za-z0-9_-]{43}$/;

const unknownDevice = (detail: string) => new MfaError('mobile.device_unknown', { detail });

/** A public key as a phone sends it at activation: exactly an EC P-256 JWK with x and y, and a valid point. */
export async function parseDevicePublicKey(value: unknown): Promise<JsonWebKeyP256> {
  const jwk = value as Partial<Record<string, unknown>> | null;
  if (
    typeof jwk !== 'object' ||
    jwk === null ||
    jwk.kty !== 'EC' ||
    jwk.crv !== 'P-256' ||
    typeof jwk.x !== 'string' ||
    typeof jwk.y !== 'string' ||
    !COORDINATE.test(jwk.x) ||
    !COORDINATE.test(jwk.y)
  )
    throw new MfaError('input.invalid', { field: 'publicKey', detail: 'an EC P-256 JWK with x and y' });
  const key: JsonWebKeyP256 = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
  // Importing checks that the point lies on the curve.
  await importJWK(key, 'ES256').catch(() => {
    throw new MfaError('input.invalid', { field: 'publicKey', detail: 'not a point on P-256' });
  });
  return key;
}

/**
 * Verifies a compact JWS of type `type` signed by a registered device; returns the device and the
 * payload. The key is imported per call: verification is rare (one per answer or poll), and a cache
 * would keep a removed device's key alive.
 */
export async function verifyDeviceSignature(
  token: unknown,
  type: string,
  devices: Pick<MobileDeviceStore, 'getMobileDevice'>,
): Promise<{ device: MobileDevice; payload: Record<string, unknown> }> {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw unknownDevice('not a token');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw unknownDevice('malformed token');
  }
  if (
    header.alg !== 'ES256' ||
    header.typ !== type ||
    typeof header.kid !== 'string' ||
    header.kid.length > 64
  )
    throw unknownDevice('wrong header');
  const device = await devices.getMobileDevice(header.kid);
  if (!device) throw unknownDevice('no such device');
  let payload: unknown;
  try {
    const key = await importJWK(device.publicKey, 'ES256');
    const verified = await compactVerify(token, key, { algorithms: ['ES256'] });
    payload = JSON.parse(new TextDecoder().decode(verified.payload));
  } catch {
    throw unknownDevice('bad signature');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    throw unknownDevice('payload is not an object');
  return { device, payload: payload as Record<string, unknown> };
}

/**
 * A device's proof for one API call: signed over the HTTP method and path, and fresh (`iat` within
 * `maxAgeSeconds` either way, for clock drift on phones). Reads and idempotent writes only rely on it.
 */
export async function verifyDeviceProof(
  token: unknown,
  call: { method: string; path: string; nowSeconds: number; maxAgeSeconds: number },
  devices: Pick<MobileDeviceStore, 'getMobileDevice'>,
): Promise<MobileDevice> {
  const { device, payload } = await verifyDeviceSignature(token, DEVICE_PROOF_TYPE, devices);
  const iat = payload.iat;
  if (payload.htm !== call.method || payload.htu !== call.path) throw unknownDevice('proof for another call');
  if (typeof iat !== 'number' || Math.abs(call.nowSeconds - iat) > call.maxAgeSeconds)
    throw unknownDevice('stale proof');
  return device;
}

// The web authenticator's API at /mobile/v1: redeem an activation code, long-poll for pending
// requests, answer one with a signed JWS, register a Web Push subscription, remove the device.
// Each handler is the core call after a named check; errors are the catalogue's JSON.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MfaError } from '../core/errors.ts';
import type { RequestContext } from '../core/ports.ts';
import { requestView } from '../http/request-view.ts';
import { clientGone } from '../http/waiting-request.ts';
import type { MobileContext } from './context.ts';

export const API = '/mobile/v1';
/** The longest a phone's long poll is held: under common proxy idle timeouts (60 s). */
const MAX_WAIT_SECONDS = 30;

const requestContext = (request: FastifyRequest): RequestContext => ({
  channel: 'mobile',
  clientAddress: requestView(request.raw).clientAddress,
  application: 'mobile app',
});

/** `Authorization: Device <jws>`: the device's proof for exactly this method and path. */
function deviceToken(request: FastifyRequest): string {
  const header = request.headers.authorization ?? '';
  const match = /^Device ([A-Za-z0-9_.-]+)$/.exec(header);
  if (!match?.[1]) throw new MfaError('mobile.device_unknown', { detail: 'no device proof' });
  return match[1];
}

export function registerMobileApiRoutes(app: FastifyInstance, ctx: MobileContext): void {
  const { push, enrollment } = ctx.core;

  const device = (request: FastifyRequest, path: string) =>
    push.authenticateDevice(deviceToken(request), request.method, path);

  app.post(`${API}/activations`, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const activated = await enrollment.activateDevice(
      { code: body.code, deviceName: body.deviceName, publicKey: body.publicKey },
      requestContext(request),
    );
    return reply.status(201).header('cache-control', 'no-store').send(activated);
  });

  app.get(`${API}/requests`, async (request, reply) => {
    const phone = await device(request, `${API}/requests`);
    const asked = Number((request.query as Record<string, unknown>).wait ?? 0);
    const waitSeconds = Number.isFinite(asked)
      ? Math.min(Math.max(Math.trunc(asked), 0), MAX_WAIT_SECONDS)
      : 0;
    const requests = await push.requestsForDevice(phone, waitSeconds * 1000, clientGone(reply));
    return reply.header('cache-control', 'no-store').send({ requests });
  });

  app.post(`${API}/requests/:id/answer`, async (request, reply) => {
    const { id } = request.params as { id: string };
    const answer = ((request.body ?? {}) as Record<string, unknown>).answer;
    const outcome = await push.answer(id, answer, requestContext(request));
    return reply.header('cache-control', 'no-store').send(outcome);
  });

  app.put(`${API}/devices/self/push-subscription`, async (request, reply) => {
    const phone = await device(request, `${API}/devices/self/push-subscription`);
    await push.subscribe(phone, request.body ?? null);
    return reply.status(204).send();
  });

  app.delete(`${API}/devices/self`, async (request, reply) => {
    const phone = await device(request, `${API}/devices/self`);
    await push.forgetDevice(phone, requestContext(request));
    return reply.status(204).send();
  });

  // Null when Web Push is off: the app then relies on its long poll (a 404 would only add noise).
  app.get(`${API}/push/vapid-public-key`, async (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ publicKey: ctx.vapidPublicKey ?? null }),
  );
}

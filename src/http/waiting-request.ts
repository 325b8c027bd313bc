// Requests held open while a phone answers: the push pages' status poll (gateway and
// portal alike) and the long waits of Basic and the mobile API, each ended when its client goes away.
import type { FastifyReply } from 'fastify';
import type { PushApprovals } from '../core/push/push-approvals.ts';

/** How long a push page's status poll is held open waiting for the answer. */
export const PUSH_STATUS_HOLD_MS = 25_000;

/**
 * Aborts when the client hangs up before its answer, so a held request does not outlive it. The
 * response's close, not the request's: Node closes a request once its body is read, which would
 * end the wait of every POST whose body was parsed at once.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * Answers push-wait.js: `{ state }` once the phone answered or the hold ended. The page only needs
 * to know whether to finish, stop or keep waiting, so fraud and cancelled read as denied.
 */
export async function sendPushStatus(
  reply: FastifyReply,
  push: Pick<PushApprovals, 'waitForAnswer'> | undefined,
  pushId: string | undefined,
): Promise<FastifyReply> {
  reply.header('cache-control', 'no-store');
  if (!pushId || !push) return reply.status(404).send({ code: 'not_found', message: 'Not found.' });
  const state = await push.waitForAnswer(pushId, PUSH_STATUS_HOLD_MS, clientGone(reply));
  const shown = state === 'fraud' || state === 'cancelled' ? 'denied' : (state ?? 'expired');
  return reply.send({ state: shown });
}

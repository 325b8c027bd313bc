// Fraud alerts as a signed JSON POST to an administrator's endpoint (a chat bridge, a SIEM, a ticket
// system). The signature covers a timestamp and the exact body, so a receiver can tell our messages
// from forged ones and refuse replays. A failed delivery is logged and retried once; it never throws.
//
// Receiving side, in any language:
//   1. Read the raw body bytes (before any JSON parsing) and the headers `x-mfa-timestamp` (unix seconds)
//      and `x-mfa-signature` (`sha256=<hex>`).
//   2. Refuse the message if the timestamp is more than 5 minutes away from your clock.
//   3. Compute HMAC-SHA256(secret, `${timestamp}.${rawBody}`) as lowercase hex and compare it with the
//      header value in constant time; refuse on mismatch.
//   4. A retry carries the same `requestId` (and a new timestamp): treat a repeated id as a duplicate.
// In Node, `verifyWebhookSignature` below does steps 2 and 3.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { AdminNotifier, FraudAlert } from '../core/ports.ts';
import type { ProviderLogger } from './provider-logger.ts';

export interface WebhookNotifierOptions {
  url: string;
  /** The shared HMAC key; the receiver holds the same value. */
  secret: string;
  /** Per attempt; default 5 s. */
  timeoutMs?: number;
  /** Wait before the single retry; default 1 s. */
  retryDelayMs?: number;
  /** Unix milliseconds; defaults to the system clock (tests fix it). */
  now?: () => number;
}

export const SIGNATURE_HEADER = 'x-mfa-signature';
export const TIMESTAMP_HEADER = 'x-mfa-timestamp';

type Attempt = { ok: true } | { ok: false; retry: boolean; detail: Record<string, unknown> };

export function createWebhookNotifier(
  options: WebhookNotifierOptions,
  logger: ProviderLogger,
): AdminNotifier {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const now = options.now ?? Date.now;
  const target = new URL(options.url).origin;

  async function attempt(body: string): Promise<Attempt> {
    const timestamp = String(Math.floor(now() / 1000));
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(options.secret, timestamp, body),
        },
        body,
        // A redirect would re-send the alert somewhere nobody configured; treat it as a failure.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      if (response.ok) return { ok: true };
      return { ok: false, retry: response.status >= 500, detail: { status: response.status } };
    } catch (err) {
      // Network errors and timeouts: the receiver may or may not have it; the retry is deduplicated by requestId.
      return { ok: false, retry: true, detail: { err } };
    }
  }

  return {
    async fraudReported(alert: FraudAlert): Promise<void> {
      const body = JSON.stringify(webhookPayload(alert));
      let result = await attempt(body);
      if (!result.ok && result.retry) {
        logger.warn(
          { ...result.detail, target, requestId: alert.requestId },
          'fraud webhook failed, retrying once',
        );
        await delay(retryDelayMs);
        result = await attempt(body);
      }
      if (!result.ok) {
        logger.warn({ ...result.detail, target, requestId: alert.requestId }, 'fraud webhook failed');
        return;
      }
      logger.info({ target, requestId: alert.requestId }, 'fraud webhook delivered');
    },
  };
}

export function webhookPayload(alert: FraudAlert): Record<string, unknown> {
  return {
    type: 'fraud.reported',
    at: new Date(alert.at).toISOString(),
    username: alert.username,
    displayName: alert.displayName,
    application: alert.application,
    clientAddress: alert.clientAddress,
    channel: alert.channel,
    requestId: alert.requestId,
    blocked: alert.blocked,
  };
}

/** The `x-mfa-signature` value: `sha256=` + hex HMAC-SHA256(secret, `${timestamp}.${body}`). */
export function signWebhook(secret: string, timestamp: string, body: string | Uint8Array): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `sha256=${mac}`;
}

/**
 * True when `header` is our signature over `timestamp` and these exact body bytes, and the timestamp is
 * within `toleranceSeconds` of `nowSeconds` (either side, for clock skew). Compares in constant time.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string,
  body: string | Uint8Array,
  header: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  if (!/^sha256=[0-9a-f]{64}$/.test(header)) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body), 'latin1');
  return timingSafeEqual(expected, Buffer.from(header, 'latin1'));
}

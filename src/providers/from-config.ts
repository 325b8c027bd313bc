// Builds the providers the configuration asks for: administrators' notifiers (e-mail, webhook) and
// the Web Push sender. Nothing configured means none: a fraud report is still audited and blocks.
import type { Config } from '../config/schema.ts';
import type { AdminNotifier, PushSender } from '../core/ports.ts';
import { combineNotifiers } from './admin-notifiers.ts';
import type { ProviderLogger } from './provider-logger.ts';
import { createSmtpNotifier } from './smtp-notifier.ts';
import { createWebPushSender } from './web-push.ts';
import { createWebhookNotifier } from './webhook-notifier.ts';

export interface Providers {
  notifier: AdminNotifier;
  pushSender: PushSender | undefined;
  close(): void;
}

export function providersFromConfig(config: Readonly<Config>, logger: ProviderLogger): Providers {
  const { smtp, webhook } = config.notifications;
  const mail = smtp
    ? createSmtpNotifier(
        {
          host: smtp.host,
          port: smtp.port,
          secure: smtp.secure,
          requireTls: smtp.requireTls,
          ...(smtp.username ? { username: smtp.username } : {}),
          ...(smtp.password ? { password: smtp.password } : {}),
          from: smtp.from,
          to: smtp.to,
        },
        logger,
      )
    : undefined;
  const hook = webhook
    ? createWebhookNotifier(
        { url: webhook.url, secret: webhook.secret, timeoutMs: webhook.timeoutSeconds * 1000 },
        logger,
      )
    : undefined;
  const { webPush } = config.mobile;
  const pushSender =
    webPush.enabled && webPush.publicKey && webPush.privateKey
      ? createWebPushSender(
          { subject: webPush.subject, publicKey: webPush.publicKey, privateKey: webPush.privateKey },
          logger,
        )
      : undefined;
  return {
    notifier: combineNotifiers(
      [mail, hook].filter((n) => n !== undefined),
      logger,
    ),
    pushSender,
    close: () => mail?.close(),
  };
}

// Fraud alerts by e-mail: one pooled SMTP transport (nodemailer), created once, with every timeout set
// so an unreachable mail server costs at most `timeoutMs` per phase and never blocks a sign-in. The
// message is plain text and says what happened and what the administrator should do next.
import { createTransport } from 'nodemailer';
import type { AdminNotifier, FraudAlert } from '../core/ports.ts';
import type { ProviderLogger } from './provider-logger.ts';

export interface SmtpNotifierOptions {
  host: string;
  port: number;
  /** Implicit TLS from the first byte (usually port 465). */
  secure: boolean;
  /** Without `secure`: refuse to send unless the server upgrades the connection with STARTTLS. */
  requireTls: boolean;
  username?: string;
  password?: string;
  from: string;
  to: string[];
  /** Applies to connecting, the server greeting and each idle socket wait; default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export function createSmtpNotifier(
  options: SmtpNotifierOptions,
  logger: ProviderLogger,
): AdminNotifier & { close(): void } {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transport = createTransport({
    pool: true,
    maxConnections: 2,
    host: options.host,
    port: options.port,
    secure: options.secure,
    requireTLS: options.requireTls,
    ...(options.username === undefined
      ? {}
      : { auth: { user: options.username, pass: options.password ?? '' } }),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    tls: { minVersion: 'TLSv1.2' },
  });
  const to = [...options.to];

  return {
    async fraudReported(alert: FraudAlert): Promise<void> {
      try {
        await transport.sendMail({
          from: options.from,
          to,
          subject: fraudAlertSubject(alert),
          text: fraudAlertText(alert),
          // RFC 3834: an automatic message; out-of-office replies should not answer it.
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
        logger.info({ requestId: alert.requestId, to }, 'fraud alert e-mail sent');
      } catch (err) {
        logger.warn({ err, requestId: alert.requestId, host: options.host }, 'fraud alert e-mail failed');
      }
    },
    close(): void {
      transport.close();
    },
  };
}

/** Control characters (CR and LF above all) become spaces: a value can never start a new header or line. */
function oneLine(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

export function fraudAlertSubject(alert: FraudAlert): string {
  return `[mfa-gateway] Fraud reported by ${oneLine(alert.username)}`;
}

export function fraudAlertText(alert: FraudAlert): string {
  const user = oneLine(alert.username);
  const show = (value: string | null) => (value === null ? '(none)' : oneLine(value));
  const lines = [
    `${user} reported a sign-in request as fraud: they say they did not start it.`,
    '',
    `Time:            ${new Date(alert.at).toISOString()}`,
    `User:            ${user}`,
    `Display name:    ${show(alert.displayName)}`,
    `Application:     ${show(alert.application)}`,
    `Client address:  ${show(alert.clientAddress)}`,
    `Channel:         ${alert.channel}`,
    `Request id:      ${oneLine(alert.requestId)}`,
    `Account blocked: ${alert.blocked ? 'yes (the second factor refuses every sign-in until unblocked)' : 'no'}`,
    '',
    'What to do:',
    '1. Check with the user, through a channel you trust (phone, in person), that they did not sign in.',
    '2. If they did not, someone else knows their password: have them change it, and look for other',
    '   sign-ins from the client address above in the audit log.',
    alert.blocked
      ? `3. Then unblock the account in the portal at /enroll/admin/users/${encodeURIComponent(user)}\n` +
        `   or with \`mfa-gateway users unblock ${user}\`.`
      : `3. The account was not blocked (mobile.fraud.block is off); if needed, disable it in the portal\n` +
        `   at /enroll/admin/users/${encodeURIComponent(user)} or with \`mfa-gateway users disable ${user}\`.`,
    '',
    '-- ',
    'mfa-gateway',
  ];
  return `${lines.join('\n')}\n`;
}

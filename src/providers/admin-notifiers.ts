// Fans one administrator alert out to every configured notifier (e-mail, webhook ...). They run
// concurrently so a slow one does not delay the others, and a failure is logged, never thrown: telling
// the administrators must not change what happens to the sign-in that raised the alert.
import type { AdminNotifier, FraudAlert } from '../core/ports.ts';
import type { ProviderLogger } from './provider-logger.ts';

export function combineNotifiers(notifiers: readonly AdminNotifier[], logger: ProviderLogger): AdminNotifier {
  const all = [...notifiers];
  return {
    async fraudReported(alert: FraudAlert): Promise<void> {
      // The async wrapper also turns a synchronous throw of a badly written notifier into a rejection.
      const results = await Promise.allSettled(all.map(async (notifier) => notifier.fraudReported(alert)));
      results.forEach((result, index) => {
        if (result.status === 'rejected') {
          logger.error(
            { err: result.reason, notifier: index, requestId: alert.requestId },
            'admin notifier failed',
          );
        }
      });
    },
  };
}

// What a user has enrolled, without any secret: factor labels, question ids, whether a PIN is set,
// and the administrator's open window. Shown to the user in the portal and to administrators.
import type {
  Clock,
  EnrollmentWindowStore,
  FactorStore,
  SecurityAnswerStore,
  TotpFactor,
  UserRecord,
} from '../ports.ts';
import type { EnrollmentOverview, FactorSummary } from './types.ts';

export const summariseFactor = (factor: TotpFactor): FactorSummary => ({
  id: factor.id,
  label: factor.label,
  kind: 'totp',
  createdAt: factor.createdAt,
});

export async function enrollmentOverview(
  deps: {
    factors: Pick<FactorStore, 'listTotpFactors'>;
    answers: Pick<SecurityAnswerStore, 'listSecurityAnswers'>;
    windows: Pick<EnrollmentWindowStore, 'findEnrollmentWindow'>;
    clock: Clock;
  },
  user: UserRecord,
): Promise<EnrollmentOverview> {
  const [factors, answers, window] = await Promise.all([
    deps.factors.listTotpFactors(user.id),
    deps.answers.listSecurityAnswers(user.id),
    deps.windows.findEnrollmentWindow(user.id, deps.clock.now()),
  ]);
  return {
    user,
    factors: factors.map(summariseFactor),
    securityQuestionIds: answers.map((a) => a.questionId),
    hasPin: user.pinHash !== null,
    enrollmentWindowUntil: window?.expiresAt ?? null,
  };
}

// What a user has enrolled, without any secret: factor labels, question ids, whether a PIN is set,
// and the administrator's open window. Shown to the user in the portal and to administrators.
import type {
  Clock,
  EnrollmentWindowStore,
  FactorStore,
  MobileDeviceStore,
  SecurityAnswerStore,
  TotpFactor,
  UserRecord,
} from '../ports.ts';
import type { EnrollmentOverview, FactorSummary } from './types.ts';

export const summariseFactor = (factor: TotpFactor, kind: FactorSummary['kind'] = 'totp'): FactorSummary => ({
  id: factor.id,
  label: factor.label,
  kind,
  createdAt: factor.createdAt,
});

export async function enrollmentOverview(
  deps: {
    factors: Pick<FactorStore, 'listTotpFactors'>;
    answers: Pick<SecurityAnswerStore, 'listSecurityAnswers'>;
    windows: Pick<EnrollmentWindowStore, 'findEnrollmentWindow'>;
    devices: Pick<MobileDeviceStore, 'listMobileDevices'>;
    clock: Clock;
  },
  user: UserRecord,
): Promise<EnrollmentOverview> {
  const [factors, answers, window, devices] = await Promise.all([
    deps.factors.listTotpFactors(user.id),
    deps.answers.listSecurityAnswers(user.id),
    deps.windows.findEnrollmentWindow(user.id, deps.clock.now()),
    deps.devices.listMobileDevices(user.id),
  ]);
  const deviceFactors = new Set(devices.map((d) => d.factorId));
  return {
    user,
    factors: factors.map((f) => summariseFactor(f, deviceFactors.has(f.id) ? 'mobile' : 'totp')),
    securityQuestionIds: answers.map((a) => a.questionId),
    hasPin: user.pinHash !== null,
    enrollmentWindowUntil: window?.expiresAt ?? null,
  };
}

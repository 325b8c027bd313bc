// What else a user sets up for themselves: phone numbers, a PIN, security answers (those three under
// the change rule, as they are or will be ways to sign in), the default method and the language.
import { MfaError } from '../errors.ts';
import { checkPin } from '../factors/pin.ts';
import { type AnswerInput, checkSecurityAnswers } from '../factors/security-questions.ts';
import type { Method, RequestContext, UserRecord } from '../ports.ts';
import { checkLanguage, checkPhone } from '../users/contact.ts';
import type { SelfService } from './audited.ts';
import type { ChangeRule } from './change-rule.ts';
import type { ChangeProof, EnrollmentDeps } from './types.ts';

const present = (value: string | undefined): value is string =>
  typeof value === 'string' && value.trim() !== '';

export function createProfile(
  deps: Pick<EnrollmentDeps, 'users' | 'factors' | 'answers' | 'devices' | 'hasher' | 'clock' | 'settings'>,
  self: SelfService,
  rule: ChangeRule,
) {
  const { users, factors, answers, hasher, clock, settings } = deps;

  async function usable(user: UserRecord, method: Method): Promise<boolean> {
    switch (method) {
      case 'totp':
        return (await factors.listTotpFactors(user.id)).length > 0;
      case 'sms':
      case 'voice':
        return user.phones.length > 0;
      case 'push':
        return settings.mobile.allow && (await deps.devices.listMobileDevices(user.id)).length > 0;
    }
  }

  return {
    /** The primary and backup numbers, E.164 after dropping spaces, dashes and parentheses. */
    async setPhones(
      username: string,
      input: { primary?: string; backup?: string },
      ctx: RequestContext,
      proof: ChangeProof,
    ): Promise<string[]> {
      return self.audited(ctx, 'enrollment.phones_changed', username, async () => {
        const user = await self.activeUser(username);
        await rule.changeAllowed(user, ctx, proof);
        const primary = present(input.primary) ? checkPhone(input.primary, 'phone') : undefined;
        const backup = present(input.backup) ? checkPhone(input.backup, 'backupPhone') : undefined;
        if (backup !== undefined && primary === undefined)
          throw new MfaError('input.invalid', {
            field: 'phone',
            detail: 'a backup number needs a primary one',
          });
        if (backup !== undefined && backup === primary)
          throw new MfaError('input.invalid', {
            field: 'backupPhone',
            detail: 'differs from the primary number',
          });
        const phones = [primary, backup].filter((p) => p !== undefined);
        await users.updateUser(user.id, { phones }, clock.now());
        return { value: phones, details: { count: phones.length, before: user.phones.length } };
      });
    },

    async setPin(username: string, pin: string, ctx: RequestContext, proof: ChangeProof): Promise<void> {
      return self.audited(ctx, 'enrollment.pin_changed', username, async () => {
        const user = await self.activeUser(username);
        await rule.changeAllowed(user, ctx, proof);
        checkPin(pin, settings.pin);
        await users.updateUser(user.id, { pinHash: await hasher.hash(pin) }, clock.now());
        return { value: undefined, details: { replaced: user.pinHash !== null } };
      });
    },

    /** Replaces every answer of the user; each is normalised, then hashed. */
    async setSecurityAnswers(
      username: string,
      input: AnswerInput[],
      ctx: RequestContext,
      proof: ChangeProof,
    ): Promise<void> {
      return self.audited(ctx, 'enrollment.security_questions_changed', username, async () => {
        const user = await self.activeUser(username);
        const { count, answersRequired, questionIds } = settings.securityQuestions;
        if (answersRequired === 0)
          throw new MfaError('enrollment.not_allowed', { detail: 'security questions are turned off' });
        await rule.changeAllowed(user, ctx, proof);
        const normalised = checkSecurityAnswers(input, { count, questionIds });
        const hashed = [];
        for (const { questionId, answer } of normalised)
          hashed.push({ questionId, answerHash: await hasher.hash(answer) });
        await answers.replaceSecurityAnswers(user.id, hashed, clock.now());
        return { value: undefined, details: { questionIds: hashed.map((a) => a.questionId) } };
      });
    },

    /** One of the offered methods that the user can use now (TOTP needs a TOTP factor, SMS a phone). */
    async setMethod(username: string, method: Method, ctx: RequestContext): Promise<void> {
      return self.audited(ctx, 'enrollment.method_changed', username, async () => {
        const user = await self.activeUser(username);
        if (!settings.methods.includes(method) || !(await usable(user, method)))
          throw new MfaError('input.invalid', { field: 'method', detail: 'not offered or not set up' });
        await users.updateUser(user.id, { defaultMethod: method }, clock.now());
        return { value: undefined, details: { from: user.defaultMethod, to: method } };
      });
    },

    async setLanguage(username: string, language: string | null, ctx: RequestContext): Promise<void> {
      return self.audited(ctx, 'user.language_changed', username, async () => {
        const user = await self.activeUser(username);
        const checked = checkLanguage(language);
        await users.updateUser(user.id, { language: checked }, clock.now());
        return { value: undefined, details: { from: user.language, to: checked } };
      });
    },
  };
}

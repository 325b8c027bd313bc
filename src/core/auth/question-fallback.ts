// Security questions in place of the second factor (Azure's fallback): which questions a challenge
// asks, and whether the answers to them are right. The authenticator runs these inside its usual
// challenge steps (attempts, regulation, audit).
import { createHash } from 'node:crypto';
import { MfaError } from '../errors.ts';
import { normaliseAnswer, plausibleAnswer } from '../factors/security-questions.ts';
import type { Challenge, ChallengeStore, SecurityAnswerStore } from '../ports.ts';
import type { SecretHasher } from '../secrets/secret-hash.ts';

export function createQuestionFallback(deps: {
  answers: Pick<SecurityAnswerStore, 'listSecurityAnswers'>;
  hasher: Pick<SecretHasher, 'verify'>;
  challenges: Pick<ChallengeStore, 'consumeChallenge'>;
  /** How many answers stand in for the factor; 0 turns the fallback off. */
  answersRequired: number;
}) {
  const { answers, hasher, challenges, answersRequired } = deps;

  /**
   * `answersRequired` of the user's questions, ranked by a hash of the challenge id: random per
   * challenge, yet asking again shows the same ones (no re-rolling until known questions come up).
   * Empty when the fallback is off or the user has answered too few.
   */
  async function questionsFor(challenge: Challenge): Promise<string[]> {
    if (answersRequired <= 0 || !challenge.userId) return [];
    const stored = await answers.listSecurityAnswers(challenge.userId);
    if (stored.length < answersRequired) return [];
    const rank = (questionId: string) =>
      createHash('sha256').update(`${challenge.id}\u0000${questionId}`).digest('hex');
    return stored
      .map((a) => ({ id: a.questionId, rank: rank(a.questionId) }))
      .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
      .slice(0, answersRequired)
      .map((a) => a.id);
  }

  /**
   * Throws `auth.invalid_code` unless the answers are right: the questions distinct, the user's own,
   * at least `answersRequired` and including every one asked, and every answer correct. All answers
   * are checked (no early exit, so the time does not tell which one was wrong). The last allowed
   * attempt closes the challenge.
   */
  async function checkAnswers(
    challenge: Challenge,
    questionIds: readonly string[],
    given: Readonly<Record<string, string>>,
    attempts: number,
  ): Promise<void> {
    const fail = async (detail: string): Promise<never> => {
      if (attempts >= challenge.maxAttempts) await challenges.consumeChallenge(challenge.id);
      throw new MfaError('auth.invalid_code', { detail: `security questions: ${detail}` });
    };
    const asked = await questionsFor(challenge);
    if (asked.length === 0) return fail('none to ask');
    const stored = new Map(
      (await answers.listSecurityAnswers(challenge.userId ?? '')).map((a) => [a.questionId, a.answerHash]),
    );
    const ids =
      Array.isArray(questionIds) && questionIds.every((id) => typeof id === 'string') ? questionIds : [];
    if (
      new Set(ids).size !== ids.length ||
      ids.length < answersRequired ||
      !ids.every((id) => stored.has(id)) ||
      !asked.every((id) => ids.includes(id))
    )
      return fail('not the questions asked');
    const answerOf = (id: string) =>
      given !== null && typeof given === 'object' && Object.hasOwn(given, id) ? given[id] : undefined;
    const results = await Promise.all(
      ids.map((id) => {
        const answer = answerOf(id);
        return plausibleAnswer(answer)
          ? hasher.verify(normaliseAnswer(answer), stored.get(id) ?? '')
          : Promise.resolve(false);
      }),
    );
    if (!results.every(Boolean)) return fail('wrong answer');
  }

  return { questionsFor, checkAnswers };
}

// Security questions: the administrator's question ids, each user's answers hashed (peppered argon2id).
// Answers are normalised before hashing and before checking, so case, spacing, full-width characters
// and a trailing full stop do not turn the right answer into a wrong one.
import { MfaError } from '../errors.ts';

export interface SecurityQuestionRules {
  /** How many questions a user answers when enrolling. */
  count: number;
  /** The administrator's questions, by id. */
  questionIds: readonly string[];
}

export interface AnswerInput {
  questionId: string;
  answer: string;
}

export const ANSWER_MIN_LENGTH = 2;
export const ANSWER_MAX_LENGTH = 200;
/** Longer input is refused before it is normalised at all. */
const RAW_MAX_LENGTH = 1000;

/** NFKC, lower case, trimmed, inner white space collapsed to one space, trailing punctuation dropped. */
export function normaliseAnswer(answer: string): string {
  return answer
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/gu, ' ')
    .trim()
    .replace(/[\s.!?,;:…。]+$/u, '')
    .trim();
}

const length = (text: string) => [...text].length;

/**
 * Checks one user's set of answers and returns them normalised: exactly `count` answers, to distinct
 * known questions, each 2 to 200 characters once normalised. Throws `input.invalid` naming the field
 * (`answers`, `answers[i].questionId`, `answers[i].answer`).
 */
export function checkSecurityAnswers(
  answers: readonly AnswerInput[],
  rules: SecurityQuestionRules,
): AnswerInput[] {
  const invalid = (field: string, detail: string) => new MfaError('input.invalid', { field, detail });
  if (!Array.isArray(answers) || answers.length !== rules.count)
    throw invalid('answers', `answer exactly ${rules.count} questions`);
  const seen = new Set<string>();
  return answers.map(({ questionId, answer }, i) => {
    if (typeof questionId !== 'string' || !rules.questionIds.includes(questionId))
      throw invalid(`answers[${i}].questionId`, 'not one of the questions offered');
    if (seen.has(questionId)) throw invalid(`answers[${i}].questionId`, 'each question once');
    seen.add(questionId);
    if (typeof answer !== 'string' || answer.length > RAW_MAX_LENGTH)
      throw invalid(`answers[${i}].answer`, `${ANSWER_MIN_LENGTH} to ${ANSWER_MAX_LENGTH} characters`);
    const normal = normaliseAnswer(answer);
    if (length(normal) < ANSWER_MIN_LENGTH || length(normal) > ANSWER_MAX_LENGTH)
      throw invalid(`answers[${i}].answer`, `${ANSWER_MIN_LENGTH} to ${ANSWER_MAX_LENGTH} characters`);
    return { questionId, answer: normal };
  });
}

/** Whether an answer typed at sign-in is worth hashing at all (the same bounds as when enrolling). */
export function plausibleAnswer(answer: unknown): answer is string {
  return typeof answer === 'string' && answer.length <= RAW_MAX_LENGTH;
}

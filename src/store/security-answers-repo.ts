// Security answers: only their peppered hashes, replaced as a set in one transaction so a user never
// has half an old set and half a new one.
import type { Kysely } from 'kysely';
import type { Random, SecurityAnswerStore } from '../core/ports.ts';
import { timeOrderedId } from '../core/random.ts';
import type { Database } from './schema.ts';

export function createSecurityAnswersRepo(db: Kysely<Database>, random: Random): SecurityAnswerStore {
  return {
    async listSecurityAnswers(userId) {
      const rows = await db
        .selectFrom('security_answers')
        .select(['question_id', 'answer_hash'])
        .where('user_id', '=', userId)
        .orderBy('question_id')
        .execute();
      return rows.map((row) => ({ questionId: row.question_id, answerHash: row.answer_hash }));
    },

    async replaceSecurityAnswers(userId, answers, at) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('security_answers').where('user_id', '=', userId).execute();
        if (answers.length === 0) return;
        await trx
          .insertInto('security_answers')
          .values(
            answers.map((answer) => ({
              id: timeOrderedId(at, random),
              user_id: userId,
              question_id: answer.questionId,
              answer_hash: answer.answerHash,
              created_at: at,
            })),
          )
          .execute();
      });
    },
  };
}

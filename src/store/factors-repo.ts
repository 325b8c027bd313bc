// TOTP factors: seeds sealed with the secret box and bound to their row, and the replay guard as
// one conditional update, atomic across processes and nodes.
import type { Kysely, Selectable } from 'kysely';
import {
  type FactorStore,
  type Random,
  TOTP_ALGORITHMS,
  type TotpFactor,
  type TotpParams,
} from '../core/ports.ts';
import { timeOrderedId } from '../core/random.ts';
import { toMillis, toNullableMillis } from './rows.ts';
import type { Database, FactorsTable } from './schema.ts';
import type { SecretBox } from './secret-box.ts';

/** The associated data that ties a sealed seed to exactly one factor of one user. */
export const factorAad = (factorId: string, userId: string) => `factors:${factorId}:${userId}`;

function parseParams(text: string, factorId: string): TotpParams {
  const value = JSON.parse(text) as Partial<Record<keyof TotpParams, unknown>>;
  const { algorithm, digits, period } = value;
  const validAlgorithm = TOTP_ALGORITHMS.find((a) => a === algorithm);
  if (
    !validAlgorithm ||
    (digits !== 6 && digits !== 7 && digits !== 8) ||
    typeof period !== 'number' ||
    period <= 0
  ) {
    throw new Error(`store: factor ${factorId} has invalid TOTP params`);
  }
  return { algorithm: validAlgorithm, digits, period };
}

/** Inserts a TOTP factor with its seed sealed to the row; takes a transaction when part of a larger change. */
export async function insertTotpFactor(
  db: Kysely<Database>,
  deps: { secretBox: SecretBox; random: Random },
  factor: { userId: string; label: string; secret: Uint8Array; params: TotpParams; at: number },
): Promise<TotpFactor> {
  const { userId, label, secret, params, at } = factor;
  const id = timeOrderedId(at, deps.random);
  const stored: TotpParams = { algorithm: params.algorithm, digits: params.digits, period: params.period };
  await db
    .insertInto('factors')
    .values({
      id,
      user_id: userId,
      kind: 'totp',
      label,
      secret_enc: deps.secretBox.seal(secret, factorAad(id, userId)),
      params: JSON.stringify(stored),
      last_time_step: null,
      created_at: at,
      last_used_at: null,
    })
    .execute();
  return { ...stored, id, userId, label, secret: new Uint8Array(secret), lastTimeStep: null, createdAt: at };
}

export function createFactorsRepo(
  db: Kysely<Database>,
  deps: { secretBox: SecretBox; random: Random },
): FactorStore {
  const { secretBox } = deps;

  function toFactor(row: Selectable<FactorsTable>): TotpFactor {
    return {
      ...parseParams(row.params, row.id),
      id: row.id,
      userId: row.user_id,
      label: row.label,
      secret: secretBox.open(row.secret_enc, factorAad(row.id, row.user_id)),
      lastTimeStep: toNullableMillis(row.last_time_step),
      createdAt: toMillis(row.created_at),
    };
  }

  return {
    async listTotpFactors(userId) {
      const rows = await db
        .selectFrom('factors')
        .selectAll()
        .where('user_id', '=', userId)
        .where('kind', '=', 'totp')
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toFactor);
    },

    addTotpFactor: (userId, label, secret, params, at) =>
      insertTotpFactor(db, deps, { userId, label, secret, params, at }),

    async removeFactors(userId) {
      const result = await db.deleteFrom('factors').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async removeFactor(userId, factorId) {
      const result = await db
        .deleteFrom('factors')
        .where('id', '=', factorId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async acceptTimeStep(factorId, timeStep, at) {
      // One statement: whichever request updates the row first wins; the other sees the new step.
      const result = await db
        .updateTable('factors')
        .set({ last_time_step: timeStep, last_used_at: at })
        .where('id', '=', factorId)
        .where((eb) => eb.or([eb('last_time_step', 'is', null), eb('last_time_step', '<', timeStep)]))
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

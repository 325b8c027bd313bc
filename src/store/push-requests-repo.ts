// Push requests: created pending, settled exactly once by a conditional update (the single-use rule
// for answers), read in batches by waiters on other nodes, and swept once long over.
import type { Kysely, Selectable } from 'kysely';
import {
  CHANNELS,
  PUSH_STATES,
  type PushRequest,
  type PushRequestStore,
  type PushState,
} from '../core/ports.ts';
import { isUniqueViolation, oneOf, toMillis, toNullableMillis } from './rows.ts';
import type { Database, PushRequestsTable } from './schema.ts';

/** SQLite allows 999 bound parameters by default; batches stay well under it. */
const BATCH = 500;

function parseDecoys(text: string, id: string): [number, number] {
  const value: unknown = JSON.parse(text);
  if (Array.isArray(value) && value.length === 2 && value.every((n) => Number.isInteger(n)))
    return [value[0] as number, value[1] as number];
  throw new Error(`store: push request ${id} has invalid decoys`);
}

function toPushRequest(row: Selectable<PushRequestsTable>): PushRequest {
  return {
    id: row.id,
    userId: row.user_id,
    username: row.username,
    challengeId: row.challenge_id,
    channel: oneOf(CHANNELS, row.channel, 'push_requests.channel'),
    application: row.application,
    clientAddress: row.client_address,
    numberMatching: Number(row.number_matching) === 1,
    number: Number(row.number),
    decoys: parseDecoys(row.decoys, row.id),
    nonce: row.nonce,
    pinRequired: Number(row.pin_required) === 1,
    state: oneOf(PUSH_STATES, row.state, 'push_requests.state'),
    reason: row.reason,
    deviceId: row.device_id,
    createdAt: toMillis(row.created_at),
    expiresAt: toMillis(row.expires_at),
    answeredAt: toNullableMillis(row.answered_at),
  };
}

export function createPushRequestsRepo(db: Kysely<Database>): PushRequestStore {
  const insert = (request: Parameters<PushRequestStore['createPushRequest']>[0]) =>
    db
      .insertInto('push_requests')
      .values({
        id: request.id,
        user_id: request.userId,
        username: request.username,
        challenge_id: request.challengeId,
        channel: request.channel,
        application: request.application,
        client_address: request.clientAddress,
        number_matching: request.numberMatching ? 1 : 0,
        number: request.number,
        decoys: JSON.stringify(request.decoys),
        nonce: request.nonce,
        pin_required: request.pinRequired ? 1 : 0,
        state: 'pending',
        reason: null,
        device_id: null,
        created_at: request.createdAt,
        expires_at: request.expiresAt,
        answered_at: null,
      })
      .execute();

  return {
    async createPushRequest(request) {
      try {
        await insert(request);
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },

    async getPushRequest(id) {
      const row = await db.selectFrom('push_requests').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toPushRequest(row);
    },

    async listPendingPushRequests(userId, at) {
      const rows = await db
        .selectFrom('push_requests')
        .selectAll()
        .where('user_id', '=', userId)
        .where('state', '=', 'pending')
        .where('expires_at', '>', at)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map(toPushRequest);
    },

    async settlePushRequest(id, change) {
      const query = db
        .updateTable('push_requests')
        .set({
          state: change.state,
          reason: change.reason,
          device_id: change.deviceId,
          answered_at: change.at,
        })
        .where('id', '=', id)
        .where('state', '=', 'pending');
      // Expiring or cancelling needs no live request; an answer does.
      const result = await (change.state === 'expired' || change.state === 'cancelled'
        ? query
        : query.where('expires_at', '>', change.at)
      ).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async claimPushRequest(id, challengeId) {
      const result = await db
        .updateTable('push_requests')
        .set({ challenge_id: challengeId })
        .where('id', '=', id)
        .where('state', '=', 'approved')
        .where('challenge_id', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async expireStalePushRequests(userId, at) {
      const result = await db
        .updateTable('push_requests')
        .set({ state: 'expired', answered_at: at })
        .where('user_id', '=', userId)
        .where('state', '=', 'pending')
        .where('expires_at', '<=', at)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async pushRequestStates(ids) {
      const states = new Map<string, PushState>();
      for (let i = 0; i < ids.length; i += BATCH) {
        const rows = await db
          .selectFrom('push_requests')
          .select(['id', 'state'])
          .where('id', 'in', ids.slice(i, i + BATCH))
          .execute();
        for (const row of rows) states.set(row.id, oneOf(PUSH_STATES, row.state, 'push_requests.state'));
      }
      return states;
    },

    async deleteOldPushRequests(before) {
      const result = await db
        .deleteFrom('push_requests')
        .where('expires_at', '<=', before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

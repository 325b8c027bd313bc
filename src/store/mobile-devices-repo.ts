// Phones running the web authenticator and their activation codes. Public keys and push
// subscriptions are sealed to their row like seeds; a code is spent by one conditional update.
import type { Kysely, Selectable } from 'kysely';
import type {
  JsonWebKeyP256,
  MobileDevice,
  MobileDeviceStore,
  PushSubscriptionKeys,
  Random,
} from '../core/ports.ts';
import { timeOrderedId } from '../core/random.ts';
import { insertTotpFactor } from './factors-repo.ts';
import { toMillis, toNullableMillis } from './rows.ts';
import type { Database, MobileDevicesTable } from './schema.ts';
import type { SecretBox } from './secret-box.ts';

export const deviceAad = (deviceId: string, userId: string, column: string) =>
  `mobile_devices:${column}:${deviceId}:${userId}`;

const text = new TextEncoder();
const untext = new TextDecoder();

export function createMobileDevicesRepo(
  db: Kysely<Database>,
  deps: { secretBox: SecretBox; random: Random },
): MobileDeviceStore {
  const { secretBox, random } = deps;
  const sealJson = (value: unknown, aad: string) => secretBox.seal(text.encode(JSON.stringify(value)), aad);
  const openJson = (sealed: string, aad: string): unknown =>
    JSON.parse(untext.decode(secretBox.open(sealed, aad)));

  function toDevice(row: Selectable<MobileDevicesTable>): MobileDevice {
    const key = openJson(row.public_key_enc, deviceAad(row.id, row.user_id, 'public_key')) as JsonWebKeyP256;
    const subscription =
      row.push_subscription_enc === null
        ? null
        : (openJson(
            row.push_subscription_enc,
            deviceAad(row.id, row.user_id, 'push_subscription'),
          ) as PushSubscriptionKeys);
    return {
      id: row.id,
      userId: row.user_id,
      factorId: row.factor_id,
      name: row.name,
      publicKey: key,
      pushSubscription: subscription,
      createdAt: toMillis(row.created_at),
      lastSeenAt: toNullableMillis(row.last_seen_at),
    };
  }

  return {
    async createActivationCode(code) {
      await db
        .insertInto('activation_codes')
        .values({
          code_hash: code.codeHash,
          user_id: code.userId,
          created_by: code.createdBy,
          created_at: code.createdAt,
          expires_at: code.expiresAt,
          used_at: null,
        })
        .execute();
    },

    async consumeActivationCode(codeHash, at) {
      const row = await db
        .updateTable('activation_codes')
        .set({ used_at: at })
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', at)
        .returningAll()
        .executeTakeFirst();
      return (
        row && {
          codeHash: row.code_hash,
          userId: row.user_id,
          createdBy: row.created_by,
          createdAt: toMillis(row.created_at),
          expiresAt: toMillis(row.expires_at),
        }
      );
    },

    async deleteExpiredActivationCodes(before) {
      const result = await db
        .deleteFrom('activation_codes')
        .where('expires_at', '<=', before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async addMobileDevice(device, totp) {
      return db.transaction().execute(async (trx) => {
        const factor = await insertTotpFactor(trx, deps, {
          userId: device.userId,
          label: totp.label,
          secret: totp.secret,
          params: totp.params,
          at: device.createdAt,
        });
        const id = timeOrderedId(device.createdAt, random);
        const publicKey: JsonWebKeyP256 = {
          kty: 'EC',
          crv: 'P-256',
          x: device.publicKey.x,
          y: device.publicKey.y,
        };
        await trx
          .insertInto('mobile_devices')
          .values({
            id,
            user_id: device.userId,
            factor_id: factor.id,
            name: device.name,
            public_key_enc: sealJson(publicKey, deviceAad(id, device.userId, 'public_key')),
            push_subscription_enc: null,
            created_at: device.createdAt,
            last_seen_at: null,
          })
          .execute();
        return {
          ...device,
          publicKey,
          id,
          factorId: factor.id,
          pushSubscription: null,
          lastSeenAt: null,
        };
      });
    },

    async getMobileDevice(id) {
      const row = await db.selectFrom('mobile_devices').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toDevice(row);
    },

    async listMobileDevices(userId) {
      const rows = await db
        .selectFrom('mobile_devices')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toDevice);
    },

    async setPushSubscription(deviceId, subscription) {
      const row = await db
        .selectFrom('mobile_devices')
        .select(['id', 'user_id'])
        .where('id', '=', deviceId)
        .executeTakeFirst();
      if (!row) return;
      await db
        .updateTable('mobile_devices')
        .set({
          push_subscription_enc:
            subscription === null
              ? null
              : sealJson(
                  { endpoint: subscription.endpoint, p256dh: subscription.p256dh, auth: subscription.auth },
                  deviceAad(row.id, row.user_id, 'push_subscription'),
                ),
        })
        .where('id', '=', deviceId)
        .execute();
    },

    async touchMobileDevice(deviceId, at) {
      await db.updateTable('mobile_devices').set({ last_seen_at: at }).where('id', '=', deviceId).execute();
    },
  };
}

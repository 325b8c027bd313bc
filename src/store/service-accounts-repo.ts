// SDK service accounts. Looked up by token hash (bearer), by name (Basic), or by certificate
// (mutual TLS); a revoked account is never returned by the lookups that authenticate.
import type { Kysely, Selectable } from 'kysely';
import { SDK_SCOPES, type ServiceAccount, type ServiceAccountStore } from '../core/ports.ts';
import { isUniqueViolation, oneOf, parseStringList, toMillis, toNullableMillis } from './rows.ts';
import type { Database, ServiceAccountsTable } from './schema.ts';

function toAccount(row: Selectable<ServiceAccountsTable>): ServiceAccount {
  return {
    id: row.id,
    name: row.name,
    scopes: parseStringList(row.scopes, 'service_accounts.scopes').map((s) =>
      oneOf(SDK_SCOPES, s, 'service_accounts.scopes'),
    ),
    networks: parseStringList(row.networks, 'service_accounts.networks'),
    certFingerprint: row.cert_fingerprint,
    certSubject: row.cert_subject,
    createdAt: toMillis(row.created_at),
    createdBy: row.created_by,
    revokedAt: toNullableMillis(row.revoked_at),
  };
}

export function createServiceAccountsRepo(db: Kysely<Database>): ServiceAccountStore {
  const active = () => db.selectFrom('service_accounts').selectAll().where('revoked_at', 'is', null);
  return {
    async insertServiceAccount(account, tokenHash) {
      try {
        await db
          .insertInto('service_accounts')
          .values({
            id: account.id,
            name: account.name,
            token_hash: tokenHash,
            scopes: JSON.stringify(account.scopes),
            networks: JSON.stringify(account.networks),
            cert_fingerprint: account.certFingerprint,
            cert_subject: account.certSubject,
            created_at: account.createdAt,
            created_by: account.createdBy,
            revoked_at: account.revokedAt,
          })
          .execute();
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },

    async findServiceAccountByName(name) {
      const row = await active().where('name', '=', name).executeTakeFirst();
      return row && { ...toAccount(row), tokenHash: row.token_hash };
    },

    async findServiceAccountByTokenHash(tokenHash) {
      const row = await active().where('token_hash', '=', tokenHash).executeTakeFirst();
      return row && toAccount(row);
    },

    async findServiceAccountByCertificate(fingerprint, subject) {
      const row = await active()
        .where((eb) => eb.or([eb('cert_fingerprint', '=', fingerprint), eb('cert_subject', '=', subject)]))
        .orderBy('cert_fingerprint', 'desc')
        .executeTakeFirst();
      return row && toAccount(row);
    },

    async listServiceAccounts() {
      const rows = await db.selectFrom('service_accounts').selectAll().orderBy('name').execute();
      return rows.map(toAccount);
    },

    async revokeServiceAccount(name, at) {
      const result = await db
        .updateTable('service_accounts')
        .set({ revoked_at: at })
        .where('name', '=', name)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}

// Assembles the SQL store from its repositories over one Kysely instance (SQLite today, PostgreSQL later).
import { type Kysely, sql } from 'kysely';
import type { CoreStore } from '../core/create-core.ts';
import type { Random } from '../core/ports.ts';
import { createAuditRepo } from './audit-repo.ts';
import { createBypassesRepo } from './bypasses-repo.ts';
import { createChallengesRepo } from './challenges-repo.ts';
import { createEnrollmentWindowsRepo } from './enrollment-windows-repo.ts';
import { createFactorsRepo } from './factors-repo.ts';
import { createMobileDevicesRepo } from './mobile-devices-repo.ts';
import { createPushRequestsRepo } from './push-requests-repo.ts';
import { createRegulationRepo } from './regulation-repo.ts';
import { createRevocationsRepo } from './revocations-repo.ts';
import type { Database } from './schema.ts';
import { createSdkAuthenticationsRepo } from './sdk-authentications-repo.ts';
import type { SecretBox } from './secret-box.ts';
import { createSecurityAnswersRepo } from './security-answers-repo.ts';
import { createServiceAccountsRepo } from './service-accounts-repo.ts';
import { createUserDeletionRepo } from './user-deletion-repo.ts';
import { createUsersRepo } from './users-repo.ts';

export type Store = CoreStore & {
  close(): Promise<void>;
  /** A cheap round trip for health checks. */
  ping(): Promise<void>;
};

export interface StoreDeps {
  secretBox: SecretBox;
  random: Random;
}

export function createSqlStore(db: Kysely<Database>, deps: StoreDeps): Store {
  return {
    ...createUsersRepo(db, deps.random),
    ...createFactorsRepo(db, deps),
    ...createChallengesRepo(db),
    ...createRegulationRepo(db),
    ...createAuditRepo(db, deps.random),
    ...createBypassesRepo(db),
    ...createRevocationsRepo(db),
    ...createSecurityAnswersRepo(db, deps.random),
    ...createEnrollmentWindowsRepo(db),
    ...createMobileDevicesRepo(db, deps),
    ...createPushRequestsRepo(db),
    ...createServiceAccountsRepo(db),
    ...createSdkAuthenticationsRepo(db),
    ...createUserDeletionRepo(db),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}

// The ordered list of migrations, imported explicitly (no folder scanning), and its provider.
import type { Migration, MigrationProvider } from 'kysely/migration';
import { initial } from './0001-initial.ts';
import { gateway } from './0002-gateway.ts';
import { portal } from './0003-portal.ts';
import { mobile } from './0004-mobile.ts';
import { sdk } from './0005-sdk.ts';
import { sdkAuthentications } from './0006-sdk-authentications.ts';

/** Names sort in the order they must run; a released migration is never edited, only followed. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-initial': initial,
  '0002-gateway': gateway,
  '0003-portal': portal,
  '0004-mobile': mobile,
  '0005-sdk': sdk,
  '0006-sdk-authentications': sdkAuthentications,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};

// SDK service accounts: created by an administrator (CLI), each with scopes, optional source
// networks and an optional client certificate. The token is shown once and only its hash is kept;
// tokens carry 256 random bits, so a plain SHA-256 is enough to make the stored value useless.
// Authentication answers "no account" the same way whether the name, token or certificate is
// unknown, revoked or wrong.
import { createHash } from 'node:crypto';
import { MfaError } from '../errors.ts';
import { parseAddressOrCidr } from '../policy/networks.ts';
import {
  type AuditSink,
  type Clock,
  type Random,
  SDK_SCOPES,
  type SdkScope,
  type ServiceAccount,
  type ServiceAccountStore,
} from '../ports.ts';
import { timeOrderedId } from '../random.ts';
import { constantTimeEqual } from '../secrets/constant-time.ts';
import type { AdminContext } from '../users/user-admin.ts';

const TOKEN_PREFIX = 'mfa_sa_';
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/** `AB:CD:...` as openssl prints it, or plain hex: one spelling, lower-case hex. */
export function normaliseFingerprint(text: string): string | undefined {
  const hex = text.replaceAll(':', '').trim().toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

export interface NewServiceAccount {
  name: string;
  scopes: readonly string[];
  networks?: readonly string[];
  certFingerprint?: string;
  certSubject?: string;
}

function checkInput(input: NewServiceAccount) {
  if (!NAME.test(input.name))
    throw new MfaError('input.invalid', {
      field: 'name',
      detail: 'lower-case letters, digits, ".", "_" and "-", up to 63 characters',
    });
  if (input.scopes.length === 0)
    throw new MfaError('input.invalid', { field: 'scopes', detail: 'at least one' });
  const unknown = input.scopes.find((s) => !(SDK_SCOPES as readonly string[]).includes(s));
  if (unknown !== undefined)
    throw new MfaError('input.invalid', {
      field: 'scopes',
      detail: `'${unknown}' is not one of ${SDK_SCOPES.join(', ')}`,
    });
  const badNetwork = (input.networks ?? []).find((n) => !parseAddressOrCidr(n));
  if (badNetwork !== undefined)
    throw new MfaError('input.invalid', {
      field: 'networks',
      detail: `'${badNetwork}' is not an IP or CIDR`,
    });
  const fingerprint =
    input.certFingerprint === undefined ? null : normaliseFingerprint(input.certFingerprint);
  if (fingerprint === undefined)
    throw new MfaError('input.invalid', {
      field: 'certFingerprint',
      detail: 'a SHA-256 fingerprint (64 hex digits)',
    });
  return {
    scopes: [...new Set(input.scopes)] as SdkScope[],
    networks: [...(input.networks ?? [])],
    certFingerprint: fingerprint,
    certSubject: input.certSubject?.trim() || null,
  };
}

export function createServiceAccounts(deps: {
  store: ServiceAccountStore;
  audit: AuditSink;
  clock: Clock;
  random: Random;
}) {
  const { store, audit, clock, random } = deps;

  const record = (ctx: AdminContext, type: string, name: string, details: Record<string, unknown> | null) =>
    audit.record({
      at: clock.now(),
      type,
      outcome: 'success',
      channel: ctx.channel,
      username: null,
      clientAddress: ctx.clientAddress,
      reason: null,
      actor: ctx.actor,
      application: name,
      details,
    });

  return {
    /** Creates the account; the token in the answer is never available again. */
    async create(
      input: NewServiceAccount,
      ctx: AdminContext,
    ): Promise<{ account: ServiceAccount; token: string }> {
      const checked = checkInput(input);
      const token = `${TOKEN_PREFIX}${Buffer.from(random.bytes(32)).toString('base64url')}`;
      const account: ServiceAccount = {
        id: timeOrderedId(clock.now(), random),
        name: input.name,
        ...checked,
        createdAt: clock.now(),
        createdBy: ctx.actor,
        revokedAt: null,
      };
      if (!(await store.insertServiceAccount(account, hashToken(token))))
        throw new MfaError('input.invalid', {
          field: 'name',
          detail: `an account named '${input.name}' exists`,
        });
      await record(ctx, 'sdk.account_created', account.name, {
        scopes: account.scopes,
        networks: account.networks,
        certificate: account.certFingerprint !== null || account.certSubject !== null,
      });
      return { account, token };
    },

    async list(): Promise<ServiceAccount[]> {
      return store.listServiceAccounts();
    },

    async revoke(name: string, ctx: AdminContext): Promise<void> {
      if (!(await store.revokeServiceAccount(name, clock.now())))
        throw new MfaError('not_found', { detail: `no active service account '${name}'` });
      await record(ctx, 'sdk.account_revoked', name, null);
    },

    /** A bearer token, or undefined. */
    async byToken(token: string): Promise<ServiceAccount | undefined> {
      if (!token.startsWith(TOKEN_PREFIX)) return undefined;
      return store.findServiceAccountByTokenHash(hashToken(token));
    },

    /** HTTP Basic: the account's name and its token. */
    async byNameAndToken(name: string, token: string): Promise<ServiceAccount | undefined> {
      const found = await store.findServiceAccountByName(name);
      // Hash either way, so an unknown name costs what a wrong token does.
      const given = hashToken(token);
      if (!found || !constantTimeEqual(given, found.tokenHash)) return undefined;
      const { tokenHash: _hash, ...account } = found;
      return account;
    },

    /** Mutual TLS: the verified client certificate's SHA-256 fingerprint and subject. */
    async byCertificate(fingerprint: string, subject: string): Promise<ServiceAccount | undefined> {
      const normalised = normaliseFingerprint(fingerprint);
      return normalised ? store.findServiceAccountByCertificate(normalised, subject) : undefined;
    },
  };
}

export type ServiceAccounts = ReturnType<typeof createServiceAccounts>;

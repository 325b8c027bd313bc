// The SDK's operations. Each is a short handler over a core service; the core checks the input
// it owns (names, phones, seconds) and throws catalogue errors with the field.
import Type from 'typebox';
import type { Core } from '../core/create-core.ts';
import { isMfaError, MfaError } from '../core/errors.ts';
import { AUDIT_OUTCOMES, USER_STATUSES } from '../core/ports.ts';
import type { SdkRoute } from './route.ts';
import { AuditEvent, auditEventJson, Expiry, iso, User, UsernameParams, userJson } from './schemas.ts';
import { userDataRoutes } from './user-data-routes.ts';

export interface SdkCore {
  accounts: Core['accounts'];
  userAdmin: Core['userAdmin'];
  authenticator: Pick<Core['authenticator'], 'verifyCode'>;
  enrollment: Pick<Core['enrollment'], 'issueActivationCodeAsAdmin'>;
  auditQuery: Core['auditQuery'];
}

/** The core names its own field (`pin`); the SDK's 400s name the request's path to it (`body.pin`). */
function inBody(error: unknown, field: string): unknown {
  if (!isMfaError(error, 'input.invalid') || error.field !== field) return error;
  return new MfaError('input.invalid', {
    field: `body.${field}`,
    ...(error.detail ? { detail: error.detail } : {}),
    cause: error,
  });
}

export function sdkRoutes(
  core: SdkCore,
  options: { publicUrl: string; health: () => Promise<string> },
): SdkRoute[] {
  const { userAdmin } = core;
  return [
    {
      method: 'GET',
      url: '/health',
      operationId: 'health',
      summary: 'Whether this node can serve: no credentials needed',
      tag: 'service',
      scope: 'public',
      success: { status: 200, schema: Type.Object({ status: Type.String() }) },
      handle: async () => ({ status: await options.health() }),
    },
    {
      method: 'GET',
      url: '/ping',
      operationId: 'ping',
      summary: 'Checks the credentials (the old TestPfWsSdkConnection): the account and its scopes',
      tag: 'service',
      scope: null,
      success: {
        status: 200,
        schema: Type.Object({ account: Type.String(), scopes: Type.Array(Type.String()) }),
      },
      handle: async ({ account }) => ({ account: account.name, scopes: account.scopes }),
    },
    {
      method: 'GET',
      url: '/users',
      operationId: 'searchUsers',
      summary: 'Users by status and a piece of the name, display name or e-mail',
      tag: 'users',
      scope: 'users:read',
      querystring: Type.Object(
        {
          search: Type.Optional(Type.String({ maxLength: 256 })),
          status: Type.Optional(Type.Enum(USER_STATUSES)),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        },
        { additionalProperties: false },
      ),
      success: { status: 200, schema: Type.Object({ users: Type.Array(User) }) },
      handle: async ({ query }) => ({
        users: (await userAdmin.search(query as Parameters<typeof userAdmin.search>[0])).map(userJson),
      }),
    },
    {
      method: 'POST',
      url: '/users',
      operationId: 'createUser',
      summary: 'Adds a user who is not in the directory import',
      tag: 'users',
      scope: 'users:write',
      body: Type.Object(
        {
          username: Type.String({ minLength: 1, maxLength: 256 }),
          displayName: Type.Optional(Type.String({ maxLength: 256 })),
          email: Type.Optional(Type.String({ maxLength: 254 })),
          phones: Type.Optional(Type.Array(Type.String(), { maxItems: 5 })),
        },
        { additionalProperties: false },
      ),
      success: { status: 201, schema: User },
      handle: async ({ body, admin }) =>
        userJson(await userAdmin.add(body as unknown as Parameters<typeof userAdmin.add>[0], admin)),
    },
    {
      method: 'GET',
      url: '/users/:username',
      operationId: 'getUser',
      summary: 'One user',
      tag: 'users',
      scope: 'users:read',
      params: UsernameParams,
      success: { status: 200, schema: User },
      handle: async ({ params }) => userJson(await userAdmin.find(params.username ?? '')),
    },
    {
      method: 'PATCH',
      url: '/users/:username',
      operationId: 'updateUser',
      summary:
        'Changes settings: phones, method, language, PIN (null clears it), display name, e-mail, enabled',
      tag: 'users',
      scope: 'users:write',
      params: UsernameParams,
      body: Type.Object(
        {
          displayName: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
          email: Type.Optional(Type.Union([Type.String({ maxLength: 254 }), Type.Null()])),
          phones: Type.Optional(Type.Array(Type.String(), { maxItems: 5 })),
          method: Type.Optional(Type.Union([Type.Enum(['totp', 'push', 'sms', 'voice']), Type.Null()])),
          language: Type.Optional(Type.Union([Type.String({ maxLength: 16 }), Type.Null()])),
          // Null first: with type coercion, a string branch tried first would turn null into "".
          pin: Type.Optional(
            Type.Union([
              Type.Null(),
              Type.String({ maxLength: 64, description: 'digits, within the portal’s PIN rules' }),
            ]),
          ),
          enabled: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
      success: { status: 200, schema: User },
      handle: async ({ params, body, admin }) => {
        const username = params.username ?? '';
        const { enabled, method, ...settings } = body as Record<string, never>;
        let user = await userAdmin
          .updateSettings(
            username,
            { ...settings, ...(method !== undefined ? { defaultMethod: method } : {}) },
            admin,
          )
          .catch((error: unknown) => {
            throw inBody(error, 'pin');
          });
        if (enabled === true && user.status !== 'enabled') user = await userAdmin.enable(username, admin);
        if (enabled === false && user.status === 'enabled') user = await userAdmin.disable(username, admin);
        return userJson(user);
      },
    },
    ...userDataRoutes(userAdmin),
    {
      method: 'POST',
      url: '/users/:username/verify-code',
      operationId: 'verifyCode',
      summary: 'Checks a code from the user’s authenticator (spent once; failures count towards the lockout)',
      tag: 'authentication',
      scope: 'auth',
      params: UsernameParams,
      body: Type.Object({ code: Type.String({ pattern: '^[0-9]{6,8}$' }) }, { additionalProperties: false }),
      success: { status: 200, schema: Type.Object({ valid: Type.Literal(true), username: Type.String() }) },
      handle: async ({ params, body, ctx }) => {
        const user = await core.authenticator.verifyCode(params.username ?? '', String(body.code), ctx);
        return { valid: true, username: user.username };
      },
    },
    {
      method: 'POST',
      url: '/users/:username/bypass',
      operationId: 'createBypass',
      summary: 'A one-time bypass: the next sign-in within `seconds` skips the second factor',
      tag: 'administration',
      scope: 'admin',
      params: UsernameParams,
      body: Type.Object(
        {
          seconds: Type.Integer({ minimum: 1, maximum: 86400 }),
          reason: Type.Optional(Type.String({ maxLength: 500 })),
        },
        { additionalProperties: false },
      ),
      success: {
        status: 201,
        schema: Type.Object({ id: Type.String(), expiresAt: Type.String({ format: 'date-time' }) }),
      },
      handle: async ({ params, body, admin }) => {
        const issued = await userAdmin.issueBypass(
          params.username ?? '',
          body as unknown as { seconds: number; reason?: string },
          admin,
        );
        return { id: issued.id, expiresAt: iso(issued.expiresAt) };
      },
    },
    {
      method: 'POST',
      url: '/users/:username/enrollment-window',
      operationId: 'issueEnrollmentWindow',
      summary: 'Lets the user enrol or replace a factor with the password alone for `hours`',
      tag: 'administration',
      scope: 'admin',
      params: UsernameParams,
      body: Type.Object(
        { hours: Type.Integer({ minimum: 1, maximum: 168 }) },
        { additionalProperties: false },
      ),
      success: { status: 201, schema: Expiry },
      handle: async ({ params, body, admin }) => {
        const { expiresAt } = await userAdmin.issueEnrollmentWindow(
          params.username ?? '',
          Number(body.hours),
          admin,
        );
        return { expiresAt: iso(expiresAt) };
      },
    },
    {
      method: 'POST',
      url: '/users/:username/mobile-activation',
      operationId: 'createMobileActivation',
      summary: 'A single-use activation code and link for the user’s phone (the web authenticator)',
      tag: 'users',
      scope: 'users:write',
      params: UsernameParams,
      success: {
        status: 201,
        schema: Type.Object({
          code: Type.String(),
          url: Type.String({ format: 'uri' }),
          expiresAt: Type.String({ format: 'date-time' }),
        }),
      },
      handle: async ({ params, admin }) => {
        const issued = await core.enrollment.issueActivationCodeAsAdmin(params.username ?? '', admin);
        const url = new URL('/mobile/app/activate', options.publicUrl);
        url.searchParams.set('c', issued.code);
        return { code: issued.code, url: url.toString(), expiresAt: iso(issued.expiresAt) };
      },
    },
    {
      method: 'GET',
      url: '/audit',
      operationId: 'queryAudit',
      summary: 'Audit events, newest first',
      tag: 'administration',
      scope: 'admin',
      querystring: Type.Object(
        {
          user: Type.Optional(Type.String({ maxLength: 256 })),
          type: Type.Optional(
            Type.String({ maxLength: 64, description: 'exact, or a family ending in "."' }),
          ),
          outcome: Type.Optional(Type.Enum(AUDIT_OUTCOMES)),
          since: Type.Optional(Type.String({ format: 'date-time' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        },
        { additionalProperties: false },
      ),
      success: { status: 200, schema: Type.Object({ events: Type.Array(AuditEvent) }) },
      handle: async ({ query }) => {
        const since = query.since === undefined ? undefined : Date.parse(String(query.since));
        if (since !== undefined && Number.isNaN(since))
          throw new MfaError('input.invalid', { field: 'querystring.since', detail: 'a date-time' });
        const events = await core.auditQuery({
          ...(query.user ? { username: String(query.user) } : {}),
          ...(query.type ? { type: String(query.type) } : {}),
          ...(query.outcome ? { outcome: query.outcome as never } : {}),
          ...(since !== undefined ? { since } : {}),
          limit: Number(query.limit ?? 100),
          order: 'newest',
        });
        return { events: events.map(auditEventJson) };
      },
    },
  ];
}

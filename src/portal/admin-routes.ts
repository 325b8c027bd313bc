// The administrators' pages at /enroll/admin: find users, add one, see one (status, factors, recent
// audit events) and act on one (settings, reset, disable, enable, unblock, bypass, enrollment
// window). Every route checks its permission before it reads or changes anything, every form post
// its CSRF token first. The core audits each action with the administrator's name.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { canonicalUsername } from '../core/auth/authenticator.ts';
import { isMfaError, MfaError } from '../core/errors.ts';
import { USER_STATUSES } from '../core/ports.ts';
import type { Session } from '../http/session-cookie.ts';
import { checkCsrf } from '../http/web-page.ts';
import { registerAdminAuditRoutes } from './admin-audit-routes.ts';
import { ADMIN, adminContext, isoTime, oneOf, optional, queryField, userPath } from './admin-input.ts';
import { userActions } from './admin-user-actions.ts';
import {
  type PortalContext,
  type PortalRequest,
  permissionsOf,
  portalRequest,
  render,
  requirePermission,
} from './context.ts';

const SEARCH_LIMIT = 200;
const USER_EVENTS = 20;
const PAGE = { wide: true, styles: ['admin.css'] };

export function registerAdminRoutes(app: FastifyInstance, ctx: PortalContext): void {
  const { config, core, clock } = ctx;

  const ACTIONS = userActions(ctx);
  const DONE = ['add', ...Object.keys(ACTIONS)];

  const page = (
    request: FastifyRequest,
    reply: FastifyReply,
    pr: PortalRequest,
    name: string,
    data: Record<string, unknown>,
    status = 200,
  ) => render(ctx, request, reply, pr, name, { ...PAGE, ...data }, status);

  /** The user named in the path, as typed (the core canonicalises it). */
  const pathUsername = (request: FastifyRequest) => {
    const { username } = request.params as { username?: unknown };
    if (typeof username !== 'string' || username.length === 0 || username.length > 256)
      throw new MfaError('input.invalid', { field: 'username' });
    return username;
  };

  /**
   * Users whose lockout still runs, from the audit log (the regulator keeps no list the portal may
   * read): a `regulation.lockout` of the user within the ban time, not lifted by an unblock since.
   */
  async function currentLockouts(username?: string): Promise<Map<string, number>> {
    const now = clock.now();
    const since = now - config.regulation.user.banSeconds * 1000;
    const byUser = username === undefined ? {} : { username };
    const [lockouts, unblocks] = await Promise.all([
      core.auditQuery({ ...byUser, type: 'regulation.lockout', since, limit: 1000 }),
      core.auditQuery({ ...byUser, type: 'admin.user_unblock', since, limit: 1000 }),
    ]);
    const liftedAt = new Map<string, number>();
    for (const event of unblocks) {
      if (!event.username) continue;
      const name = canonicalUsername(event.username);
      liftedAt.set(name, Math.max(liftedAt.get(name) ?? 0, event.at));
    }
    const locked = new Map<string, number>();
    for (const event of lockouts) {
      const until = event.details?.lockedUntil;
      if (event.reason !== 'user_failures' || !event.username || typeof until !== 'number' || until <= now)
        continue;
      const name = canonicalUsername(event.username);
      if ((liftedAt.get(name) ?? -1) >= event.at) continue;
      locked.set(name, Math.max(locked.get(name) ?? 0, until));
    }
    return locked;
  }

  async function showUser(
    request: FastifyRequest,
    reply: FastifyReply,
    pr: PortalRequest,
    session: Session,
    username: string,
    outcome: { done?: string; error?: string; status?: number } = {},
  ) {
    const overview = await core.userAdmin.overview(username);
    const { user } = overview;
    const [events, lockouts] = await Promise.all([
      core.auditQuery({ username: user.username, order: 'newest', limit: USER_EVENTS }),
      currentLockouts(user.username),
    ]);
    const granted = permissionsOf(ctx, session);
    const lockedUntil = lockouts.get(user.username);
    return page(
      request,
      reply,
      pr,
      'admin/user',
      {
        user: {
          username: user.username,
          displayName: user.displayName ?? '',
          email: user.email ?? '',
          phone: user.phones[0] ?? '',
          backupPhone: user.phones[1] ?? '',
          phones: user.phones,
          status: user.status,
          method: user.defaultMethod,
          language: user.language,
          languageName: user.language ? ctx.i18n.nameOf(user.language) : null,
          fromDirectory: user.fromDirectory,
        },
        userUrl: userPath(user.username),
        factors: overview.factors.map((f) => ({
          label: f.label,
          kind: f.kind,
          createdAt: isoTime(f.createdAt),
        })),
        questionCount: overview.securityQuestionIds.length,
        hasPin: overview.hasPin,
        windowUntil: overview.enrollmentWindowUntil ? isoTime(overview.enrollmentWindowUntil) : null,
        lockedUntil: lockedUntil === undefined ? null : isoTime(lockedUntil),
        events: events.map((e) => ({ ...e, at: isoTime(e.at) })),
        methods: config.portal.methods,
        languages: ctx.i18n.languages.map((code) => ({ code, name: ctx.i18n.nameOf(code) })),
        can: {
          write: granted.has('users:write'),
          bypass: granted.has('bypass'),
          enrollment: granted.has('enrollment'),
          audit: granted.has('audit'),
        },
        auditUrl: `${ADMIN}/audit?${new URLSearchParams({ user: user.username })}`,
        done: outcome.done !== undefined && DONE.includes(outcome.done) ? outcome.done : null,
        error: outcome.error ?? null,
      },
      outcome.status,
    );
  }

  // ------------------------------------------------------------ find users

  app.get(ADMIN, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    // The navigation's "Administration" leads an auditor who may not read users to the audit log.
    const granted = permissionsOf(ctx, pr.session);
    if (!granted.has('users:read') && granted.has('audit')) return reply.redirect(`${ADMIN}/audit`, 303);
    requirePermission(ctx, pr, 'users:read');
    const q = queryField(request.query, 'q');
    const status =
      oneOf(queryField(request.query, 'status', 16), 'status', [...USER_STATUSES, 'any']) ?? 'any';
    const [users, lockouts] = await Promise.all([
      core.userAdmin.search({
        ...(q === '' ? {} : { search: q }),
        ...(status === 'any' ? {} : { status }),
        limit: SEARCH_LIMIT,
      }),
      currentLockouts(),
    ]);
    return page(request, reply, pr, 'admin/users', {
      q,
      status,
      statuses: USER_STATUSES,
      users: users.map((u) => ({
        username: u.username,
        url: userPath(u.username),
        displayName: u.displayName ?? '',
        email: u.email ?? '',
        status: u.status,
        method: u.defaultMethod,
      })),
      truncated: users.length >= SEARCH_LIMIT,
      lockouts: [...lockouts]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([username, until]) => ({ username, url: userPath(username), until: isoTime(until) })),
      can: { write: granted.has('users:write'), audit: granted.has('audit') },
    });
  });

  // ------------------------------------------------------------ add a user

  app.get(`${ADMIN}/users/new`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    requirePermission(ctx, pr, 'users:write');
    return page(request, reply, pr, 'admin/user-new', { form: {} });
  });

  app.post(`${ADMIN}/users`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    checkCsrf(request, pr.view);
    const session = requirePermission(ctx, pr, 'users:write');
    const form = {
      username: optional(request.body, 'username'),
      displayName: optional(request.body, 'displayName'),
      email: optional(request.body, 'email'),
      phone: optional(request.body, 'phone', 32),
    };
    try {
      if (form.email !== '' && !/^[^\s@]+@[^\s@]+$/.test(form.email))
        throw new MfaError('input.invalid', { field: 'email', detail: 'an e-mail address' });
      const user = await core.userAdmin.add(
        {
          username: form.username,
          ...(form.displayName ? { displayName: form.displayName } : {}),
          ...(form.email ? { email: form.email } : {}),
          phones: form.phone ? [form.phone] : [],
        },
        adminContext(pr, session),
      );
      return reply.redirect(`${userPath(user.username)}?done=add`, 303);
    } catch (error) {
      if (!isMfaError(error, 'input.invalid') && !isMfaError(error, 'user.exists')) throw error;
      return page(
        request,
        reply,
        pr,
        'admin/user-new',
        { form, error: error.publicMessage },
        error.spec.httpStatus,
      );
    }
  });

  // ------------------------------------------------------------ one user

  app.get(`${ADMIN}/users/:username`, async (request, reply) => {
    const pr = await portalRequest(ctx, request);
    const session = requirePermission(ctx, pr, 'users:read');
    const done = queryField(request.query, 'done', 32);
    return showUser(request, reply, pr, session, pathUsername(request), done === '' ? {} : { done });
  });

  for (const [name, action] of Object.entries(ACTIONS)) {
    app.post(`${ADMIN}/users/:username/${name}`, async (request, reply) => {
      const pr = await portalRequest(ctx, request);
      checkCsrf(request, pr.view);
      const session = requirePermission(ctx, pr, action.permission);
      const username = pathUsername(request);
      try {
        await action.run(username, request.body, adminContext(pr, session));
      } catch (error) {
        // A form filled in wrongly: the same page again, with what was wrong; nothing was changed.
        // Only for those who may read the page: a bypass-only administrator gets the error page.
        if (!isMfaError(error, 'input.invalid') || !permissionsOf(ctx, session).has('users:read'))
          throw error;
        return showUser(request, reply, pr, session, username, { error: error.publicMessage, status: 400 });
      }
      return reply.redirect(`${userPath(canonicalUsername(username))}?done=${name}`, 303);
    });
  }

  registerAdminAuditRoutes(app, ctx);
}

// The gateway's decision for one request, shared by HTTP forwarding and upgrades:
// [decidePolicy, readSession, enforceLevel, authorizeSubject] → forward, sign in, or deny.
// Every failure on the way denies (DESIGN §6 rule 1): nothing here falls back to forwarding.
import type { createAccessPolicy, Decision } from '../core/policy/access-rules.ts';
import type { RequestView } from '../http/request-view.ts';
import type { Session, SessionCookies } from '../http/session-cookie.ts';
import { readCookie } from '../http/web-page.ts';
import type { ProtectedApp } from './apps.ts';

export type Verdict =
  | { kind: 'forward'; app: ProtectedApp; decision: Decision; session: Session | undefined }
  | { kind: 'sign_in'; app: ProtectedApp; decision: Decision; need: 1 | 2; session: Session | undefined }
  /** Form interception: the app's own login post, to be checked by the gateway first. */
  | { kind: 'intercept'; app: ProtectedApp; decision: Decision; need: 1 | 2; session: Session | undefined }
  | { kind: 'deny'; app: ProtectedApp | undefined; decision: Decision; reason: string };

export function createGate(deps: {
  apps: readonly ProtectedApp[];
  policy: ReturnType<typeof createAccessPolicy>;
  cookies: SessionCookies;
}) {
  const { apps, policy, cookies } = deps;

  async function readSession(view: RequestView, cookieHeader: string | undefined) {
    const token = readCookie(cookieHeader, cookies.cookieName(view.scheme === 'https'));
    if (!token) return undefined;
    const result = await cookies.verify(token, view.canonical.authority);
    return typeof result === 'string' ? undefined : result;
  }

  function isInterceptedSubmit(app: ProtectedApp, view: RequestView, method: string): boolean {
    const form = app.config.formIntercept;
    return (
      app.config.auth === 'form-intercept' &&
      form !== undefined &&
      method === form.method &&
      view.canonical.matchPath === form.path
    );
  }

  async function check(
    view: RequestView,
    method: string,
    cookieHeader: string | undefined,
  ): Promise<Verdict> {
    const { canonical } = view;
    const decision = policy.decide(
      { host: canonical.host, port: canonical.port, matchPath: canonical.matchPath },
      view.clientAddress,
    );
    const app = decision.ruleIndex >= 0 ? apps[decision.ruleIndex] : undefined;
    if (!app || decision.required === 'deny')
      return { kind: 'deny', app, decision, reason: decision.reasons.join('; ') };
    const session = await readSession(view, cookieHeader);
    if (decision.required === 'bypass') return { kind: 'forward', app, decision, session };
    const need = decision.required === 'one_factor' ? 1 : 2;
    const enough = session !== undefined && session.level >= need;
    if (app.config.auth === 'form-intercept') {
      // The app guards its own pages with its own session; the gateway guards the login post.
      // It is intercepted even with a session: the form may name another user.
      if (!isInterceptedSubmit(app, view, method)) return { kind: 'forward', app, decision, session };
      return { kind: 'intercept', app, decision, need, session };
    }
    if (!enough) {
      return { kind: 'sign_in', app, decision, need, session };
    }
    const authz = policy.authorize(decision, { username: session.username, groups: session.groups });
    if (!authz.allowed) return { kind: 'deny', app, decision, reason: authz.reason };
    return { kind: 'forward', app, decision, session };
  }

  /** The app's users/groups restriction, for flows that forward right after signing in. */
  const authorize = (decision: Decision, session: Session) =>
    policy.authorize(decision, { username: session.username, groups: session.groups });

  return { check, readSession, authorize };
}

export type Gate = ReturnType<typeof createGate>;

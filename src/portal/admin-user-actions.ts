// The forms on a user's administration page, each with the permission it needs: settings, reset,
// disable, enable, unblock, one-time bypass, enrollment window. Each reads its own fields and calls
// the core, which checks the values again and audits the change with the administrator's name.
import { MfaError } from '../core/errors.ts';
import type { AdminContext } from '../core/users/user-admin.ts';
import { oneOf, optional, wholeNumber } from './admin-input.ts';
import type { AdminPermission, PortalContext } from './context.ts';

export interface UserAction {
  permission: AdminPermission;
  run(username: string, body: unknown, admin: AdminContext): Promise<unknown>;
}

export function userActions(ctx: PortalContext): Record<string, UserAction> {
  const { config, core } = ctx;
  return {
    settings: {
      permission: 'users:write',
      run: (username, body, admin) =>
        core.userAdmin.updateSettings(
          username,
          {
            displayName: optional(body, 'displayName'),
            email: optional(body, 'email'),
            phones: [optional(body, 'phone', 32), optional(body, 'backupPhone', 32)].filter(Boolean),
            defaultMethod: oneOf(optional(body, 'method', 16), 'method', config.portal.methods) ?? null,
            language: oneOf(optional(body, 'language', 16), 'language', ctx.i18n.languages) ?? null,
          },
          admin,
        ),
    },
    reset: {
      permission: 'users:write',
      run: (username, body, admin) => {
        if (optional(body, 'confirm', 8) !== 'yes')
          throw new MfaError('input.invalid', { field: 'confirm', detail: 'tick the box to confirm' });
        return core.userAdmin.reset(username, admin);
      },
    },
    disable: {
      permission: 'users:write',
      run: (username, _body, admin) => core.userAdmin.disable(username, admin),
    },
    enable: {
      permission: 'users:write',
      run: (username, _body, admin) => core.userAdmin.enable(username, admin),
    },
    unblock: {
      permission: 'users:write',
      run: (username, _body, admin) => core.userAdmin.unblock(username, admin),
    },
    bypass: {
      permission: 'bypass',
      run: (username, body, admin) => {
        const seconds = wholeNumber(optional(body, 'seconds', 8), 'seconds', {
          min: 1,
          max: 86_400,
          fallback: 300,
        });
        const reason = optional(body, 'reason', 200);
        return core.userAdmin.issueBypass(username, { seconds, ...(reason ? { reason } : {}) }, admin);
      },
    },
    'enrollment-window': {
      permission: 'enrollment',
      run: (username, body, admin) => {
        const hours = wholeNumber(optional(body, 'hours', 8), 'hours', { min: 1, max: 168, fallback: 24 });
        return core.userAdmin.issueEnrollmentWindow(username, hours, admin);
      },
    },
  } satisfies Record<string, UserAction>;
}

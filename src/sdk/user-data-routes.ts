// The GDPR operations on one user: export what we hold about them, delete them, or erase them
// (delete, and pseudonymise their audit events). The core assembles and deletes; these translate.
import Type from 'typebox';
import type { Core } from '../core/create-core.ts';
import type { SdkRoute } from './route.ts';
import { AuditEvent, auditEventJson, iso, User, UsernameParams, userJson } from './schemas.ts';

const Time = Type.String({ format: 'date-time' });
const NullableTime = Type.Union([Time, Type.Null()]);

const UserExport = Type.Object({
  exportedAt: Time,
  user: Type.Intersect([User, Type.Object({ directoryId: Type.Union([Type.String(), Type.Null()]) })]),
  factors: Type.Array(
    Type.Object({
      id: Type.String(),
      label: Type.String(),
      kind: Type.Enum(['totp', 'mobile']),
      createdAt: Time,
    }),
  ),
  mobileDevices: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      createdAt: Time,
      lastSeenAt: NullableTime,
      pushEnabled: Type.Boolean(),
    }),
  ),
  securityQuestions: Type.Object({
    answered: Type.Array(Type.String(), { description: 'question ids; answers are never exported' }),
  }),
  enrollmentWindow: Type.Union([Type.Object({ expiresAt: Time }), Type.Null()]),
  auditEvents: Type.Object({
    limit: Type.Integer({ description: 'at most this many events, newest first' }),
    truncated: Type.Boolean({ description: 'older events exist beyond the limit' }),
    events: Type.Array(AuditEvent),
  }),
});

const Counts = Type.Object(
  Object.fromEntries(
    [
      'factors',
      'mobileDevices',
      'securityAnswers',
      'bypasses',
      'enrollmentWindows',
      'activationCodes',
      'pushRequests',
      'challenges',
      'regulationCounters',
      'sdkAuthentications',
      'auditEventsErased',
    ].map((key) => [key, Type.Integer({ minimum: 0 })]),
  ),
);

export function userDataRoutes(userAdmin: Pick<Core['userAdmin'], 'exportData' | 'delete'>): SdkRoute[] {
  return [
    {
      method: 'GET',
      url: '/users/:username/export',
      operationId: 'exportUser',
      summary: 'Everything held about a user (GDPR access request), without any secret',
      tag: 'users',
      scope: 'users:read',
      params: UsernameParams,
      success: { status: 200, schema: UserExport },
      handle: async ({ params, admin }) => {
        const data = await userAdmin.exportData(params.username ?? '', admin);
        const { profile } = data;
        return {
          exportedAt: iso(data.exportedAt),
          // The core's profile carries no id and no hash, only whether a PIN is set.
          user: {
            ...userJson({ ...profile, id: '', pinHash: null }),
            pinSet: profile.pinSet,
            directoryId: profile.uniqueId,
          },
          factors: data.factors.map((f) => ({ ...f, createdAt: iso(f.createdAt) })),
          mobileDevices: data.mobileDevices.map((d) => ({
            ...d,
            createdAt: iso(d.createdAt),
            lastSeenAt: d.lastSeenAt === null ? null : iso(d.lastSeenAt),
          })),
          securityQuestions: { answered: data.securityQuestionIds },
          enrollmentWindow:
            data.enrollmentWindowUntil === null ? null : { expiresAt: iso(data.enrollmentWindowUntil) },
          auditEvents: { ...data.auditEvents, events: data.auditEvents.events.map(auditEventJson) },
        };
      },
    },
    {
      method: 'DELETE',
      url: '/users/:username',
      operationId: 'deleteUser',
      summary:
        'Deletes a user and every row about them and ends their sessions; `erase=true` also pseudonymises their audit events (GDPR erasure)',
      tag: 'users',
      scope: 'users:write',
      params: UsernameParams,
      querystring: Type.Object(
        {
          erase: Type.Optional(
            Type.Boolean({
              description:
                'GDPR erasure: their audit events keep time, type and outcome, with a pseudonym for the name and the address cut to its network',
            }),
          ),
        },
        { additionalProperties: false },
      ),
      success: {
        status: 200,
        schema: Type.Object({
          username: Type.String(),
          erased: Type.Boolean(),
          auditName: Type.String({
            description: 'the name the audit log keeps: theirs, or `erased:<16 hex>`',
          }),
          removed: Counts,
        }),
      },
      handle: async ({ params, query, admin, auditUsername }) => {
        const erase = query.erase === true;
        const result = await userAdmin.delete(params.username ?? '', { erase }, admin);
        // The call's own audit event must not write the erased name back into the log.
        if (erase) auditUsername(result.auditName);
        return {
          username: params.username ?? '',
          erased: erase,
          auditName: result.auditName,
          removed: result.counts,
        };
      },
    },
  ];
}

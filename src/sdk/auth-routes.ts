// The SDK's authentication operations: start one (password and second factor, or the second factor
// alone), read its result by polling, long polling or waiting at the start, and complete it with a
// code. Each is a short translation to the core's SDK authentications, which bind the id to the
// calling account: to any other account it is as unknown as an id that never existed (404).

import Type from 'typebox';
import type { Core } from '../core/create-core.ts';
import { SDK_AUTH_METHODS, SDK_AUTH_STATUSES, type SdkAuthentication } from '../core/ports.ts';
import { clientGone } from '../http/waiting-request.ts';
import type { SdkCall, SdkRoute } from './route.ts';
import { iso, Username } from './schemas.ts';

/** The longest a start or a poll may hold its answer for the phone (load balancers cut at ~60 s). */
export const MAX_WAIT_SECONDS = 60;

export interface AuthenticationCore {
  sdkAuthentications: Core['sdkAuthentications'];
}

const Wait = Type.Integer({
  minimum: 0,
  maximum: MAX_WAIT_SECONDS,
  description: 'Seconds to hold the answer until a push is answered; 0 answers at once',
});

const IdParams = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9_-]{24}$', description: 'The id the start answered with' }),
});

const Authentication = Type.Object({
  id: Type.String(),
  status: Type.Enum(SDK_AUTH_STATUSES, {
    description:
      'pending: the push awaits the phone; code_required: send a code; approved, denied (on the phone, or reported as fraud), expired and failed (too many wrong codes, user locked or disabled) are final',
  }),
  method: Type.Union([Type.Enum(SDK_AUTH_METHODS), Type.Null()], {
    description: 'null when no second factor was asked for (a one-time bypass)',
  }),
  username: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()], {
    description:
      'why it ended so: push, code, bypass, denied, fraud, wrong_number, push_expired, an error code',
  }),
  expiresAt: Type.String({ format: 'date-time', description: 'still open then, it has expired' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

function authenticationJson(a: SdkAuthentication) {
  return {
    id: a.id,
    status: a.status,
    method: a.method,
    username: a.username,
    reason: a.reason,
    expiresAt: iso(a.expiresAt),
    finishedAt: a.finishedAt === null ? null : iso(a.finishedAt),
  };
}

/** The account the id is bound to, the call's context, and (only when it waits) the hang-up signal. */
const callerOf = ({ account, ctx, reply }: SdkCall, waitSeconds: number) => ({
  accountId: account.id,
  ctx,
  ...(waitSeconds > 0 ? { signal: clientGone(reply) } : {}),
});

export function authenticationRoutes(core: AuthenticationCore): SdkRoute[] {
  const { sdkAuthentications } = core;
  return [
    {
      method: 'POST',
      url: '/authentications',
      operationId: 'startAuthentication',
      summary:
        'Starts an authentication: with `password`, the directory checks it and then the second factor; without, only the second factor. `wait` holds the answer for a push’s result',
      tag: 'authentication',
      scope: 'auth',
      body: Type.Object(
        {
          username: Username,
          password: Type.Optional(
            Type.String({ minLength: 1, maxLength: 1024, description: 'omit when you checked it yourself' }),
          ),
          method: Type.Optional(
            Type.Enum(SDK_AUTH_METHODS, { description: 'default: the user’s own method' }),
          ),
          wait: Type.Optional(Wait),
        },
        { additionalProperties: false },
      ),
      success: { status: 201, schema: Authentication },
      handle: async (call) => {
        const body = call.body as {
          username: string;
          password?: string;
          method?: 'push' | 'code';
          wait?: number;
        };
        const wait = body.wait ?? 0;
        const started = await sdkAuthentications.start(
          {
            username: body.username,
            ...(body.password !== undefined ? { password: body.password } : {}),
            ...(body.method ? { method: body.method } : {}),
            waitMs: wait * 1000,
          },
          callerOf(call, wait),
        );
        return authenticationJson(started);
      },
    },
    {
      method: 'GET',
      url: '/authentications/:id',
      operationId: 'getAuthentication',
      summary: 'The result of an authentication this account started; `wait` makes it a long poll',
      tag: 'authentication',
      scope: 'auth',
      params: IdParams,
      querystring: Type.Object({ wait: Type.Optional(Wait) }, { additionalProperties: false }),
      success: { status: 200, schema: Authentication },
      handle: async (call) => {
        const wait = Number(call.query.wait ?? 0);
        const found = await sdkAuthentications.get(call.params.id ?? '', callerOf(call, wait), wait * 1000);
        return authenticationJson(found);
      },
    },
    {
      method: 'POST',
      url: '/authentications/:id/code',
      operationId: 'completeAuthenticationWithCode',
      summary:
        'Completes an open authentication with a code from the user’s authenticator (spent once; wrong codes count towards the lockout)',
      tag: 'authentication',
      scope: 'auth',
      params: IdParams,
      body: Type.Object({ code: Type.String({ pattern: '^[0-9]{6,8}$' }) }, { additionalProperties: false }),
      success: { status: 200, schema: Authentication },
      handle: async (call) => {
        const done = await sdkAuthentications.submitCode(
          call.params.id ?? '',
          String(call.body.code),
          callerOf(call, 0),
        );
        return authenticationJson(done);
      },
    },
  ];
}

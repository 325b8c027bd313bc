// The JSON shapes the SDK answers with, shared by routes and the OpenAPI document.
import Type from 'typebox';
import { METHODS, type StoredAuditEvent, USER_STATUSES, type UserRecord } from '../core/ports.ts';

export const Username = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^\\S+$',
  description: 'the directory user name',
});
export const UsernameParams = Type.Object({ username: Username });

export const User = Type.Object({
  username: Type.String(),
  displayName: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  phones: Type.Array(Type.String()),
  method: Type.Union([Type.Enum(METHODS), Type.Null()]),
  language: Type.Union([Type.String(), Type.Null()]),
  status: Type.Enum(USER_STATUSES),
  pinSet: Type.Boolean(),
  fromDirectory: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export function userJson(user: UserRecord) {
  return {
    username: user.username,
    displayName: user.displayName,
    email: user.email,
    phones: user.phones,
    method: user.defaultMethod,
    language: user.language,
    status: user.status,
    pinSet: user.pinHash !== null,
    fromDirectory: user.fromDirectory,
    createdAt: new Date(user.createdAt).toISOString(),
    updatedAt: new Date(user.updatedAt).toISOString(),
  };
}

export const Expiry = Type.Object({ expiresAt: Type.String({ format: 'date-time' }) });
export const iso = (ms: number) => new Date(ms).toISOString();

export const AuditEvent = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  type: Type.String(),
  outcome: Type.String(),
  channel: Type.String(),
  username: Type.Union([Type.String(), Type.Null()]),
  clientAddress: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()]),
  application: Type.Union([Type.String(), Type.Null()]),
  details: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
});

export const auditEventJson = (event: StoredAuditEvent) => ({ ...event, at: iso(event.at) });

// One SDK operation as data: method, path, the scope it needs, its typebox schemas and its handler.
// The same list registers the fastify routes (validation) and writes the OpenAPI document, so the
// document cannot drift from what the server accepts.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import type { RequestContext, SdkScope, ServiceAccount } from '../core/ports.ts';
import type { AdminContext } from '../core/users/user-admin.ts';

export interface SdkCall {
  account: ServiceAccount;
  /** For the core's sign-in flows: channel `sdk`, the caller's address, the account as application. */
  ctx: RequestContext;
  /** For administrative core calls: the account is the actor. */
  admin: AdminContext & { application: string };
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  request: FastifyRequest;
  reply: FastifyReply;
  /** The name the call's `sdk.call` event carries instead of the path's (an erased user's pseudonym). */
  auditUsername(name: string): void;
}

export interface SdkRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** fastify syntax: `/users/:username`. */
  url: string;
  operationId: string;
  summary: string;
  tag: string;
  /** null: any valid credentials (ping); 'public': no credentials at all (health). */
  scope: SdkScope | null | 'public';
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  /** Status code of success and its body. */
  success: { status: 200 | 201 | 204; schema?: TSchema };
  /** The reason the call is audited under; null: not audited one by one. Default: the operationId. */
  auditReason?: (body: Record<string, unknown>) => string | null;
  handle(call: SdkCall): Promise<unknown>;
}

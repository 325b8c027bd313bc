// The OpenAPI 3.1 document, written from the same route list that fastify validates with. JSON
// Schema 2020-12 is OpenAPI 3.1's schema dialect, so typebox schemas go in as they are.
import type { TSchema } from 'typebox';
import { ERROR_CATALOGUE } from '../core/errors.ts';
import type { SdkRoute } from './route.ts';

/** A plain JSON copy: typebox keeps bookkeeping on its schema objects that is not JSON Schema. */
const plain = (schema: TSchema): Record<string, unknown> => JSON.parse(JSON.stringify(schema));

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function parameters(route: SdkRoute): Array<Record<string, unknown>> {
  const list: Array<Record<string, unknown>> = [];
  for (const [where, schema] of [
    ['path', route.params],
    ['query', route.querystring],
  ] as const) {
    const properties = (schema ? plain(schema).properties : undefined) as Record<string, unknown> | undefined;
    const required = new Set((schema ? (plain(schema).required as string[] | undefined) : undefined) ?? []);
    for (const [name, property] of Object.entries(properties ?? {}))
      list.push({ name, in: where, required: where === 'path' || required.has(name), schema: property });
  }
  return list;
}

function operation(route: SdkRoute): Record<string, unknown> {
  const responses: Record<string, unknown> = {
    [route.success.status]: route.success.schema
      ? { description: 'Success', content: { 'application/json': { schema: plain(route.success.schema) } } }
      : { description: 'Success' },
  };
  if (route.body || route.params || route.querystring)
    responses['400'] = errorResponse('Bad input (`field` names it)');
  if (route.scope !== 'public') {
    responses['401'] = errorResponse('No valid credentials');
    responses['403'] = errorResponse('The account lacks the scope, or calls from outside its networks');
    responses['429'] = errorResponse('Too many calls by this account');
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.scope === 'public' ? { security: [] } : {}),
    ...(route.scope && route.scope !== 'public' ? { 'x-scope': route.scope } : {}),
    parameters: parameters(route),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: plain(route.body) } } } }
      : {}),
    responses,
  };
}

export function openApiDocument(routes: readonly SdkRoute[], version: string, serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'mfa-gateway SDK',
      version,
      description:
        'Users, authentication and administration for integrations. Authenticate with a service account: `Authorization: Bearer <token>`, HTTP Basic (account name and token), or a client certificate on a mutual-TLS listener.',
    },
    servers: [{ url: `${serverUrl}/sdk/v1` }],
    security: [{ bearer: [] }, { basic: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        basic: { type: 'http', scheme: 'basic' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) },
            message: { type: 'string' },
            field: { type: 'string', description: 'The failing field, for `input.invalid`' },
          },
        },
      },
    },
  };
}

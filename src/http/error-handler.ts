// The one place where catalogue errors become HTTP answers: typed JSON with a stable code, the
// catalogue's status, and no detail or stack for anything that is not meant to be exposed.
import type { FastifyError, FastifyInstance } from 'fastify';
import { MfaError, toMfaError } from '../core/errors.ts';

export function errorBody(error: MfaError): { code: string; message: string; field?: string } {
  const body: { code: string; message: string; field?: string } = {
    code: error.code,
    message: error.publicMessage,
  };
  if (error.spec.expose && error.field) body.field = error.field;
  return body;
}

/** `body.phones.1` for the first failing value of a schema check, so the client can point at it. */
function validationField(raw: FastifyError): string | undefined {
  const first = raw.validation?.[0];
  if (!first) return undefined;
  const params = first.params as { missingProperty?: string; additionalProperty?: string };
  const path = first.instancePath.split('/').filter(Boolean);
  const leaf = params.missingProperty ?? params.additionalProperty;
  return [raw.validationContext, ...path, ...(leaf ? [leaf] : [])].filter(Boolean).join('.');
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((raw: FastifyError, request, reply) => {
    // Fastify's own errors (bad JSON, body too large) carry a 4xx status and are the client's fault.
    const status = raw.statusCode;
    const field = validationField(raw);
    const error =
      !(raw instanceof MfaError) && status !== undefined && status >= 400 && status < 500
        ? new MfaError('input.invalid', { detail: raw.message, ...(field ? { field } : {}) })
        : toMfaError(raw);
    const level = error.spec.httpStatus >= 500 ? 'error' : 'info';
    request.log[level](
      { code: error.code, detail: error.detail, err: level === 'error' ? raw : undefined },
      'request failed',
    );
    reply.status(
      status && status >= 400 && status < 500 && !(raw instanceof MfaError) ? status : error.spec.httpStatus,
    );
    reply.header('cache-control', 'no-store');
    return reply.send(errorBody(error));
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.status(404).send({ code: 'not_found', message: 'Not found.' }),
  );
}

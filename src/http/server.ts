// The public HTTP listener: fastify with the error mapping and the built-in routes. Later issues
// register the gateway, portal, SDK and mobile plugins here, each in its own encapsulated scope.
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Services } from '../main.ts';
import { installErrorHandler } from './error-handler.ts';
import { registerHealth } from './health.ts';

const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

export function buildHttpServer(deps: {
  services: Pick<Services, 'store' | 'directory'>;
  logger: FastifyBaseLogger;
}): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    // No proxy is believed unless configured (the gateway issue wires trustedProxies).
    trustProxy: false,
    bodyLimit: 64 * 1024,
    disableRequestLogging: false,
  });
  installErrorHandler(app);
  registerHealth(
    app,
    { store: () => deps.services.store.ping(), directory: () => deps.services.directory.ping() },
    VERSION,
  );
  return app;
}

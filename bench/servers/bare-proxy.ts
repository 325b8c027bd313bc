// The baseline: a bare fastify 5 + @fastify/reply-from proxy with the gateway's own reply-from and
// undici options (src/gateway/gateway.ts), one catch-all route doing `reply.from(url)`, no logger.
// Whatever the gateway costs above this is its own work: canonical request, policy, session,
// header rewriting, and whatever else runs per request.
import { parseArgs } from 'node:util';
import fastifyReplyFrom from '@fastify/reply-from';
import Fastify from 'fastify';
import { announce, stopOnSignal } from './child.ts';

const { values } = parseArgs({ options: { upstream: { type: 'string' } } });
const upstream = values.upstream;
if (!upstream) throw new Error('bare-proxy: --upstream http://127.0.0.1:PORT is required');

const app = Fastify({ logger: false });
await app.register(fastifyReplyFrom, {
  undici: {
    connections: 128,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    connect: { timeout: 5000 },
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  },
  retryMethods: [],
  disableRequestLogging: true,
});
app.all('/*', async (request, reply) => reply.from(`${upstream}${request.url}`));

stopOnSignal(() => app.close());

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
if (address === null || typeof address === 'string') throw new Error('bare-proxy: no TCP address');
announce({ port: address.port });

// The edge node's line to the internal node: an undici pool to its SDK, over TLS that trusts only
// the configured CA and proves the edge with a client certificate or a token. Answers come back
// as values or as the same catalogue errors the core threw on the other side.
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import type { EdgeConfig } from '../config/schema.ts';
import { decodeEdgeValue, type EdgeMethod, encodeEdgeValue } from '../core/edge-surface.ts';
import { ERROR_CATALOGUE, type ErrorCode, MfaError } from '../core/errors.ts';

export interface SdkClient {
  /** One core call on the internal node; `waitMs` extends the timeout of long polls. */
  call(
    method: EdgeMethod,
    args: unknown[],
    options?: { signal?: AbortSignal; waitMs?: number },
  ): Promise<unknown>;
  /** The internal node's health ('ok', 'degraded', 'failing'); throws when it cannot be reached. */
  health(): Promise<string>;
  close(): Promise<void>;
}

function tlsOptions(config: EdgeConfig) {
  return {
    ...(config.caFile ? { ca: readFileSync(config.caFile) } : {}),
    ...(config.clientCertFile && config.clientKeyFile
      ? { cert: readFileSync(config.clientCertFile), key: readFileSync(config.clientKeyFile) }
      : {}),
    // Only the pinned CA, whatever the system trusts; the host name is still checked.
    rejectUnauthorized: true,
  };
}

/** The error the internal node answered with, as the core would have thrown it here. */
function remoteError(status: number, body: unknown): MfaError {
  const { code, field } = (body ?? {}) as { code?: unknown; field?: unknown };
  if (typeof code === 'string' && code in ERROR_CATALOGUE) {
    return new MfaError(code as ErrorCode, {
      detail: `from the internal node (${status})`,
      ...(typeof field === 'string' ? { field: field.replace(/^body\.args\.\d+\.?/, '') || field } : {}),
    });
  }
  return new MfaError('internal', { detail: `the internal node answered ${status}` });
}

export function createSdkClient(config: EdgeConfig): SdkClient {
  const url = new URL(config.sdkUrl);
  const base = url.pathname.replace(/\/+$/, '');
  const timeoutMs = config.timeoutSeconds * 1000;
  const pool = new Pool(url.origin, {
    connections: 64,
    connect: url.protocol === 'https:' ? tlsOptions(config) : {},
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(config.token ? { authorization: `Bearer ${config.token}` } : {}),
  };

  async function send(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    options: { signal?: AbortSignal; waitMs?: number } = {},
  ): Promise<{ status: number; body: unknown }> {
    const limit = timeoutMs + (options.waitMs ?? 0);
    try {
      const answer = await pool.request({
        method,
        path: `${base}${path}`,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headersTimeout: limit,
        bodyTimeout: limit,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const text = await answer.body.text();
      return { status: answer.statusCode, body: text ? JSON.parse(text) : undefined };
    } catch (error) {
      // The internal node is this edge's store: unreachable, it is a store outage to the core's callers.
      throw new MfaError('store.unavailable', {
        detail: `the internal node cannot be reached (${(error as Error).message})`,
        cause: error,
      });
    }
  }

  return {
    async call(method, args, options = {}) {
      const answer = await send('POST', '/edge/calls', { method, args: args.map(encodeEdgeValue) }, options);
      if (answer.status !== 200) throw remoteError(answer.status, answer.body);
      return decodeEdgeValue((answer.body as { result?: unknown } | undefined)?.result);
    },
    async health() {
      const answer = await send('GET', '/health', undefined);
      const status = (answer.body as { status?: unknown } | undefined)?.status;
      if (typeof status !== 'string') throw new Error(`the internal node answered ${answer.status}`);
      return status;
    },
    close: () => pool.close(),
  };
}

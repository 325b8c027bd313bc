// Test helper: sends bytes exactly as written over node:net, for requests that fetch and undici
// would normalise or refuse to send (dot segments, odd Host headers, smuggling shapes, upgrades).
// Reads until the server closes the connection, or a bounded wait runs out.
import { connect } from 'node:net';

export interface RawResponse {
  /** Everything the server sent, as latin1 text. */
  raw: string;
  /** The first status code, or undefined when the server answered nothing. */
  status: number | undefined;
  /** The first response's headers, names lower-cased; repeated names keep the last value. */
  headers: Record<string, string>;
  /** What followed the first response's header block (the rest of the stream, unparsed). */
  body: string;
  /** The wait ran out before the server closed the connection. */
  timedOut: boolean;
}

export function parseRawResponse(raw: string, timedOut = false): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    raw,
    status: match ? Number(match[1]) : undefined,
    headers,
    body: end === -1 ? '' : raw.slice(end + 4),
    timedOut,
  };
}

/** Writes `bytes` to 127.0.0.1:`port` and collects the answer until close (or `timeoutMs`). */
export function sendRaw(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    let settled = false;
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseRawResponse(Buffer.concat(chunks).toString('latin1'), timedOut));
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('connect', () =>
      socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes),
    );
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer is the server closing hard; before any byte it is a real failure.
      if (chunks.length > 0 || error.code === 'ECONNRESET') finish(false);
      else if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      }
    });
  });
}

/**
 * An HTTP/1.1 request as text: the target and the header lines are written as given (no
 * normalisation), Host first unless `host` is null, then `Connection: close`.
 */
export function rawRequest(options: {
  method?: string;
  target: string;
  host: string | null;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: string;
  version?: string;
}): string {
  const lines = [`${options.method ?? 'GET'} ${options.target} HTTP/${options.version ?? '1.1'}`];
  if (options.host !== null) lines.push(`Host: ${options.host}`);
  for (const [name, value] of options.headers ?? []) lines.push(`${name}: ${value}`);
  lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${options.body ?? ''}`;
}

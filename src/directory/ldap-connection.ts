// LDAP connections for the directory adapter: opening one to the first server that answers (TLS as
// configured, timeouts always set) and keeping the service account's connection alive across logins.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Client, ResultCodeError } from 'ldapts';
import type { LdapConfig } from '../config/schema.ts';
import { isMfaError, MfaError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';

export interface LdapLogger {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

/** An open connection to one server. `isOpen` turns false as soon as the server closes the socket. */
export interface LdapSession {
  readonly client: Client;
  readonly url: string;
  isOpen(): boolean;
  close(): Promise<void>;
}

/** Runs once a server accepted the connection, e.g. the service bind; an LDAP result error stops the search. */
export type SessionSetup = (session: LdapSession) => Promise<void>;

export type SessionOpener = (servers: readonly string[], setup?: SessionSetup) => Promise<LdapSession>;

/** True when the server answered with an LDAP result code; anything else is a transport failure. */
export function isLdapResult(error: unknown): error is ResultCodeError {
  return error instanceof ResultCodeError;
}

/** ldapts' result errors often carry no text beyond the code, so their name is kept. */
export function describeError(error: unknown): string {
  if (isLdapResult(error)) return `${error.name}: ${error.message.trim()}`;
  return error instanceof Error ? error.message : String(error);
}

export function unavailable(url: string, error: unknown): MfaError {
  return new MfaError('directory.unavailable', { detail: `${url}: ${describeError(error)}`, cause: error });
}

/**
 * Returns a function that opens a session to the first of the given servers that accepts a connection
 * and passes `setup`. A transport failure (refused, timed out, TLS) is logged and the next server is tried;
 * when none is left, `directory.unavailable` names every server with its error. An LDAP result from
 * `setup` (say, the service password was refused) is a configuration fault, thrown as it is.
 */
export function createSessionOpener(
  config: LdapConfig,
  deps: { clock: Clock; logger?: LdapLogger | undefined },
): SessionOpener {
  const ca = config.caFile ? readFileSync(config.caFile, 'utf8') : undefined;
  return async (servers, setup) => {
    const failures: string[] = [];
    let lastError: unknown;
    for (const url of servers) {
      const started = deps.clock.now();
      try {
        return await openSession(config, url, ca, setup);
      } catch (error) {
        if (isLdapResult(error) || isMfaError(error)) throw error;
        lastError = error;
        failures.push(`${url}: ${describeError(error)}`);
        const elapsedMs = deps.clock.now() - started;
        deps.logger?.warn({ server: url, err: describeError(error), elapsedMs }, 'LDAP server failed');
      }
    }
    throw new MfaError('directory.unavailable', { detail: failures.join('; '), cause: lastError });
  };
}

async function openSession(
  config: LdapConfig,
  url: string,
  ca: string | undefined,
  setup: SessionSetup | undefined,
): Promise<LdapSession> {
  const target = parseServerUrl(url);
  const tlsOptions = tlsOptionsFor(config.tlsServerName ?? target.host, ca);
  const socket = await connectSocket(target, tlsOptions, config.connectTimeoutMs);
  let open = true;
  socket.once('close', () => {
    open = false;
  });
  const client = new Client({
    url,
    connectTimeout: config.connectTimeoutMs,
    timeout: config.timeoutMs,
    // ldapts gets the socket we opened, and only once: left to itself it would silently reconnect a
    // dropped connection, unbound, and our searches would then run anonymously.
    ...(target.secure
      ? { createSecureConnection: handOverOnce(socket) }
      : { createConnection: handOverOnce(socket) }),
  });
  const session: LdapSession = {
    client,
    url,
    // Watching the raw socket ourselves: after StartTLS ldapts no longer notices that the server closed it.
    isOpen: () => open && client.isConnected,
    close: async () => {
      // Unbinding a connection the server already closed would only wait for a timeout.
      if (open) await withDeadline(client.unbind(), CLOSE_TIMEOUT_MS).catch(() => undefined);
      open = false;
      socket.destroy();
    },
  };
  try {
    // ldapts puts no timeout on the StartTLS handshake itself, so the whole opening gets a deadline.
    if (config.startTls && !target.secure) {
      await withDeadline(client.startTLS(tlsOptions), config.connectTimeoutMs + config.timeoutMs);
    }
    await setup?.(session);
    return session;
  } catch (error) {
    await session.close();
    throw error;
  }
}

const CLOSE_TIMEOUT_MS = 1000;

interface ServerUrl {
  host: string;
  port: number;
  secure: boolean;
}

function parseServerUrl(url: string): ServerUrl {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'ldaps:';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return { host, port: parsed.port ? Number(parsed.port) : secure ? 636 : 389, secure };
}

/**
 * TLS options for LDAPS and StartTLS. The certificate is checked against the configured name (or the
 * URL's host); SNI is sent only for a host name, since it must not carry an IP address (RFC 6066).
 */
function tlsOptionsFor(serverName: string, ca: string | undefined): tls.ConnectionOptions {
  return {
    ...(net.isIP(serverName) ? {} : { servername: serverName }),
    ...(ca ? { ca } : {}),
    minVersion: 'TLSv1.2',
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(serverName, cert),
  };
}

/** TCP (and for ldaps:// TLS) connect, bounded by the connect timeout. */
function connectSocket(target: ServerUrl, tlsOptions: tls.ConnectionOptions, timeoutMs: number) {
  return new Promise<net.Socket>((resolve, reject) => {
    const { host, port } = target;
    const socket = target.secure ? tls.connect({ ...tlsOptions, host, port }) : net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    // Stays until ldapts replaces the error listeners with its own, so an early error never goes unhandled.
    socket.on('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
    socket.once(target.secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

function handOverOnce(socket: net.Socket): typeof net.connect & typeof tls.connect {
  let handedOver = false;
  const handOver = () => {
    if (handedOver) throw new Error('the connection was closed');
    handedOver = true;
    return socket;
  };
  // ldapts only calls it as (port, host[, options]) and uses the returned socket.
  return handOver as unknown as typeof net.connect & typeof tls.connect;
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The service account's connection, shared by every search. It is opened on first use, reused while the
 * server keeps it open, and discarded on any transport failure so that the next use reconnects (trying
 * the servers in order again): an outage heals without a restart.
 */
export class ServiceConnection {
  private session: LdapSession | undefined;
  private connecting: Promise<LdapSession> | undefined;
  private closed = false;
  private readonly config: LdapConfig;
  private readonly open: SessionOpener;
  private readonly logger: LdapLogger | undefined;

  constructor(config: LdapConfig, open: SessionOpener, logger?: LdapLogger) {
    this.config = config;
    this.open = open;
    this.logger = logger;
  }

  /**
   * Runs `operation` on the service connection. Transport failures become `directory.unavailable`; when
   * the connection was an old one, the operation is first retried once on a new connection, because the
   * server may have closed it (idle timeout) just before we used it. LDAP results and our own errors
   * thrown by `operation` leave the connection in place.
   */
  async run<T>(operation: (session: LdapSession) => Promise<T>): Promise<T> {
    const { session, reused } = await this.acquire();
    try {
      return await operation(session);
    } catch (error) {
      if (isLdapResult(error) || isMfaError(error)) throw error;
      this.discard(session);
      if (!reused || isTimeout(error)) throw unavailable(session.url, error);
    }
    const { session: fresh } = await this.acquire();
    try {
      return await operation(fresh);
    } catch (error) {
      if (isLdapResult(error) || isMfaError(error)) throw error;
      this.discard(fresh);
      throw unavailable(fresh.url, error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    const session = this.session;
    this.session = undefined;
    await session?.close();
  }

  private async acquire(): Promise<{ session: LdapSession; reused: boolean }> {
    if (this.closed) throw closedError();
    const current = this.session;
    if (current?.isOpen()) return { session: current, reused: true };
    if (current) this.discard(current);
    // Concurrent callers share one attempt instead of each opening a connection.
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return { session: await this.connecting, reused: false };
  }

  private async connect(): Promise<LdapSession> {
    const session = await this.open(this.config.servers, (opened) => this.bindAsService(opened));
    if (this.closed) {
      await session.close();
      throw closedError();
    }
    this.session = session;
    this.logger?.info?.({ server: session.url }, 'LDAP service connection opened');
    return session;
  }

  private async bindAsService(session: LdapSession): Promise<void> {
    try {
      await session.client.bind(this.config.bindDn, this.config.bindPassword);
    } catch (error) {
      if (!isLdapResult(error)) throw error;
      throw new MfaError('directory.error', {
        detail: `${session.url}: the service bind as ${this.config.bindDn} was refused: ${describeError(error)}`,
        cause: error,
      });
    }
  }

  private discard(session: LdapSession): void {
    if (this.session === session) this.session = undefined;
    void session.close();
  }
}

function closedError(): MfaError {
  return new MfaError('directory.unavailable', { detail: 'the LDAP directory adapter was closed' });
}

function isTimeout(error: unknown): boolean {
  return /timed? ?out/i.test(describeError(error));
}

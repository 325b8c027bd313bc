// The UDP side of RADIUS: every datagram goes through the same steps before anything reads it —
// known client (else silence), well-formed, authentic (Message-Authenticator, BlastRADIUS rules),
// not a retransmit — and only then to the access handler or the accounting answer. Answers carry
// the Message-Authenticator first and echo Proxy-State.
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { RadiusConfig } from '../config/schema.ts';
import { normaliseAddress } from '../core/policy/networks.ts';
import type { AccessAnswer, AccessHandler } from './access-handler.ts';
import { type ClientTable, createClientTable, type RadiusClient } from './clients.ts';
import { createDuplicateCache, requestKey } from './duplicates.ts';
import {
  ATTR,
  type Attribute,
  allAttributes,
  CODE,
  decodePacket,
  decryptUserPassword,
  encodeResponse,
  firstAttribute,
  type Packet,
  verifyAccountingRequest,
  verifyMessageAuthenticator,
} from './packet.ts';
import { passwordText } from './password-text.ts';

type PortKind = 'auth' | 'accounting';

interface Peer {
  address: string;
  port: number;
}

export interface RadiusServer {
  readonly clients: ClientTable;
  /** Binds every configured port; resolves to `udp://host:port` per socket. */
  listen(): Promise<string[]>;
  /** Stops listening; requests still waiting for a phone are dropped (the NAS retries elsewhere). */
  close(): Promise<void>;
  /** Requests being worked on (waiting for a phone, mostly). */
  readonly inFlight: number;
}

const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export function createRadiusServer(deps: {
  config: Readonly<RadiusConfig>;
  handler: AccessHandler;
  logger: Logger;
}): RadiusServer {
  const { config, handler } = deps;
  const log = deps.logger.child({ component: 'radius' });
  const clients = createClientTable(config.clients);
  const duplicates = createDuplicateCache({ answeredMs: config.duplicateCacheSeconds * 1000, max: 200_000 });
  const stopping = new AbortController();
  const sockets: dgram.Socket[] = [];
  let inFlight = 0;

  /** Why a packet from a known client is not to be answered, or undefined when it may be. */
  function refusal(kind: PortKind, packet: Packet, client: RadiusClient): string | undefined {
    const expected = kind === 'auth' ? CODE.AccessRequest : CODE.AccountingRequest;
    if (packet.code !== expected && packet.code !== CODE.StatusServer)
      return `unexpected code ${packet.code} on the ${kind} port`;
    if (packet.code === CODE.AccountingRequest)
      return verifyAccountingRequest(packet, client.secret) ? undefined : 'bad Request Authenticator';
    const hasAuthenticator = firstAttribute(packet, ATTR.MessageAuthenticator) !== undefined;
    if (hasAuthenticator)
      return verifyMessageAuthenticator(packet, client.secret) ? undefined : 'bad Message-Authenticator';
    // RFC 5997 §3: Status-Server always carries one.
    if (packet.code === CODE.StatusServer) return 'Status-Server without Message-Authenticator';
    if (client.config.requireMessageAuthenticator) return 'no Message-Authenticator (required)';
    // BlastRADIUS: an unsigned request with Proxy-State is the forgery's carrier (FreeRADIUS's limit_proxy_state).
    if (allAttributes(packet, ATTR.ProxyState).length > 0) return 'Proxy-State without Message-Authenticator';
    return undefined;
  }

  function respond(packet: Packet, client: RadiusClient, code: number, attributes: Attribute[]): Buffer {
    const proxyStates = allAttributes(packet, ATTR.ProxyState).map((value) => ({
      type: ATTR.ProxyState,
      value,
    }));
    return encodeResponse({
      code,
      identifier: packet.identifier,
      requestAuthenticator: packet.authenticator,
      attributes: [...attributes, ...proxyStates],
      secret: client.secret,
      // RFC 5997 §3: an answer to Status-Server is signed on either port; plain accounting is not.
      messageAuthenticator: code !== CODE.AccountingResponse || packet.code === CODE.StatusServer,
      requestCode: packet.code,
    });
  }

  /** The user's own address when the NAS names it (Calling-Station-Id), else the NAS's. */
  function userAddress(packet: Packet, nasAddress: string): string {
    const calling = firstAttribute(packet, ATTR.CallingStationId)?.toString('latin1');
    return (calling && normaliseAddress(calling)) || nasAddress;
  }

  function encodeAnswer(packet: Packet, client: RadiusClient, answer: AccessAnswer): Buffer | undefined {
    switch (answer.kind) {
      case 'accept':
        return respond(packet, client, CODE.AccessAccept, answer.attributes);
      case 'reject':
        return respond(packet, client, CODE.AccessReject, []);
      case 'challenge':
        return respond(packet, client, CODE.AccessChallenge, [
          { type: ATTR.State, value: answer.state },
          { type: ATTR.ReplyMessage, value: Buffer.from(answer.message, 'utf8') },
        ]);
      case 'drop':
        return undefined;
    }
  }

  async function access(packet: Packet, client: RadiusClient, peer: Peer): Promise<Buffer | undefined> {
    const nasAddress = normaliseAddress(peer.address) ?? peer.address;
    const name = firstAttribute(packet, ATTR.UserName);
    const hidden = firstAttribute(packet, ATTR.UserPassword);
    const password = hidden ? decryptUserPassword(hidden, client.secret, packet.authenticator) : undefined;
    if (hidden && !password) {
      log.warn({ client: client.name, nas: nasAddress }, 'RADIUS User-Password of a bad length dropped');
      return undefined;
    }
    if (!name || name.length === 0) return respond(packet, client, CODE.AccessReject, []);
    const username = passwordText(name);
    const answer = await handler.handle({
      client,
      username,
      password: password ? passwordText(password) : undefined,
      state: firstAttribute(packet, ATTR.State),
      ctx: {
        channel: 'radius',
        clientAddress: userAddress(packet, nasAddress),
        application: client.application,
        nas: { client: client.name, address: nasAddress },
      },
      signal: stopping.signal,
    });
    log.info(
      {
        client: client.name,
        nas: nasAddress,
        user: username,
        answer: answer.kind,
        reason: 'reason' in answer ? answer.reason : undefined,
      },
      `RADIUS access ${answer.kind}`,
    );
    return encodeAnswer(packet, client, answer);
  }

  function statusAnswer(kind: PortKind, packet: Packet, client: RadiusClient): Buffer {
    return respond(packet, client, kind === 'auth' ? CODE.AccessAccept : CODE.AccountingResponse, []);
  }

  function send(socket: dgram.Socket, peer: Peer, bytes: Buffer): void {
    if (stopping.signal.aborted) return;
    socket.send(bytes, peer.port, peer.address, (error) => {
      if (error) log.warn({ err: error, peer }, 'RADIUS answer not sent');
    });
  }

  /** Known client, well-formed, authentic: the packet and its client, or undefined (dropped, logged). */
  function admit(
    kind: PortKind,
    datagram: Buffer,
    peer: Peer,
  ): { client: RadiusClient; packet: Packet } | undefined {
    const client = clients.find(peer.address);
    if (!client) {
      log.debug({ peer: peer.address }, 'RADIUS datagram from an unknown client dropped');
      return undefined;
    }
    const decoded = decodePacket(datagram);
    if (!decoded.ok) {
      log.warn(
        { client: client.name, peer: peer.address, reason: decoded.reason },
        'malformed RADIUS packet dropped',
      );
      return undefined;
    }
    const why = refusal(kind, decoded.packet, client);
    if (why) {
      log.warn({ client: client.name, peer: peer.address, reason: why }, 'RADIUS packet dropped');
      return undefined;
    }
    return { client, packet: decoded.packet };
  }

  function onDatagram(kind: PortKind, socket: dgram.Socket, datagram: Buffer, peer: Peer): void {
    const admitted = admit(kind, datagram, peer);
    if (!admitted) return;
    const { client, packet } = admitted;
    if (packet.code === CODE.StatusServer) {
      send(socket, peer, statusAnswer(kind, packet, client));
      return;
    }
    const key = requestKey(client.name, peer.address, peer.port, packet.identifier, packet.authenticator);
    const holdMs = (client.config.outOfBandWaitSeconds + client.config.challenge.ttlSeconds) * 1000;
    const seen = duplicates.begin(key, holdMs);
    if (seen !== 'new') {
      if (seen.kind === 'answered') send(socket, peer, seen.response);
      return;
    }
    inFlight++;
    const work =
      kind === 'auth'
        ? access(packet, client, peer)
        : Promise.resolve(respond(packet, client, CODE.AccountingResponse, []));
    work
      .then((answer) => {
        if (!answer) return duplicates.dropped(key);
        duplicates.answered(key, answer);
        send(socket, peer, answer);
      })
      .catch((error: unknown) => {
        duplicates.dropped(key);
        log.error({ err: error, client: client.name }, 'RADIUS request failed');
      })
      .finally(() => {
        inFlight--;
      });
  }

  async function bind(kind: PortKind, host: string, port: number): Promise<string> {
    const socket = dgram.createSocket({
      type: isIP(host) === 6 ? 'udp6' : 'udp4',
      recvBufferSize: SOCKET_BUFFER_BYTES,
      sendBufferSize: SOCKET_BUFFER_BYTES,
    });
    sockets.push(socket);
    socket.on('message', (datagram, rinfo) => onDatagram(kind, socket, datagram, rinfo));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // Once bound, a socket error (ICMP unreachable on send, say) is logged, never fatal.
    socket.on('error', (error) => log.warn({ err: error }, 'RADIUS socket error'));
    const bound = socket.address();
    const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    return `udp://${shown}:${bound.port} (${kind})`;
  }

  return {
    clients,
    async listen() {
      const addresses: string[] = [];
      for (const listener of config.listen) {
        addresses.push(await bind('auth', listener.host, listener.authPort));
        if (listener.accountingPort !== 0)
          addresses.push(await bind('accounting', listener.host, listener.accountingPort));
      }
      return addresses;
    },
    async close() {
      stopping.abort();
      await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              try {
                socket.close(() => resolve());
              } catch {
                resolve(); // never bound
              }
            }),
        ),
      );
    },
    get inFlight() {
      return inFlight;
    },
  };
}

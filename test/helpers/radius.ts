// RADIUS peers for the tests: FreeRADIUS's radclient for what it can do, and a small client on our
// own codec for what it cannot (retransmits from one source port, forged bytes, Latin-1 passwords).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import {
  ATTR,
  type Attribute,
  CODE,
  decodePacket,
  encodeRequest,
  encryptUserPassword,
  type Packet,
} from '../../src/radius/packet.ts';
import { DEFAULT_USERS, SEEDS, type SiteUser, startGatewaySite } from './gateway-site.ts';

/** A free UDP port on loopback (bound and released: the test binds it next). */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export interface RadclientResult {
  /** `Access-Accept`, `Access-Challenge`, ...; undefined when no answer came. */
  code: string | undefined;
  /** Attributes of the answer as radclient printed them (`State` → `0x...`). */
  attributes: Map<string, string>;
  output: string;
}

/**
 * Runs `radclient -x` once: `lines` are `Attribute = value` pairs as radclient reads them from
 * stdin. One try, short timeout: a dropped packet shows as `code: undefined`.
 */
export function radclient(options: {
  port: number;
  secret: string;
  command: 'auth' | 'acct' | 'status';
  lines: string[];
  host?: string;
  timeoutSeconds?: number;
}): Promise<RadclientResult> {
  const host = options.host ?? '127.0.0.1';
  const target = host.includes(':') ? `[${host}]:${options.port}` : `${host}:${options.port}`;
  const args = [
    '-x',
    '-r',
    '1',
    '-t',
    String(options.timeoutSeconds ?? 1.5),
    target,
    options.command,
    options.secret,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('radclient', host.includes(':') ? ['-6', ...args] : args, { stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', () => {
      const received = /Received (\S+) Id \d+/.exec(output);
      const attributes = new Map<string, string>();
      if (received) {
        const after = output.slice(received.index).split('\n').slice(1);
        for (const line of after) {
          const match = /^\s+([A-Za-z0-9-]+) = (.*)$/.exec(line);
          if (!match) break;
          attributes.set(match[1] ?? '', (match[2] ?? '').replace(/^"|"$/g, ''));
        }
      }
      resolve({ code: received?.[1], attributes, output });
    });
    child.stdin.end(`${options.lines.join('\n')}\n`);
  });
}

/** An Access-Request as bytes, with the password hidden under its own authenticator. */
export function accessRequest(options: {
  secret: string;
  username: string;
  password?: Buffer | string;
  identifier?: number;
  authenticator?: Buffer;
  attributes?: Attribute[];
  messageAuthenticator?: boolean;
}): { bytes: Buffer; authenticator: Buffer; identifier: number } {
  const secret = Buffer.from(options.secret, 'utf8');
  const authenticator = options.authenticator ?? randomBytes(16);
  const identifier = options.identifier ?? randomBytes(1)[0] ?? 0;
  const attributes: Attribute[] = [{ type: ATTR.UserName, value: Buffer.from(options.username, 'utf8') }];
  if (options.password !== undefined) {
    const password =
      typeof options.password === 'string' ? Buffer.from(options.password, 'utf8') : options.password;
    attributes.push({ type: ATTR.UserPassword, value: encryptUserPassword(password, secret, authenticator) });
  }
  attributes.push(...(options.attributes ?? []));
  const bytes = encodeRequest({
    code: CODE.AccessRequest,
    identifier,
    authenticator,
    attributes,
    secret,
    messageAuthenticator: options.messageAuthenticator ?? true,
  });
  return { bytes, authenticator, identifier };
}

/** One UDP socket with a fixed source port, so a resend is a retransmit in RFC 5080's sense. */
export async function radiusSocket(port: number, options: { host?: string; from?: string } = {}) {
  const host = options.host ?? '127.0.0.1';
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const inbox: Buffer[] = [];
  const waiters: Array<(datagram: Buffer) => void> = [];
  socket.on('message', (datagram) => {
    const waiter = waiters.shift();
    if (waiter) waiter(datagram);
    else inbox.push(datagram);
  });
  await new Promise<void>((resolve) => socket.bind(0, options.from ?? host, resolve));
  return {
    send(bytes: Buffer): void {
      socket.send(bytes, port, host);
    },
    /** The next datagram, or undefined when none comes within `ms`. */
    next(ms = 1500): Promise<Buffer | undefined> {
      const queued = inbox.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve) => {
        const waiter = (datagram: Buffer) => {
          clearTimeout(timer);
          resolve(datagram);
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          resolve(undefined);
        }, ms);
        waiters.push(waiter);
      });
    },
    /** Sends and waits for the answer, decoded. */
    async exchange(bytes: Buffer, ms = 1500): Promise<Packet | undefined> {
      this.send(bytes);
      const answer = await this.next(ms);
      if (!answer) return undefined;
      const decoded = decodePacket(answer);
      if (!decoded.ok) throw new Error(`test: undecodable answer: ${decoded.reason}`);
      return decoded.packet;
    },
    close(): Promise<void> {
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}

export const SECRETS = {
  netscaler: 'netscaler-secret-for-tests-0001',
  rras: 'rras-secret-for-tests-00000002',
  append: 'append-secret-for-tests-000003',
  legacy: 'legacy-secret-for-tests-000004',
  v6: 'ipv6-secret-for-tests-00000005',
} as const;

/** Users beyond the default ones: a password with the delimiter in it, and one outside ASCII. */
export const RADIUS_USERS: SiteUser[] = [
  ...DEFAULT_USERS,
  { username: 'henry', password: 'a,b,c', groups: ['staff'], seed: SEEDS.alice },
  { username: 'ida', password: 'pässwort', groups: ['staff'], seed: SEEDS.bob },
  { username: 'jack', password: 'jack-pw', groups: ['vpn-admins'] },
];

/**
 * A site whose RADIUS server has one client per source address on loopback: radclient speaks from
 * 127.0.0.1 (the NetScaler-like client); the Node client binds 127.0.0.2-4 for the others.
 */
export async function startRadiusSite(options: { mobile?: boolean } = {}) {
  const [authPort, accountingPort, v6Port] = [
    await freeUdpPort(),
    await freeUdpPort(),
    await freeUdpPort('::1'),
  ];
  const mobile = options.mobile ?? true;
  const site = await startGatewaySite({
    users: RADIUS_USERS,
    apps: "    - { name: intranet, match: { pathPrefix: / }, upstream: 'http://127.0.0.1:9', policy: two_factor }",
    ...(mobile
      ? { portalExtra: '  methods: [totp, push]\n  mobileApp: { allow: true, maxDevices: 2 }' }
      : {}),
    sections: `radius:
  listen:
    - { host: 127.0.0.1, authPort: ${authPort}, accountingPort: ${accountingPort} }
    - { host: '::1', authPort: ${v6Port}, accountingPort: 0 }
  clients:
    - name: netscaler
      address: 127.0.0.1
      secret: ${SECRETS.netscaler}
      mode: challenge
      application: Citrix Gateway
      challenge: { replyMessage: 'Enter your code or type push' }
      replyAttributes:
        - { attribute: Class, value: mfa-gateway }
        - { attribute: Citrix-Group-Names, value: admins, groups: [vpn-admins] }
    - name: rras
      address: 127.0.0.2/32
      secret: ${SECRETS.rras}
      mode: out-of-band
      application: VPN
      outOfBandWaitSeconds: 20
      replyAttributes:
        - { attribute: Session-Timeout, value: 28800 }
        - { attribute: MS-Primary-DNS-Server, value: 10.0.0.53 }
    - name: append
      address: 127.0.0.3
      secret: ${SECRETS.append}
      mode: append
    - name: legacy
      address: 127.0.0.4
      secret: ${SECRETS.legacy}
      mode: append
      requireMessageAuthenticator: false
    - name: loopback-v6
      address: '::1'
      secret: ${SECRETS.v6}
      mode: append
`,
  });
  return { site, authPort, accountingPort, v6Port };
}

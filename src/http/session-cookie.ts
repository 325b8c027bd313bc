// The gateway's session: a self-contained cookie, encrypted and authenticated with jose (JWE, dir +
// A256GCM, key derived once from the store key and imported once as a CryptoKey), bound to one host.
// Idle (sliding) and absolute timeouts are checked on every request; revocations come from the
// denylist, behind a short cache of verified cookies so that a request costs no decryption.
import { hkdfSync, type webcrypto } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Clock, Method, Random } from '../core/ports.ts';
import type { SessionRevocation } from '../core/sessions/revocation.ts';

export interface PendingSecondFactor {
  challengeId: string;
  method: Method;
  /** Where to go once the second factor is done (already checked by safeReturnUrl). */
  rd: string;
  /** Security-question fallback: the questions this sign-in asks, chosen by the server. */
  questionIds?: string[];
  /** A held form-interception request waiting for this second factor. */
  holdId?: string;
  /** The push the phone was sent (method `push`): its id and the number shown on the page. */
  push?: { id: string; number: number };
}

export interface Session {
  id: string;
  username: string;
  /** 1: password only; 2: password and a second factor (or a bypass, or the rollout setting). */
  level: 1 | 2;
  /** The canonical authority (host[:port]) the cookie was issued for. */
  host: string;
  /** When the first factor succeeded: the absolute timeout counts from here. */
  issuedAt: number;
  secondFactorAt: number | null;
  /** Last request seen, to within the refresh interval: the idle timeout counts from here. */
  lastSeen: number;
  groups: string[];
  email: string | null;
  name: string | null;
  /** How the current level was reached, for the audit log and the identity headers. */
  via: string;
  pending?: PendingSecondFactor;
  /** When the user last proved the second factor again for a sensitive change (portal step-up). */
  stepUpAt?: number;
  /**
   * What an adapter carries between its pages (the portal's enrollment draft: a seed not yet
   * confirmed). Encrypted with the rest of the cookie; kept small.
   */
  draft?: Record<string, string>;
}

export interface SessionSettings {
  cookieName: string;
  idleTimeoutSeconds: number;
  maxAgeSeconds: number;
  cacheSize: number;
  revocationCheckSeconds: number;
}

export type SessionRejection = 'malformed' | 'other_host' | 'expired' | 'idle' | 'revoked';

interface Claims {
  sub: string;
  jti: string;
  aud: string;
  exp: number;
  lvl: 1 | 2;
  iat0: number;
  f2: number | null;
  ls: number;
  grp: string[];
  em: string | null;
  nm: string | null;
  via: string;
  pnd?: PendingSecondFactor;
  su?: number;
  drf?: Record<string, string>;
}

const HEADER = { alg: 'dir', enc: 'A256GCM' } as const;
/** Browsers drop cookies above 4096 bytes; leave room for the name and attributes. */
const MAX_COOKIE_VALUE = 3800;

/**
 * The cookie key is derived from the store key, so one secret serves both and every node agrees.
 * Each kind of session (gateway, portal) has its own key, so one cannot be presented as the other.
 */
export async function importSessionKey(
  storeKey: Uint8Array,
  purpose: 'gateway' | 'portal' = 'gateway',
): Promise<webcrypto.CryptoKey> {
  const info = purpose === 'gateway' ? 'mfa-gateway session cookie v1' : 'mfa-gateway portal session v1';
  const bytes = new Uint8Array(hkdfSync('sha256', storeKey, new Uint8Array(0), info, 32));
  return crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

export function createSessionCookies(deps: {
  key: webcrypto.CryptoKey;
  clock: Clock;
  random: Random;
  revocation: Pick<SessionRevocation, 'isRevoked' | 'revokeSession'>;
  settings: SessionSettings;
}) {
  const { key, clock, random, revocation, settings } = deps;
  const idleMs = settings.idleTimeoutSeconds * 1000;
  const maxAgeMs = settings.maxAgeSeconds * 1000;
  /** Sliding the idle timeout re-issues the cookie; doing it at most this often keeps requests cheap. */
  const refreshMs = Math.min(60_000, idleMs / 10);
  const verified = new LRUCache<string, Session>({
    max: Math.max(1, settings.cacheSize),
    ttl: Math.max(1, settings.revocationCheckSeconds * 1000),
    ttlAutopurge: false,
  });
  /** The latest re-issued cookie of each session, so sliding the idle timeout costs one encryption per interval. */
  const refreshed = new LRUCache<string, { token: string; at: number }>({
    max: Math.max(1, settings.cacheSize),
  });
  /** Ids revoked by this process: honoured at once, whatever the cache holds. */
  const revokedHere = new LRUCache<string, true>({ max: 100_000, ttl: maxAgeMs });

  const newId = () => Buffer.from(random.bytes(18)).toString('base64url');

  function toClaims(s: Session): Claims {
    return {
      sub: s.username,
      jti: s.id,
      aud: s.host,
      exp: Math.floor((s.issuedAt + maxAgeMs) / 1000),
      lvl: s.level,
      iat0: s.issuedAt,
      f2: s.secondFactorAt,
      ls: s.lastSeen,
      grp: s.groups,
      em: s.email,
      nm: s.name,
      via: s.via,
      ...(s.pending ? { pnd: s.pending } : {}),
      ...(s.stepUpAt !== undefined ? { su: s.stepUpAt } : {}),
      ...(s.draft ? { drf: s.draft } : {}),
    };
  }

  function fromClaims(c: Claims): Session {
    return {
      id: c.jti,
      username: c.sub,
      level: c.lvl,
      host: c.aud,
      issuedAt: c.iat0,
      secondFactorAt: c.f2,
      lastSeen: c.ls,
      groups: c.grp,
      email: c.em,
      name: c.nm,
      via: c.via,
      ...(c.pnd ? { pending: c.pnd } : {}),
      ...(typeof c.su === 'number' ? { stepUpAt: c.su } : {}),
      ...(c.drf ? { draft: c.drf } : {}),
    };
  }

  async function encode(session: Session): Promise<string> {
    const token = await new EncryptJWT({ ...toClaims(session) }).setProtectedHeader(HEADER).encrypt(key);
    if (token.length <= MAX_COOKIE_VALUE || session.groups.length === 0) return token;
    // A user in hundreds of groups: keep the session and drop the group list rather than fail.
    return encode({ ...session, groups: [] });
  }

  function timedOut(session: Session, now: number): SessionRejection | undefined {
    if (now >= session.issuedAt + maxAgeMs) return 'expired';
    if (now >= session.lastSeen + idleMs) return 'idle';
    return undefined;
  }

  async function decode(token: string, host: string): Promise<Session | SessionRejection> {
    try {
      const { payload } = await jwtDecrypt<Claims>(token, key, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
        currentDate: new Date(clock.now()),
      });
      if (payload.aud !== host) return 'other_host';
      if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string') return 'malformed';
      return fromClaims(payload);
    } catch (error) {
      return (error as { code?: string }).code === 'ERR_JWT_EXPIRED' ? 'expired' : 'malformed';
    }
  }

  return {
    /** `__Host-` requires Secure and Path=/ and no Domain: the cookie can never leave this host. */
    cookieName: (secure: boolean) => (secure ? `__Host-${settings.cookieName}` : settings.cookieName),
    maxAgeSeconds: settings.maxAgeSeconds,

    /** A new session after a factor: always a new id, so a fixated or stolen earlier id is worth nothing. */
    create(fields: Omit<Session, 'id' | 'issuedAt' | 'lastSeen'> & { issuedAt?: number }): Session {
      const now = clock.now();
      return { ...fields, id: newId(), issuedAt: fields.issuedAt ?? now, lastSeen: now };
    },

    encode,

    /** The session the cookie proves, or why it proves none. The cache holds only verified, unrevoked ones. */
    async verify(token: string, host: string): Promise<Session | SessionRejection> {
      const now = clock.now();
      const cached = verified.get(token);
      const session = cached ?? (await decode(token, host));
      if (typeof session === 'string') return session;
      if (session.host !== host) return 'other_host';
      const late = timedOut(session, now);
      if (late) return late;
      if (revokedHere.has(session.id)) return 'revoked';
      if (!cached) {
        if (await revocation.isRevoked(session)) return 'revoked';
        verified.set(token, session);
      }
      return session;
    },

    /** A re-issued cookie when the idle clock should slide, else undefined (most requests). */
    async refresh(session: Session): Promise<string | undefined> {
      const now = clock.now();
      if (now - session.lastSeen < refreshMs) return undefined;
      // A client that ignores Set-Cookie keeps sending the old token: hand it the cookie made a
      // moment ago instead of encrypting a new one on every request.
      const recent = refreshed.get(session.id);
      if (recent && now - recent.at < refreshMs) return recent.token;
      const token = await encode({ ...session, lastSeen: now });
      refreshed.set(session.id, { token, at: now });
      return token;
    },

    async revoke(session: Session): Promise<void> {
      revokedHere.set(session.id, true);
      await revocation.revokeSession(session.id);
    },
  };
}

export type SessionCookies = ReturnType<typeof createSessionCookies>;

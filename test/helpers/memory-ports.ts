// In-memory implementations of the core's ports, for pure core tests: no SQL, no sockets, and a
// fixed clock. They follow the contracts in src/core/ports.ts (atomic updates are trivially atomic here).

import type { CoreStore } from '../../src/core/create-core.ts';
import { MfaError } from '../../src/core/errors.ts';
import type {
  ActivationCode,
  AuditEvent,
  AuditQuery,
  Bypass,
  Challenge,
  Directory,
  DirectoryUser,
  EnrollmentWindow,
  FailureCounter,
  MobileDevice,
  NewChallenge,
  NewUser,
  PushRequest,
  PushState,
  SdkAuthentication,
  SecurityAnswer,
  ServiceAccount,
  StoredAuditEvent,
  TotpFactor,
  TotpParams,
  UserPatch,
  UserRecord,
} from '../../src/core/ports.ts';

export type MemoryStore = CoreStore & { events: StoredAuditEvent[] };

/** The audit filters of the SQL store: exact type or a family (`auth.`), outcome, actor, time, order, limit. */
function auditMatches(e: StoredAuditEvent, q: AuditQuery): boolean {
  const type = q.type === undefined || (q.type.endsWith('.') ? e.type.startsWith(q.type) : e.type === q.type);
  return (
    type &&
    (q.username === undefined || e.username === q.username.trim().toLowerCase()) &&
    (q.outcome === undefined || e.outcome === q.outcome) &&
    (q.actor === undefined || e.actor === q.actor) &&
    (q.since === undefined || e.at >= q.since) &&
    (q.until === undefined || e.at <= q.until)
  );
}

export function createMemoryStore(): MemoryStore {
  const accounts = new Map<string, ServiceAccount & { tokenHash: string }>();
  const users = new Map<string, UserRecord>();
  const factors = new Map<string, TotpFactor>();
  const challenges = new Map<string, Challenge>();
  const counters = new Map<string, FailureCounter>();
  const events: StoredAuditEvent[] = [];
  const bypasses: Bypass[] = [];
  const revocations = new Map<string, { revokedAt: number; expiresAt: number }>();
  const answers = new Map<string, SecurityAnswer[]>();
  const windows: EnrollmentWindow[] = [];
  const activationCodes = new Map<string, ActivationCode & { usedAt: number | null }>();
  const devices = new Map<string, MobileDevice>();
  const pushRequests = new Map<string, PushRequest>();
  const sdkAuthentications = new Map<string, SdkAuthentication>();
  let seq = 0;
  const nextId = () => `id-${++seq}`;
  const copyDevice = (d: MobileDevice): MobileDevice => ({
    ...d,
    publicKey: { ...d.publicKey },
    pushSubscription: d.pushSubscription && { ...d.pushSubscription },
  });
  const copyRequest = (r: PushRequest): PushRequest => ({ ...r, decoys: [...r.decoys] });
  async function addTotpFactor(
    userId: string,
    label: string,
    secret: Uint8Array,
    params: TotpParams,
    at: number,
  ): Promise<TotpFactor> {
    const factor: TotpFactor = {
      id: nextId(),
      userId,
      label,
      secret,
      ...params,
      lastTimeStep: null,
      createdAt: at,
    };
    factors.set(factor.id, factor);
    return factor;
  }
  /** The SQL foreign key `mobile_devices.factor_id ... on delete cascade`. */
  const dropDevicesOf = (factorId: string) => {
    for (const [id, d] of devices) if (d.factorId === factorId) devices.delete(id);
  };

  return {
    events,
    async findUserByName(username) {
      return [...users.values()].find((u) => u.username === username.trim().toLowerCase());
    },
    async findUserByUniqueId(uniqueId) {
      return [...users.values()].find((u) => u.uniqueId === uniqueId);
    },
    async getUser(id) {
      return users.get(id);
    },
    async createUser(user: NewUser, at) {
      const username = user.username.trim().toLowerCase();
      if ([...users.values()].some((u) => u.username === username)) throw new MfaError('user.exists');
      const record = { ...user, username, id: nextId(), createdAt: at, updatedAt: at };
      users.set(record.id, record);
      return record;
    },
    async updateUser(id, patch: UserPatch, at) {
      const user = users.get(id);
      if (!user) throw new MfaError('user.not_found');
      const updated = { ...user, ...patch, updatedAt: at };
      users.set(id, updated);
      return updated;
    },
    async listUsers(filter = {}) {
      const text = filter.search?.trim().toLowerCase();
      const found = [...users.values()]
        .filter((u) => !filter.status || u.status === filter.status)
        .filter(
          (u) => !text || [u.username, u.displayName, u.email].some((v) => v?.toLowerCase().includes(text)),
        )
        .sort((a, b) => (a.username < b.username ? -1 : 1));
      return found.slice(0, filter.limit ?? found.length);
    },
    async listTotpFactors(userId) {
      return [...factors.values()].filter((f) => f.userId === userId);
    },
    addTotpFactor,
    async removeFactors(userId) {
      let removed = 0;
      for (const [id, f] of factors) {
        if (f.userId === userId && factors.delete(id)) {
          dropDevicesOf(id);
          removed++;
        }
      }
      return removed;
    },
    async removeFactor(userId, factorId) {
      const factor = factors.get(factorId);
      if (factor?.userId !== userId || !factors.delete(factorId)) return false;
      dropDevicesOf(factorId);
      return true;
    },
    async acceptTimeStep(factorId, timeStep) {
      const factor = factors.get(factorId);
      if (!factor || (factor.lastTimeStep !== null && factor.lastTimeStep >= timeStep)) return false;
      factors.set(factorId, { ...factor, lastTimeStep: timeStep });
      return true;
    },
    async createChallenge(challenge: NewChallenge) {
      challenges.set(challenge.id, { ...challenge, attempts: 0 });
    },
    async getChallenge(id) {
      const c = challenges.get(id);
      return c && { ...c };
    },
    async countChallengeAttempt(id) {
      const c = challenges.get(id);
      if (!c || c.attempts >= c.maxAttempts) return undefined;
      c.attempts++;
      return c.attempts;
    },
    async consumeChallenge(id) {
      return challenges.delete(id);
    },
    async deleteExpiredChallenges(before) {
      let n = 0;
      for (const [id, c] of challenges) if (c.expiresAt <= before && challenges.delete(id)) n++;
      return n;
    },
    async getCounter(subject) {
      const c = counters.get(subject);
      return c && { ...c };
    },
    async addFailure(subject, at, windowMs, maxFailures, banMs) {
      const current = counters.get(subject);
      const fresh = !current || current.windowStart <= at - windowMs;
      const failures = fresh ? 1 : current.failures + 1;
      const counter: FailureCounter = {
        failures,
        windowStart: fresh ? at : current.windowStart,
        lockedUntil: failures >= maxFailures ? at + banMs : (current?.lockedUntil ?? null),
      };
      counters.set(subject, counter);
      return { ...counter };
    },
    async clearCounter(subject) {
      return counters.delete(subject);
    },
    async listLocked(at) {
      return [...counters]
        .filter(([, c]) => (c.lockedUntil ?? 0) > at)
        .map(([subject, c]) => ({ subject, ...c }));
    },
    async appendAudit(event: AuditEvent) {
      events.push({ ...event, id: nextId() });
    },
    async queryAudit(query: AuditQuery) {
      const found = events.filter((e) => auditMatches(e, query)).sort((a, b) => a.at - b.at);
      if (query.order === 'newest') found.reverse();
      return found.slice(0, query.limit ?? 1000);
    },
    async listSecurityAnswers(userId) {
      return [...(answers.get(userId) ?? [])].sort((a, b) => (a.questionId < b.questionId ? -1 : 1));
    },
    async replaceSecurityAnswers(userId, replacement) {
      answers.set(
        userId,
        replacement.map((a) => ({ ...a })),
      );
    },
    async createEnrollmentWindow(window) {
      windows.push({ ...window });
    },
    async findEnrollmentWindow(userId, at) {
      const open = windows
        .filter((w) => w.userId === userId && w.createdAt <= at && w.expiresAt > at)
        .sort((a, b) => b.expiresAt - a.expiresAt);
      return open[0] && { ...open[0] };
    },
    async deleteExpiredEnrollmentWindows(before) {
      const kept = windows.filter((w) => w.expiresAt > before);
      const removed = windows.length - kept.length;
      windows.splice(0, windows.length, ...kept);
      return removed;
    },
    async createBypass(bypass) {
      bypasses.push({ ...bypass, usedAt: null });
    },
    async consumeBypass(userId, at) {
      const live = bypasses.find((b) => b.userId === userId && b.usedAt === null && b.expiresAt > at);
      if (live) live.usedAt = at;
      return live && { ...live };
    },
    async deleteExpiredBypasses(before) {
      const kept = bypasses.filter((b) => b.expiresAt > before);
      const removed = bypasses.length - kept.length;
      bypasses.splice(0, bypasses.length, ...kept);
      return removed;
    },
    async revokeSession(sessionId, until) {
      revocations.set(`session:${sessionId}`, { revokedAt: 0, expiresAt: until });
    },
    async revokeUserSessions(username, at, until) {
      revocations.set(`user:${username}`, { revokedAt: at, expiresAt: until });
    },
    async findRevocations(sessionId, username) {
      return {
        session: revocations.has(`session:${sessionId}`),
        userBefore: revocations.get(`user:${username}`)?.revokedAt ?? null,
      };
    },
    async deleteExpiredRevocations(before) {
      let removed = 0;
      for (const [subject, entry] of revocations) {
        if (entry.expiresAt <= before) {
          revocations.delete(subject);
          removed += 1;
        }
      }
      return removed;
    },
    async createActivationCode(code) {
      if (activationCodes.has(code.codeHash)) throw new Error('store: activation code exists');
      activationCodes.set(code.codeHash, { ...code, usedAt: null });
    },
    async consumeActivationCode(codeHash, at) {
      const entry = activationCodes.get(codeHash);
      if (!entry || entry.usedAt !== null || entry.expiresAt <= at) return undefined;
      entry.usedAt = at;
      const { usedAt: _usedAt, ...code } = entry;
      return code;
    },
    async deleteExpiredActivationCodes(before) {
      let removed = 0;
      for (const [hash, c] of activationCodes)
        if (c.expiresAt <= before && activationCodes.delete(hash)) removed++;
      return removed;
    },
    async addMobileDevice(device, totp) {
      // One "transaction": the offline seed is an ordinary TOTP factor, the device points at it.
      const factor = await addTotpFactor(
        device.userId,
        totp.label,
        totp.secret,
        totp.params,
        device.createdAt,
      );
      const created: MobileDevice = {
        ...device,
        publicKey: { kty: 'EC', crv: 'P-256', x: device.publicKey.x, y: device.publicKey.y },
        id: nextId(),
        factorId: factor.id,
        pushSubscription: null,
        lastSeenAt: null,
      };
      devices.set(created.id, created);
      return copyDevice(created);
    },
    async getMobileDevice(id) {
      const d = devices.get(id);
      return d && copyDevice(d);
    },
    async listMobileDevices(userId) {
      return [...devices.values()]
        .filter((d) => d.userId === userId)
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
        .map(copyDevice);
    },
    async setPushSubscription(deviceId, subscription) {
      const d = devices.get(deviceId);
      if (d) d.pushSubscription = subscription && { ...subscription };
    },
    async touchMobileDevice(deviceId, at) {
      const d = devices.get(deviceId);
      if (d) d.lastSeenAt = at;
    },
    async createPushRequest(request) {
      // The primary key and the unique partial index (one `pending` row per user, expired or not).
      const conflict =
        pushRequests.has(request.id) ||
        [...pushRequests.values()].some((r) => r.userId === request.userId && r.state === 'pending');
      if (conflict) return false;
      pushRequests.set(request.id, {
        ...request,
        decoys: [...request.decoys],
        state: 'pending',
        reason: null,
        deviceId: null,
        answeredAt: null,
      });
      return true;
    },
    async getPushRequest(id) {
      const r = pushRequests.get(id);
      return r && copyRequest(r);
    },
    async listPendingPushRequests(userId, at) {
      return [...pushRequests.values()]
        .filter((r) => r.userId === userId && r.state === 'pending' && r.expiresAt > at)
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
        .map(copyRequest);
    },
    async settlePushRequest(id, change) {
      const r = pushRequests.get(id);
      if (r?.state !== 'pending') return false;
      // Expiring or cancelling needs no live request; an answer does.
      if (change.state !== 'expired' && change.state !== 'cancelled' && r.expiresAt <= change.at)
        return false;
      r.state = change.state;
      r.reason = change.reason;
      r.deviceId = change.deviceId;
      r.answeredAt = change.at;
      return true;
    },
    async claimPushRequest(id, challengeId) {
      const r = pushRequests.get(id);
      if (r?.state !== 'approved' || r.challengeId !== null) return false;
      r.challengeId = challengeId;
      return true;
    },
    async expireStalePushRequests(userId, at) {
      let expired = 0;
      for (const r of pushRequests.values()) {
        if (r.userId === userId && r.state === 'pending' && r.expiresAt <= at) {
          r.state = 'expired';
          r.answeredAt = at;
          expired++;
        }
      }
      return expired;
    },
    async pushRequestStates(ids) {
      const states = new Map<string, PushState>();
      for (const id of ids) {
        const r = pushRequests.get(id);
        if (r) states.set(id, r.state);
      }
      return states;
    },
    async deleteOldPushRequests(before) {
      let removed = 0;
      for (const [id, r] of pushRequests) if (r.expiresAt <= before && pushRequests.delete(id)) removed++;
      return removed;
    },
    async createSdkAuthentication(authentication) {
      if (sdkAuthentications.has(authentication.id)) throw new Error('store: sdk authentication exists');
      sdkAuthentications.set(authentication.id, { ...authentication });
    },
    async getSdkAuthentication(id) {
      const a = sdkAuthentications.get(id);
      return a && { ...a };
    },
    async finishSdkAuthentication(id, result) {
      const a = sdkAuthentications.get(id);
      if (a?.status !== 'pending' && a?.status !== 'code_required') return false;
      a.status = result.status;
      a.reason = result.reason;
      a.finishedAt = result.at;
      return true;
    },
    async deleteExpiredSdkAuthentications(before) {
      let removed = 0;
      for (const [id, a] of sdkAuthentications)
        if (a.keepUntil <= before && sdkAuthentications.delete(id)) removed++;
      return removed;
    },
    async insertServiceAccount(account, tokenHash) {
      if ([...accounts.values()].some((a) => a.name === account.name || a.tokenHash === tokenHash))
        return false;
      accounts.set(account.id, { ...account, tokenHash });
      return true;
    },
    async findServiceAccountByName(name) {
      return [...accounts.values()].find((a) => a.name === name && a.revokedAt === null);
    },
    async findServiceAccountByTokenHash(tokenHash) {
      const found = [...accounts.values()].find((a) => a.tokenHash === tokenHash && a.revokedAt === null);
      return found && withoutHash(found);
    },
    async findServiceAccountByCertificate(fingerprint, subject) {
      const found = [...accounts.values()].find(
        (a) => a.revokedAt === null && (a.certFingerprint === fingerprint || a.certSubject === subject),
      );
      return found && withoutHash(found);
    },
    async listServiceAccounts() {
      return [...accounts.values()].map(withoutHash).sort((a, b) => a.name.localeCompare(b.name));
    },
    async revokeServiceAccount(name, at) {
      const found = [...accounts.values()].find((a) => a.name === name && a.revokedAt === null);
      if (found) found.revokedAt = at;
      return found !== undefined;
    },
    async deleteUser(user, options) {
      const name = user.username.trim().toLowerCase();
      if (users.get(user.id)?.username !== name) return undefined;
      // The rewrite runs before anything is removed, so a rewrite that throws changes nothing (the
      // SQL store's rollback).
      const { erase } = options;
      const who = erase?.username.trim().toLowerCase();
      const rewritten = erase
        ? events
            .map((e, i) => ({ i, e }))
            .filter(({ e }) => e.username === who || e.actor === who)
            .map(({ i, e }) => ({ i, event: { ...erase.rewrite(e), id: e.id } }))
        : [];
      const removeWhere = <K, V>(map: Map<K, V>, drop: (value: V, key: K) => boolean) => {
        let n = 0;
        for (const [key, value] of map) if (drop(value, key) && map.delete(key)) n++;
        return n;
      };
      const spliceWhere = <V>(list: V[], drop: (value: V) => boolean) => {
        const kept = list.filter((v) => !drop(v));
        const n = list.length - kept.length;
        list.splice(0, list.length, ...kept);
        return n;
      };
      const mine = (v: { userId: string | null }) => v.userId === user.id;
      const counts = {
        mobileDevices: removeWhere(devices, mine),
        factors: removeWhere(factors, mine),
        securityAnswers: answers.get(user.id)?.length ?? 0,
        bypasses: spliceWhere(bypasses, mine),
        enrollmentWindows: spliceWhere(windows, mine),
        activationCodes: removeWhere(activationCodes, mine),
        pushRequests: removeWhere(pushRequests, (r) => mine(r) || r.username === name),
        challenges: removeWhere(challenges, (c) => mine(c) || c.username === name),
        regulationCounters: removeWhere(counters, (_c, subject) =>
          options.regulationSubjects.includes(subject),
        ),
        sdkAuthentications: removeWhere(sdkAuthentications, (a) => mine(a) || a.username === name),
        auditEventsErased: rewritten.length,
      };
      answers.delete(user.id);
      users.delete(user.id);
      for (const { i, event } of rewritten) events[i] = event;
      return counts;
    },
  };
}

function withoutHash({
  tokenHash: _hash,
  ...account
}: ServiceAccount & { tokenHash: string }): ServiceAccount {
  return account;
}

/** A directory of users with plain passwords, following the Directory contract's error rules. */
export function createMemoryDirectory(
  entries: Array<DirectoryUser & { password: string }>,
): Directory & { down: boolean } {
  const state = { down: false };
  const find = (username: string) =>
    entries.find((e) => e.username.toLowerCase() === username.trim().toLowerCase());
  const strip = ({ password: _password, ...user }: DirectoryUser & { password: string }): DirectoryUser =>
    user;
  return {
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
    async authenticate(username, password) {
      if (password.length === 0) throw new MfaError('auth.invalid_credentials', { detail: 'empty password' });
      if (state.down) throw new MfaError('directory.unavailable', { detail: 'memory directory down' });
      const entry = find(username);
      if (!entry) throw new MfaError('auth.invalid_credentials', { detail: 'unknown user' });
      if (entry.password !== password)
        throw new MfaError('auth.invalid_credentials', { detail: 'wrong password' });
      return strip(entry);
    },
    async findUser(username) {
      const entry = find(username);
      return entry && strip(entry);
    },
    async listUsers() {
      return entries.map(strip);
    },
    async ping() {
      if (state.down) throw new MfaError('directory.unavailable');
    },
    async close() {},
  };
}

// Push approvals (DESIGN §6 rule 12): a sign-in opens one pending request per user, the phone shows
// it with three numbers, and its answer, signed by the device key, settles the request exactly once.
// Every way in (gateway page, Basic out of band, portal, RADIUS) waits on the same requests through
// the hub. "Deny and report fraud" blocks the user, ends their sessions and tells administrators.
import { MfaError, toMfaError } from '../errors.ts';
import type {
  AdminNotifier,
  AuditSink,
  Clock,
  FactorStore,
  MobileDevice,
  MobileDeviceStore,
  PushRequest,
  PushRequestStore,
  PushSender,
  PushState,
  PushSubscriptionKeys,
  Random,
  RequestContext,
  UserRecord,
  UserStore,
} from '../ports.ts';
import type { Regulator } from '../regulation/regulator.ts';
import { constantTimeEqual } from '../secrets/constant-time.ts';
import type { SecretHasher } from '../secrets/secret-hash.ts';
import type { SessionRevocation } from '../sessions/revocation.ts';
import { ANSWER_TYPE, verifyDeviceProof, verifyDeviceSignature } from './device-signature.ts';
import type { PushHub } from './push-hub.ts';

export interface PushSettings {
  /** Pushes are offered at all (the mobile service runs). */
  enabled: boolean;
  /** How long a request waits for the phone. */
  requestTtlSeconds: number;
  /** PIN mode: a user who has a PIN types it in the app before approving. */
  requirePin: boolean;
  /** "Deny and report fraud" blocks the user (Azure's default). */
  fraudBlock: boolean;
  /** How far a device proof's `iat` may be from the server's time. */
  deviceProofMaxAgeSeconds: number;
  /** Tests only: Web Push endpoints on plain HTTP (a local fake push service). */
  allowInsecurePushEndpoints?: boolean;
}

export interface PushDeps {
  requests: PushRequestStore;
  devices: Pick<
    MobileDeviceStore,
    'getMobileDevice' | 'listMobileDevices' | 'touchMobileDevice' | 'setPushSubscription'
  >;
  users: Pick<UserStore, 'getUser' | 'updateUser'>;
  factors: Pick<FactorStore, 'removeFactor'>;
  hub: PushHub;
  /** Web Push, when configured: wakes a closed app. */
  sender?: PushSender;
  notifier: AdminNotifier;
  sessions: Pick<SessionRevocation, 'revokeUser'>;
  regulator: Regulator;
  audit: AuditSink;
  hasher: Pick<SecretHasher, 'verify'>;
  clock: Clock;
  random: Random;
  settings: PushSettings;
  /** Where delivery problems go (a failed Web Push must not fail the sign-in). */
  warn: (message: string, detail: Record<string, unknown>) => void;
}

/** A request as the phone sees it: the right number hidden among three. */
export interface DeviceRequestView {
  id: string;
  application: string | null;
  clientAddress: string;
  createdAt: number;
  expiresAt: number;
  choices: number[];
  pinRequired: boolean;
  nonce: string;
}

export type AnswerDecision = 'approve' | 'deny' | 'fraud';
export interface AnswerOutcome {
  state: Exclude<PushState, 'pending'>;
  reason: string | null;
}

const DECISIONS: readonly AnswerDecision[] = ['approve', 'deny', 'fraud'];

export function createPushApprovals(deps: PushDeps) {
  const { requests, devices, users, hub, regulator, audit, clock, random, settings } = deps;

  const newId = () => Buffer.from(random.bytes(18)).toString('base64url');

  /** Two-digit numbers 10..99: the right one and two different decoys. */
  function drawNumbers(): { number: number; decoys: [number, number] } {
    const picked = new Set<number>();
    while (picked.size < 3) picked.add(10 + random.int(90));
    const [number, a, b] = [...picked] as [number, number, number];
    return { number, decoys: [a, b] };
  }

  function shuffled(values: number[]): number[] {
    const out = [...values];
    for (let i = out.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [out[i], out[j]] = [out[j] as number, out[i] as number];
    }
    return out;
  }

  const record = (
    request: Pick<PushRequest, 'username' | 'channel' | 'clientAddress' | 'application' | 'id'>,
    type: string,
    outcome: 'success' | 'failure' | 'info',
    reason: string | null,
    details: Record<string, unknown> = {},
  ) =>
    audit.record({
      at: clock.now(),
      type,
      outcome,
      channel: request.channel,
      username: request.username,
      clientAddress: request.clientAddress,
      reason,
      actor: null,
      application: request.application,
      details: { requestId: request.id, ...details },
    });

  /** Whether the user can be asked by push: the service is on and a phone is registered. */
  async function available(user: UserRecord): Promise<boolean> {
    return settings.enabled && (await devices.listMobileDevices(user.id)).length > 0;
  }

  /** Web Push to every phone of the user that subscribed; a subscription the service says is gone is dropped. */
  async function wakeDevices(request: PushRequest): Promise<void> {
    const sender = deps.sender;
    if (!sender) return;
    for (const device of await devices.listMobileDevices(request.userId)) {
      if (!device.pushSubscription) continue;
      try {
        const result = await sender.send(device.pushSubscription, {
          title: 'Approve sign-in?',
          body: `${request.application ?? 'Sign-in'} from ${request.clientAddress}`,
          requestId: request.id,
          ttlSeconds: Math.max(1, Math.ceil((request.expiresAt - clock.now()) / 1000)),
        });
        if (result === 'gone') await devices.setPushSubscription(device.id, null);
      } catch (error) {
        deps.warn('web push failed', { deviceId: device.id, error: toMfaError(error).detail });
      }
    }
  }

  /**
   * Opens the push for a sign-in, or joins the one already pending for the same user from the same
   * place (channel, client address, application): a retransmit or a reload never sends a second
   * push. A pending push from anywhere else refuses this sign-in (`auth.push_pending`), so nobody
   * rides on an approval the user gives to their own sign-in.
   */
  async function open(
    user: UserRecord,
    ctx: RequestContext,
    options: { outOfBand?: boolean } = {},
  ): Promise<PushRequest> {
    const now = clock.now();
    await requests.expireStalePushRequests(user.id, now);
    const { number, decoys } = drawNumbers();
    const candidate: Omit<PushRequest, 'state' | 'reason' | 'deviceId' | 'answeredAt'> = {
      id: newId(),
      userId: user.id,
      username: user.username,
      challengeId: null,
      channel: ctx.channel,
      application: ctx.application ?? null,
      clientAddress: ctx.clientAddress,
      numberMatching: options.outOfBand !== true,
      number,
      decoys,
      nonce: newId(),
      pinRequired: settings.requirePin && user.pinHash !== null,
      createdAt: now,
      expiresAt: now + settings.requestTtlSeconds * 1000,
    };
    if (await requests.createPushRequest(candidate)) {
      const created: PushRequest = {
        ...candidate,
        state: 'pending',
        reason: null,
        deviceId: null,
        answeredAt: null,
      };
      await record(created, 'auth.push_sent', 'info', null);
      hub.announced(user.id);
      // Web Push is a courtesy: the open app long-polls anyway, and a failure must not crash or deny.
      wakeDevices(created).catch((error: unknown) =>
        deps.warn('web push failed', { requestId: created.id, error: toMfaError(error).detail }),
      );
      return created;
    }
    const [pending] = await requests.listPendingPushRequests(user.id, now);
    if (
      pending &&
      pending.channel === ctx.channel &&
      pending.clientAddress === ctx.clientAddress &&
      pending.application === (ctx.application ?? null) &&
      // A page sign-in must not ride on a push that asks no number, nor the other way round.
      pending.numberMatching === (options.outOfBand !== true)
    )
      return pending;
    throw new MfaError('auth.push_pending', { detail: pending ? `pending request ${pending.id}` : 'raced' });
  }

  async function settle(
    request: PushRequest,
    state: AnswerOutcome['state'],
    reason: string | null,
    deviceId: string | null,
  ) {
    const done = await requests.settlePushRequest(request.id, { state, reason, deviceId, at: clock.now() });
    if (done) hub.settled(request.id, state);
    return done;
  }

  /** The state of a request now; an unanswered one past its time is settled as expired. */
  async function stateOf(requestId: string): Promise<PushState | undefined> {
    const request = await requests.getPushRequest(requestId);
    if (!request) return undefined;
    if (request.state === 'pending' && request.expiresAt <= clock.now()) {
      await settle(request, 'expired', null, null);
      return (await requests.getPushRequest(requestId))?.state;
    }
    return request.state;
  }

  /**
   * Waits until the request is answered or `timeoutMs` passes; returns the state then (`pending`
   * when nothing happened in time). Never waits past the request's own expiry.
   */
  async function waitForAnswer(
    requestId: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<PushState | undefined> {
    // Joins the hub before reading the store, so an answer given in between still wakes it.
    const stop = linkedAbort(signal);
    const woken = hub.waitForAnswer(requestId, timeoutMs, stop.signal);
    try {
      const request = await requests.getPushRequest(requestId);
      if (!request) return undefined;
      if (request.state !== 'pending') return request.state;
      const expiry = setTimeout(() => stop.abort(), Math.max(0, request.expiresAt - clock.now()));
      const state = await woken;
      clearTimeout(expiry);
      return state === 'pending' ? stateOf(requestId) : state;
    } finally {
      stop.abort();
    }
  }

  /**
   * The sign-in finished another way (a code instead): the phone stops showing the requests this
   * place opened for the user.
   */
  async function cancelFor(userId: string, ctx: RequestContext): Promise<void> {
    for (const request of await requests.listPendingPushRequests(userId, clock.now()))
      if (request.channel === ctx.channel && request.clientAddress === ctx.clientAddress)
        await settle(request, 'cancelled', 'finished_another_way', null);
  }

  function deviceView(request: PushRequest): DeviceRequestView {
    return {
      id: request.id,
      application: request.application,
      clientAddress: request.clientAddress,
      createdAt: request.createdAt,
      expiresAt: request.expiresAt,
      choices: request.numberMatching ? shuffled([request.number, ...request.decoys]) : [],
      pinRequired: request.pinRequired,
      nonce: request.nonce,
    };
  }

  /** The phone's proof of possession for an API call (`Authorization: Device <jws>`). */
  async function authenticateDevice(token: unknown, method: string, path: string): Promise<MobileDevice> {
    const device = await verifyDeviceProof(
      token,
      {
        method,
        path,
        nowSeconds: Math.floor(clock.now() / 1000),
        maxAgeSeconds: settings.deviceProofMaxAgeSeconds,
      },
      devices,
    );
    await devices.touchMobileDevice(device.id, clock.now());
    return device;
  }

  /** The device's pending requests; with `waitMs`, waits (long poll) for one to arrive. */
  async function requestsForDevice(
    device: MobileDevice,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<DeviceRequestView[]> {
    // Joins the hub before listing, so a push opened in between still wakes the long poll.
    const stop = linkedAbort(signal);
    const announced = hub.waitForRequest(device.userId, waitMs, stop.signal);
    try {
      let pending = await requests.listPendingPushRequests(device.userId, clock.now());
      if (pending.length === 0 && waitMs > 0) {
        await announced;
        pending = await requests.listPendingPushRequests(device.userId, clock.now());
      }
      return pending.map(deviceView);
    } finally {
      stop.abort();
    }
  }

  /** Our own abort, also fired by the caller's: ends a hub wait whichever comes first. */
  function linkedAbort(signal: AbortSignal | undefined): AbortController {
    const controller = new AbortController();
    if (signal?.aborted) controller.abort();
    else
      signal?.addEventListener('abort', () => controller.abort(), { once: true, signal: controller.signal });
    return controller;
  }

  async function reportFraud(request: PushRequest, device: MobileDevice): Promise<void> {
    const user = await users.getUser(request.userId);
    const blocked = settings.fraudBlock && user !== undefined;
    if (user && blocked) {
      await users.updateUser(user.id, { status: 'blocked' }, clock.now());
      await deps.sessions.revokeUser(user.username);
    }
    // The user's other pending requests are the attacker's too.
    for (const other of await requests.listPendingPushRequests(request.userId, clock.now()))
      await settle(other, 'cancelled', 'fraud_reported', null);
    await record(request, 'auth.fraud_report', 'failure', blocked ? 'user_blocked' : 'reported', {
      deviceId: device.id,
    });
    await deps.notifier
      .fraudReported({
        at: clock.now(),
        username: request.username,
        displayName: user?.displayName ?? null,
        application: request.application,
        clientAddress: request.clientAddress,
        channel: request.channel,
        requestId: request.id,
        blocked,
      })
      .catch((error: unknown) => deps.warn('fraud notification failed', { error: toMfaError(error).detail }));
  }

  /** The decision a valid answer leads to: approve needs the right number (and the PIN in PIN mode). */
  async function judge(
    request: PushRequest,
    decision: AnswerDecision,
    number: unknown,
    pin: unknown,
  ): Promise<AnswerOutcome> {
    if (decision === 'deny') return { state: 'denied', reason: 'user' };
    if (decision === 'fraud') return { state: 'fraud', reason: 'user' };
    if (request.numberMatching && number !== request.number)
      return { state: 'denied', reason: 'wrong_number' };
    if (request.pinRequired) {
      const user = await users.getUser(request.userId);
      const ok =
        typeof pin === 'string' &&
        pin.length <= 64 &&
        user?.pinHash != null &&
        (await deps.hasher.verify(pin, user.pinHash));
      if (!ok) return { state: 'denied', reason: 'wrong_pin' };
    }
    return { state: 'approved', reason: null };
  }

  /**
   * The phone's answer: a JWS by a device of the request's user over the request id, the decision,
   * the chosen number and the request's nonce. Settles the request once; a replay, a late answer or
   * one signed by another device changes nothing.
   */
  async function answer(requestId: string, token: unknown, ctx: RequestContext): Promise<AnswerOutcome> {
    const { device, payload } = await verifyDeviceSignature(token, ANSWER_TYPE, devices);
    const request = await requests.getPushRequest(requestId);
    if (!request || request.userId !== device.userId || payload.rid !== request.id)
      throw new MfaError('mobile.device_unknown', { detail: 'answer for a request of another user or id' });
    if (typeof payload.nonce !== 'string' || !constantTimeEqual(payload.nonce, request.nonce))
      throw new MfaError('mobile.device_unknown', { detail: 'wrong nonce' });
    const decision = DECISIONS.find((d) => d === payload.decision);
    if (!decision) throw new MfaError('input.invalid', { field: 'decision' });
    if (request.state !== 'pending') throw new MfaError('mobile.request_answered');
    if (request.expiresAt <= clock.now()) {
      await settle(request, 'expired', null, null);
      throw new MfaError('mobile.request_expired');
    }
    const outcome = await judge(request, decision, payload.number, payload.pin);
    if (!(await settle(request, outcome.state, outcome.reason, device.id)))
      throw new MfaError('mobile.request_answered');
    await devices.touchMobileDevice(device.id, clock.now());
    const approved = outcome.state === 'approved';
    await record(
      request,
      'auth.push_answer',
      approved ? 'success' : 'failure',
      outcome.reason ?? outcome.state,
      {
        deviceId: device.id,
        answeredFrom: ctx.clientAddress,
      },
    );
    // A wrong number or PIN is a guess at the second factor: it counts towards the lockout.
    if (outcome.reason === 'wrong_number' || outcome.reason === 'wrong_pin')
      // Against the sign-in's place, not the phone's network (the phone is the user's, not a guesser).
      await regulator.recordFailure(request.username, {
        channel: request.channel,
        clientAddress: request.clientAddress,
        ...(request.application ? { application: request.application } : {}),
      });
    if (outcome.state === 'fraud') await reportFraud(request, device);
    return outcome;
  }

  /** The app's Web Push subscription (or none): an https endpoint and the RFC 8291 keys. */
  async function subscribe(device: MobileDevice, input: unknown): Promise<void> {
    if (input === null) return devices.setPushSubscription(device.id, null);
    const body = input as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } } | undefined;
    const endpoint = typeof body?.endpoint === 'string' && body.endpoint.length <= 2048 ? body.endpoint : '';
    const url = URL.parse(endpoint);
    if (url?.protocol !== 'https:' && !(url?.protocol === 'http:' && settings.allowInsecurePushEndpoints))
      throw new MfaError('input.invalid', { field: 'endpoint', detail: 'an https URL' });
    const { p256dh, auth } = body?.keys ?? {};
    if (typeof p256dh !== 'string' || !/^[A-Za-z0-9_-]{87}$/.test(p256dh))
      throw new MfaError('input.invalid', { field: 'keys.p256dh' });
    if (typeof auth !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(auth))
      throw new MfaError('input.invalid', { field: 'keys.auth' });
    const subscription: PushSubscriptionKeys = { endpoint, p256dh, auth };
    await devices.setPushSubscription(device.id, subscription);
  }

  /** The app removes its own account: the device key is proof enough to give up the device. */
  async function forgetDevice(device: MobileDevice, ctx: RequestContext): Promise<void> {
    const user = await users.getUser(device.userId);
    await deps.factors.removeFactor(device.userId, device.factorId);
    await audit.record({
      at: clock.now(),
      type: 'enrollment.mobile_removed',
      outcome: 'success',
      channel: ctx.channel,
      username: user?.username ?? null,
      clientAddress: ctx.clientAddress,
      reason: 'removed_on_device',
      actor: user?.username ?? null,
      application: ctx.application ?? null,
      details: { deviceId: device.id },
    });
  }

  return {
    claim: requests.claimPushRequest,
    subscribe,
    forgetDevice,
    available,
    open,
    stateOf,
    waitForAnswer,
    cancelFor,
    authenticateDevice,
    requestsForDevice,
    answer,
    get: requests.getPushRequest,
  };
}

export type PushApprovals = ReturnType<typeof createPushApprovals>;

// The one catalogue of errors. Every adapter maps it in exactly one place: HTTP reads `httpStatus`,
// RADIUS reads `radius`, the CLI prints `message`. `expose: false` means the client sees only the
// generic message of its status, while logs and the audit log keep the code and the detail.

export type RadiusOutcome = 'reject' | 'drop';

interface ErrorSpec {
  httpStatus: number;
  radius: RadiusOutcome;
  expose: boolean;
  message: string;
}

/** What every failed sign-in looks like from outside, whatever the reason. */
export const SIGN_IN_FAILED = 'Sign-in failed.';

export const ERROR_CATALOGUE = {
  'auth.invalid_credentials': { httpStatus: 401, radius: 'reject', expose: true, message: SIGN_IN_FAILED },
  'auth.required': {
    httpStatus: 401,
    radius: 'reject',
    expose: true,
    message: 'Sign in first.',
  },
  'auth.locked': { httpStatus: 401, radius: 'reject', expose: false, message: 'The account is locked.' },
  'auth.user_disabled': {
    httpStatus: 401,
    radius: 'reject',
    expose: false,
    message: 'The account is disabled.',
  },
  'auth.user_not_enrolled': {
    httpStatus: 401,
    radius: 'reject',
    expose: false,
    message: 'The user is not known to the MFA store.',
  },
  'auth.no_second_factor': {
    httpStatus: 403,
    radius: 'reject',
    expose: true,
    message: 'No second factor is set up for this account.',
  },
  'auth.invalid_code': {
    httpStatus: 401,
    radius: 'reject',
    expose: true,
    message: 'The code was not accepted.',
  },
  'auth.challenge_expired': {
    httpStatus: 401,
    radius: 'reject',
    expose: true,
    message: 'The sign-in took too long. Please start again.',
  },
  'auth.too_many_attempts': {
    httpStatus: 401,
    radius: 'reject',
    expose: false,
    message: 'Too many attempts.',
  },
  'auth.forbidden': {
    httpStatus: 403,
    radius: 'reject',
    expose: true,
    message: 'You do not have permission to do this.',
  },
  'auth.push_pending': {
    httpStatus: 409,
    radius: 'reject',
    expose: true,
    message: 'A sign-in is already waiting for approval on your phone. Answer it or wait until it expires.',
  },
  'auth.push_denied': {
    httpStatus: 401,
    radius: 'reject',
    expose: true,
    message: 'The sign-in was not approved on your phone.',
  },
  'mobile.activation_invalid': {
    httpStatus: 400,
    radius: 'drop',
    expose: true,
    message:
      'The activation code is not valid. Codes work once and for ten minutes: get a new one from the portal.',
  },
  'mobile.too_many_devices': {
    httpStatus: 409,
    radius: 'drop',
    expose: true,
    message: 'This account already has as many mobile devices as allowed. Remove one in the portal first.',
  },
  'mobile.device_unknown': {
    httpStatus: 401,
    radius: 'drop',
    expose: true,
    message: 'This device is not registered. Activate it again from the portal.',
  },
  'mobile.request_answered': {
    httpStatus: 409,
    radius: 'drop',
    expose: true,
    message: 'This request was already answered.',
  },
  'mobile.request_expired': {
    httpStatus: 410,
    radius: 'drop',
    expose: true,
    message: 'This request expired.',
  },
  'enrollment.step_up_required': {
    httpStatus: 403,
    radius: 'reject',
    expose: true,
    message: 'Confirm with your current second factor first.',
  },
  'enrollment.not_allowed': {
    httpStatus: 403,
    radius: 'reject',
    expose: true,
    message: 'Enrollment is not available here. Please contact your help desk.',
  },
  'directory.unavailable': {
    httpStatus: 401,
    radius: 'reject',
    expose: false,
    message: 'The directory is unavailable.',
  },
  'directory.error': { httpStatus: 500, radius: 'reject', expose: false, message: 'The directory failed.' },
  'store.unavailable': {
    httpStatus: 503,
    radius: 'drop',
    expose: false,
    message: 'The store is unavailable.',
  },
  'user.not_found': { httpStatus: 404, radius: 'reject', expose: true, message: 'No such user.' },
  'user.exists': { httpStatus: 409, radius: 'reject', expose: true, message: 'The user already exists.' },
  rate_limited: {
    httpStatus: 429,
    radius: 'drop',
    expose: true,
    message: 'Too many requests. Please wait a minute and try again.',
  },
  not_found: { httpStatus: 404, radius: 'drop', expose: true, message: 'Not found.' },
  'input.invalid': { httpStatus: 400, radius: 'drop', expose: true, message: 'The input is not valid.' },
  'config.invalid': {
    httpStatus: 500,
    radius: 'drop',
    expose: false,
    message: 'The configuration is not valid.',
  },
  internal: { httpStatus: 500, radius: 'reject', expose: false, message: 'Internal error.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The message a client may see for each HTTP status when the error itself is not exposed. */
const GENERIC_BY_STATUS: Record<number, string> = {
  400: 'The input is not valid.',
  401: SIGN_IN_FAILED,
  403: 'Forbidden.',
  404: 'Not found.',
  409: 'Conflict.',
  503: 'Service unavailable.',
};

export class MfaError extends Error {
  readonly code: ErrorCode;
  /** Operator-facing detail: logged and audited, never sent to a client. */
  readonly detail: string | undefined;
  /** For `input.invalid`: the failing field path, safe to show. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, options: { detail?: string; field?: string; cause?: unknown } = {}) {
    super(
      options.detail ? `${ERROR_CATALOGUE[code].message} ${options.detail}` : ERROR_CATALOGUE[code].message,
      {
        cause: options.cause,
      },
    );
    this.name = 'MfaError';
    this.code = code;
    this.detail = options.detail;
    this.field = options.field;
  }

  get spec(): ErrorSpec {
    return ERROR_CATALOGUE[this.code];
  }

  /** What a client is told: the catalogue message when exposed, otherwise the generic one for the status. */
  get publicMessage(): string {
    const spec = this.spec;
    if (spec.expose) return this.field ? `${spec.message} (${this.field})` : spec.message;
    return GENERIC_BY_STATUS[spec.httpStatus] ?? 'Internal error.';
  }
}

export function isMfaError(error: unknown, code?: ErrorCode): error is MfaError {
  return error instanceof MfaError && (code === undefined || error.code === code);
}

/** Anything that is not one of ours becomes `internal`, so callers never have to guess. */
export function toMfaError(error: unknown): MfaError {
  if (error instanceof MfaError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new MfaError('internal', { detail, cause: error });
}

// The configuration schema: one typebox definition per section, each option documented next to
// its default. Every object is closed (unknown keys are errors). Secrets are marked with
// `x-secret` so that the loader resolves `env:` / `file:` references and the demo-secret guard
// can find them without a second list.
import Type, { type Static } from 'typebox';

const closed = { additionalProperties: false } as const;

/** A secret: inline, `env:NAME` or `file:PATH`. Resolved at load; never logged. */
export const Secret = (options: { description: string; minLength?: number }) =>
  Type.String({ ...options, minLength: 1, 'x-secret': true });

const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Duration = (description: string, def: number) =>
  Type.Integer({ minimum: 0, default: def, description });

export const ListenerSchema = Type.Object(
  {
    /** Address to bind: an IP literal (127.0.0.1, ::1, 0.0.0.0, ::) or a host name. */
    host: Type.String({ minLength: 1, description: 'address to bind' }),
    port: Port,
    /** Serve HTTPS with this certificate and key (PEM files). Without it the listener is plain HTTP. */
    tls: Type.Optional(
      Type.Object(
        {
          certFile: Type.String({ minLength: 1 }),
          keyFile: Type.String({ minLength: 1 }),
          /**
           * Mutual TLS: client certificates signed by this CA (PEM) are verified and identify SDK
           * service accounts. A certificate is asked for, not required: other callers use tokens.
           */
          clientCaFile: Type.Optional(Type.String({ minLength: 1 })),
        },
        closed,
      ),
    ),
    /** A plain listener that only redirects to HTTPS on this port (the browser keeps the host name). */
    redirectToHttpsPort: Type.Optional(Port),
  },
  closed,
);

export const ServerSchema = Type.Object(
  {
    /** HTTP listeners of the public service (gateway, portal, SDK, mobile). */
    listen: Type.Array(ListenerSchema, { minItems: 1, default: [{ host: '127.0.0.1', port: 8080 }] }),
    /** The URL users reach the service by; used in links, QR codes and return-URL checks. */
    publicUrl: Type.String({ format: 'uri', default: 'http://127.0.0.1:8080' }),
    /** Proxies whose X-Forwarded-For is believed (IPs or CIDRs). None by default. */
    trustedProxies: Type.Array(Type.String(), { default: [] }),
  },
  { ...closed, default: {} },
);

export const StoreSchema = Type.Object(
  {
    driver: Type.Enum(['sqlite'], { default: 'sqlite', description: 'sqlite (PostgreSQL comes later)' }),
    sqlite: Type.Object(
      {
        /** Database file; its folder is created. Relative paths are relative to the working directory. */
        path: Type.String({ minLength: 1, default: 'data/mfa-gateway.db' }),
        /** How long a writer waits for a lock held by another process, in milliseconds. */
        busyTimeoutMs: Duration('busy timeout', 5000),
      },
      { ...closed, default: {} },
    ),
    /** 32 bytes as base64 or hex (`mfa-gateway secrets generate`): encrypts TOTP seeds and device keys. */
    encryptionKey: Secret({ description: 'AES-256-GCM key for secrets at rest (32 bytes, base64 or hex)' }),
  },
  closed,
);

export const UsersFileSchema = Type.Object(
  {
    /** YAML file of users with scrypt password hashes (`mfa-gateway users hash-password`). */
    path: Type.String({ minLength: 1 }),
  },
  closed,
);

export const LdapSchema = Type.Object(
  {
    /** Tried in order; `ldap://` (optionally with startTls) or `ldaps://`. */
    servers: Type.Array(Type.String({ pattern: '^ldaps?://' }), { minItems: 1 }),
    startTls: Type.Boolean({ default: false }),
    /** PEM file of the CA that signed the directory's certificate (LDAPS and StartTLS). */
    caFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Name checked in the server certificate; defaults to the host of each server URL. */
    tlsServerName: Type.Optional(Type.String({ minLength: 1 })),
    /** The service account used for searches. */
    bindDn: Type.String({ minLength: 1 }),
    bindPassword: Secret({ description: 'password of the service account' }),
    /** Where users are searched. */
    baseDn: Type.String({ minLength: 1 }),
    /** Attribute matched against the typed username: sAMAccountName, userPrincipalName, uid or mail. */
    usernameAttribute: Type.String({ minLength: 1, default: 'sAMAccountName' }),
    /** Extra filter ANDed with the username match, e.g. (objectClass=user). */
    userFilter: Type.String({ default: '(objectClass=person)' }),
    attributes: Type.Object(
      {
        uniqueId: Type.String({
          default: 'objectGUID',
          description: 'objectGUID (AD) or entryUUID (OpenLDAP)',
        }),
        displayName: Type.String({ default: 'displayName' }),
        email: Type.String({ default: 'mail' }),
        phones: Type.Array(Type.String(), { default: ['mobile', 'telephoneNumber'] }),
        memberOf: Type.String({ default: 'memberOf' }),
      },
      { ...closed, default: {} },
    ),
    groups: Type.Object(
      {
        /** memberOf: read the user's attribute; search: find groups whose member is the user's DN. */
        mode: Type.Enum(['memberOf', 'search'], { default: 'memberOf' }),
        baseDn: Type.Optional(Type.String({ minLength: 1 })),
        /** For `search`: `{dn}` is replaced by the user's escaped DN. */
        filter: Type.String({ default: '(member={dn})' }),
        nameAttribute: Type.String({ default: 'cn' }),
      },
      { ...closed, default: {} },
    ),
    connectTimeoutMs: Duration('TCP/TLS connect timeout per server', 5000),
    timeoutMs: Duration('timeout of each LDAP operation', 10000),
    /** What `mfa-gateway import` reads when given no options. */
    import: Type.Object(
      {
        baseDn: Type.Optional(Type.String({ minLength: 1 })),
        filter: Type.Optional(Type.String({ minLength: 1 })),
        group: Type.Optional(Type.String({ minLength: 1 })),
      },
      { ...closed, default: {} },
    ),
  },
  closed,
);

export const DirectorySchema = Type.Object(
  {
    type: Type.Enum(['file', 'ldap']),
    file: Type.Optional(UsersFileSchema),
    ldap: Type.Optional(LdapSchema),
  },
  closed,
);

export const AuthSchema = Type.Object(
  {
    /** Users the store does not know: `reject`, or `primary-only` (pass on the password alone, for rollout). */
    requireUserMatch: Type.Enum(['reject', 'primary-only'], { default: 'reject' }),
    /** Failed password checks are answered no sooner than this, so unknown user and wrong password take equal time. */
    primaryMinDurationMs: Duration('floor of a failed primary check', 300),
    totp: Type.Object(
      {
        issuer: Type.String({ minLength: 1, default: 'mfa-gateway' }),
        algorithm: Type.Enum(['sha1', 'sha256', 'sha512'], { default: 'sha1' }),
        digits: Type.Union([Type.Literal(6), Type.Literal(7), Type.Literal(8)], { default: 6 }),
        period: Type.Integer({ minimum: 15, maximum: 120, default: 30 }),
        /** Steps accepted either side of now (1 = ±30 s with the default period). */
        window: Type.Integer({ minimum: 0, maximum: 3, default: 1 }),
      },
      { ...closed, default: {} },
    ),
    challenge: Type.Object(
      {
        ttlSeconds: Type.Integer({ minimum: 10, maximum: 3600, default: 300 }),
        maxAttempts: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
      },
      { ...closed, default: {} },
    ),
  },
  { ...closed, default: {} },
);

const Limit = (maxFailures: number, windowSeconds: number, banSeconds: number) =>
  Type.Object(
    {
      maxFailures: Type.Integer({ minimum: 1, default: maxFailures }),
      windowSeconds: Type.Integer({ minimum: 1, default: windowSeconds }),
      banSeconds: Type.Integer({ minimum: 1, default: banSeconds }),
    },
    { ...closed, default: {} },
  );

export const RegulationSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    /** Failures of one user (password or code) before the user is locked. */
    user: Limit(5, 300, 900),
    /** Failures from one client address, whatever the user, before the address is refused. */
    address: Limit(20, 300, 900),
  },
  { ...closed, default: {} },
);

export const LogSchema = Type.Object(
  {
    level: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  },
  { ...closed, default: {} },
);

export const POLICIES = ['bypass', 'one_factor', 'two_factor', 'deny'] as const;
export const APP_AUTH_MODES = ['form', 'basic', 'form-intercept'] as const;

const Networks = (description: string) =>
  Type.Array(Type.String({ minLength: 1 }), { default: [], description });

export const AppSchema = Type.Object(
  {
    /** Shown in audit events, pages and the explain output. */
    name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$' }),
    match: Type.Object(
      {
        /** Host names (lower case; `name:port` to match one port only). Empty: any host. */
        hosts: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
        /** Matches this path and everything below it, on a segment boundary (`/app` matches `/app/x`, not `/apple`). */
        pathPrefix: Type.String({ pattern: '^/', default: '/' }),
      },
      { ...closed, default: {} },
    ),
    /** Where allowed requests go: `http(s)://host:port` with an optional base path. Not needed for `deny`. */
    upstream: Type.Optional(Type.String({ pattern: '^https?://' })),
    policy: Type.Enum(POLICIES, { default: 'two_factor' }),
    /** When either list is set, only these users (names) or members of these groups may use the app. */
    users: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    groups: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** Networks (IPs or CIDRs) whose requests need fewer factors, on top of `gateway.trustedNetworks`. */
    trustedNetworks: Networks('per-app trusted networks'),
    /** What a trusted network skips: `second_factor` (the password is still asked) or `both`. */
    trustedNetworkSkips: Type.Enum(['second_factor', 'both'], { default: 'second_factor' }),
    /** `form`: the gateway's sign-in pages; `basic`: HTTP Basic; `form-intercept`: the app's own login form. */
    auth: Type.Enum(APP_AUTH_MODES, { default: 'form' }),
    /** Identity headers added for the app. Client-sent copies are always removed. */
    headers: Type.Object(
      {
        user: Type.String({ minLength: 1, default: 'Remote-User' }),
        groups: Type.String({ minLength: 1, default: 'Remote-Groups' }),
        email: Type.String({ minLength: 1, default: 'Remote-Email' }),
        name: Type.String({ minLength: 1, default: 'Remote-Name' }),
      },
      { ...closed, default: {} },
    ),
    /** Send the app the client's Host header (true) or the upstream's. */
    preserveHost: Type.Boolean({ default: true }),
    /** Basic mode: pass the client's Authorization header upstream (off: the app never sees the password). */
    passAuthorization: Type.Boolean({ default: false }),
    /** Tunnel WebSocket and other upgrades to the app after the same session check. */
    websocket: Type.Boolean({ default: true }),
    /** For `auth: form-intercept`: the app's login form submission. */
    formIntercept: Type.Optional(
      Type.Object(
        {
          path: Type.String({ pattern: '^/' }),
          method: Type.Enum(['POST', 'GET'], { default: 'POST' }),
          usernameField: Type.String({ minLength: 1, default: 'username' }),
          passwordField: Type.String({ minLength: 1, default: 'password' }),
        },
        closed,
      ),
    ),
  },
  closed,
);

export const GatewaySchema = Type.Object(
  {
    /** Protected apps, evaluated in order: the first match wins, no match is denied. */
    apps: Type.Array(AppSchema, { default: [] }),
    /** Azure's "Trusted IPs": requests from these networks skip the second factor on every app. */
    trustedNetworks: Networks('trusted networks for every app'),
    /** A user in the store with no second factor: `enroll` sends them to /enroll, `deny` shows the denial page. */
    noSecondFactor: Type.Enum(['enroll', 'deny'], { default: 'enroll' }),
    session: Type.Object(
      {
        /** Cookie name; `__Host-` is put in front on HTTPS. */
        cookieName: Type.String({ pattern: '^[A-Za-z0-9_-]+$', default: 'mfa_session' }),
        /** Signed-in users are asked again after this long without a request (sliding). */
        idleTimeoutSeconds: Type.Integer({ minimum: 60, default: 1800 }),
        /** ... and after this long in any case. */
        maxAgeSeconds: Type.Integer({ minimum: 60, default: 43200 }),
        /** Verified sessions kept in memory, so most requests cost no decryption. */
        cacheSize: Type.Integer({ minimum: 0, default: 10000 }),
        /** How long a verified session is trusted before revocations are looked up again (several nodes). */
        revocationCheckSeconds: Type.Integer({ minimum: 0, maximum: 60, default: 5 }),
      },
      { ...closed, default: {} },
    ),
    basic: Type.Object(
      {
        /** Realm of the 401 challenge; the app's name when not set. */
        realm: Type.Optional(Type.String({ minLength: 1 })),
        /** Clients without cookies: successful checks are remembered this long (keyed by a hash of credentials and address). */
        cacheSeconds: Type.Integer({ minimum: 0, maximum: 3600, default: 300 }),
        cacheSize: Type.Integer({ minimum: 0, default: 1000 }),
      },
      { ...closed, default: {} },
    ),
    formIntercept: Type.Object(
      {
        /** Largest login form the gateway holds while the second factor runs. */
        maxBodyBytes: Type.Integer({ minimum: 1024, maximum: 1048576, default: 65536 }),
        holdSeconds: Type.Integer({ minimum: 30, maximum: 1800, default: 300 }),
        /** Held forms at once; the oldest are dropped beyond it. */
        maxHeld: Type.Integer({ minimum: 1, default: 1000 }),
      },
      { ...closed, default: {} },
    ),
    upstream: Type.Object(
      {
        connectTimeoutMs: Duration('connect timeout to an app', 5000),
        /** No response headers within this long: 504. */
        timeoutMs: Duration('response timeout of an app', 60000),
      },
      { ...closed, default: {} },
    ),
    /** An HTML file shown instead of the built-in denial page. */
    denialPage: Type.Optional(Type.String({ minLength: 1 })),
  },
  { ...closed, default: {} },
);

export const PORTAL_METHODS = ['totp', 'push', 'sms', 'voice'] as const;
export const ADMIN_PERMISSIONS = ['users:read', 'users:write', 'bypass', 'enrollment', 'audit'] as const;
export const FIRST_ENROLLMENT_POLICIES = ['password', 'trusted-networks', 'window'] as const;

const LocalisedText = Type.Record(
  Type.String({ pattern: '^[a-z]{2}(-[A-Z]{2})?$' }),
  Type.String({ minLength: 1 }),
);

/** The administrator's security questions; `id` is stored with each answer, so keep it stable. */
export const DEFAULT_SECURITY_QUESTIONS = [
  {
    id: 'first-pet',
    text: { en: 'What was the name of your first pet?', de: 'Wie hieß Ihr erstes Haustier?' },
  },
  {
    id: 'birth-city',
    text: { en: 'In which city were you born?', de: 'In welcher Stadt sind Sie geboren?' },
  },
  {
    id: 'first-school',
    text: { en: 'What was the name of your first school?', de: 'Wie hieß Ihre erste Schule?' },
  },
  {
    id: 'childhood-friend',
    text: {
      en: 'What is the first name of your best childhood friend?',
      de: 'Wie lautet der Vorname Ihres besten Kindheitsfreundes?',
    },
  },
  {
    id: 'first-car',
    text: { en: 'What was the make of your first car?', de: 'Welche Marke hatte Ihr erstes Auto?' },
  },
  {
    id: 'mother-birthplace',
    text: { en: 'In which town was your mother born?', de: 'In welchem Ort wurde Ihre Mutter geboren?' },
  },
  {
    id: 'first-job',
    text: { en: 'What was your first job?', de: 'Was war Ihre erste Arbeitsstelle?' },
  },
  {
    id: 'favourite-teacher',
    text: {
      en: 'What was the surname of your favourite teacher?',
      de: 'Wie lautete der Nachname Ihrer Lieblingslehrkraft?',
    },
  },
];

export const PortalSchema = Type.Object(
  {
    /** Azure's "Allow log in": users may sign in to /enroll at all. */
    allowLogin: Type.Boolean({ default: true }),
    enrollment: Type.Object(
      {
        /** Users without a second factor may enrol one themselves. */
        allow: Type.Boolean({ default: true }),
        /**
         * Who may enrol a first factor: `password` (the directory password is enough), `trusted-networks`
         * (only from `portal.trustedNetworks`), `window` (only inside an administrator's enrollment window).
         */
        firstEnrollment: Type.Enum(FIRST_ENROLLMENT_POLICIES, { default: 'password' }),
        /** Ask for a backup phone number in the wizard. */
        promptBackupPhone: Type.Boolean({ default: true }),
        /** Offer to register a third-party OATH token (its base32 secret) instead of a new app seed. */
        promptOathToken: Type.Boolean({ default: false }),
        /** Ask for phone numbers in the wizard (kept for SMS and voice). */
        promptPhone: Type.Boolean({ default: true }),
      },
      { ...closed, default: {} },
    ),
    /** Methods users may choose; the first is the default. `push` needs `mobileApp.allow`; sms and voice need later providers. */
    methods: Type.Array(Type.Enum(PORTAL_METHODS), { minItems: 1, uniqueItems: true, default: ['totp'] }),
    /** Azure's "Allow users to select method". */
    allowSelectMethod: Type.Boolean({ default: true }),
    /** Azure's "Allow users to select language". */
    allowSelectLanguage: Type.Boolean({ default: true }),
    /** Language of users who chose none and whose browser asks for none we have. */
    defaultLanguage: Type.String({ pattern: '^[a-z]{2}$', default: 'en' }),
    userBypass: Type.Object(
      {
        /** Azure's "Allow user one-time bypass". */
        allow: Type.Boolean({ default: true }),
        defaultSeconds: Type.Integer({ minimum: 30, default: 300 }),
        maxSeconds: Type.Integer({ minimum: 30, maximum: 86400, default: 900 }),
      },
      { ...closed, default: {} },
    ),
    mobileApp: Type.Object(
      {
        /** Azure's "Allow mobile app activation": runs the mobile service and its web authenticator. */
        allow: Type.Boolean({ default: false }),
        maxDevices: Type.Integer({ minimum: 1, maximum: 10, default: 1 }),
      },
      { ...closed, default: {} },
    ),
    pin: Type.Object(
      {
        /** PIN mode: users set a PIN in the wizard (asked by the mobile app before approving). */
        required: Type.Boolean({ default: false }),
        minLength: Type.Integer({ minimum: 4, maximum: 10, default: 4 }),
        maxLength: Type.Integer({ minimum: 4, maximum: 16, default: 8 }),
      },
      { ...closed, default: {} },
    ),
    securityQuestions: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        /** How many questions each user picks and answers when enrolling. */
        count: Type.Integer({ minimum: 1, maximum: 10, default: 4 }),
        /** How many of them must be answered correctly to sign in with them instead of the factor. */
        answersRequired: Type.Integer({ minimum: 1, maximum: 10, default: 2 }),
        questions: Type.Array(
          Type.Object({ id: Type.String({ pattern: '^[a-z0-9-]{1,40}$' }), text: LocalisedText }, closed),
          { minItems: 1, default: DEFAULT_SECURITY_QUESTIONS },
        ),
      },
      { ...closed, default: {} },
    ),
    /** Offer an authenticator code when the user's method (push, phone) is unavailable. */
    oathFallback: Type.Boolean({ default: true }),
    /** Sign-in to the portal from these networks skips the second factor (changes still need a step-up). */
    trustedNetworks: Networks('portal trusted networks'),
    /** A sensitive change (re-enrolling, removing a device) needs the second factor within this long. */
    stepUpSeconds: Type.Integer({ minimum: 30, maximum: 3600, default: 300 }),
    session: Type.Object(
      {
        cookieName: Type.String({ pattern: '^[A-Za-z0-9_-]+$', default: 'mfa_portal' }),
        idleTimeoutSeconds: Type.Integer({ minimum: 60, default: 900 }),
        maxAgeSeconds: Type.Integer({ minimum: 60, default: 28800 }),
      },
      { ...closed, default: {} },
    ),
    /** Form posts per client address per minute, on top of the core's per-user lockout. */
    rateLimitPerMinute: Type.Integer({ minimum: 1, default: 60 }),
    /** Members of these directory groups administer users at /enroll/admin, with these permissions. */
    admins: Type.Array(
      Type.Object(
        {
          group: Type.String({ minLength: 1 }),
          permissions: Type.Array(Type.Enum(ADMIN_PERMISSIONS), { minItems: 1, uniqueItems: true }),
        },
        closed,
      ),
      { default: [] },
    ),
  },
  { ...closed, default: {} },
);

export const MobileSchema = Type.Object(
  {
    /** How long a push request waits for the phone before it expires. */
    requestTtlSeconds: Type.Integer({ minimum: 15, maximum: 600, default: 120 }),
    /** PIN mode: users who have a PIN (`portal.pin`) type it in the app before approving. */
    requirePin: Type.Boolean({ default: false }),
    /** How long an activation code from the portal stays valid. */
    activationTtlSeconds: Type.Integer({ minimum: 60, maximum: 3600, default: 600 }),
    /** Out of band (apps in Basic mode): how long a request holds for the phone. RADIUS clients have their own. */
    outOfBandWaitSeconds: Type.Integer({ minimum: 5, maximum: 300, default: 55 }),
    fraud: Type.Object(
      {
        /** "Deny and report fraud" blocks the user until an administrator unblocks them. */
        block: Type.Boolean({ default: true }),
      },
      { ...closed, default: {} },
    ),
    /** Web Push (VAPID) wakes a closed web authenticator; without it the open app long-polls. */
    webPush: Type.Object(
      {
        enabled: Type.Boolean({ default: false }),
        /** Contact for push services (RFC 8292): `mailto:` or `https:`. */
        subject: Type.String({
          pattern: '^(mailto:|https://)',
          default: 'mailto:mfa-admins@example.invalid',
        }),
        /** base64url P-256 public key (`mfa-gateway secrets generate --vapid`). */
        publicKey: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{87}$' })),
        privateKey: Type.Optional(Secret({ description: 'VAPID private key (base64url)' })),
      },
      { ...closed, default: {} },
    ),
    /** How often a waiting sign-in looks in the store for an answer given on another node. */
    storeRecheckMs: Type.Integer({ minimum: 0, maximum: 60000, default: 2000 }),
  },
  { ...closed, default: {} },
);

export const NotificationsSchema = Type.Object(
  {
    /** Fraud alerts by e-mail to administrators. */
    smtp: Type.Optional(
      Type.Object(
        {
          host: Type.String({ minLength: 1 }),
          port: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
          /** Implicit TLS (port 465); otherwise STARTTLS. */
          secure: Type.Boolean({ default: false }),
          /** Refuse to send without STARTTLS. */
          requireTls: Type.Boolean({ default: true }),
          username: Type.Optional(Type.String({ minLength: 1 })),
          password: Type.Optional(Secret({ description: 'SMTP password' })),
          from: Type.String({ minLength: 3 }),
          to: Type.Array(Type.String({ minLength: 3 }), { minItems: 1 }),
        },
        closed,
      ),
    ),
    /** Fraud alerts as a signed JSON POST (`x-mfa-signature: sha256=HMAC(secret, timestamp.body)`). */
    webhook: Type.Optional(
      Type.Object(
        {
          url: Type.String({ format: 'uri' }),
          secret: Secret({
            description: 'webhook HMAC secret (long and random: mfa-gateway secrets generate)',
          }),
          timeoutSeconds: Type.Integer({ minimum: 1, maximum: 60, default: 5 }),
        },
        closed,
      ),
    ),
  },
  { ...closed, default: {} },
);

export const RADIUS_MODES = ['challenge', 'out-of-band', 'append', 'auto'] as const;

export const RadiusReplyAttributeSchema = Type.Object(
  {
    /** A dictionary name: Class, Filter-Id, Session-Timeout, MS-*, Citrix-* (see the README). */
    attribute: Type.String({ minLength: 1 }),
    /** Integers as numbers, addresses and strings as text, octets as `0x...` hex. */
    value: Type.Union([Type.String(), Type.Integer()]),
    /** Only for members of one of these directory groups; empty: everyone this client accepts. */
    groups: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  },
  closed,
);

export const RadiusClientSchema = Type.Object(
  {
    /** Shown in logs and audit events. */
    name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$' }),
    /** The NAS's source address: an IP or a CIDR; the most specific client wins. */
    address: Type.String({ minLength: 1 }),
    /** The shared secret: at least 16 characters; `env:` or `file:` keeps it out of the file. */
    secret: Secret({ description: 'RADIUS shared secret (mfa-gateway secrets generate)' }),
    /** `challenge` (NetScaler), `out-of-band` (RRAS/NPS), `append` (password,code) or `auto`. */
    mode: Type.Enum(RADIUS_MODES),
    /** Shown on the phone and in the audit log; the client's name when not set. */
    application: Type.Optional(Type.String({ minLength: 1 })),
    /** Drop Access-Requests without a valid Message-Authenticator (BlastRADIUS). */
    requireMessageAuthenticator: Type.Boolean({ default: true }),
    /** Users the store does not know; `auth.requireUserMatch` when not set. */
    requireUserMatch: Type.Optional(Type.Enum(['reject', 'primary-only'])),
    /** Accept an authenticator code from users whose method is push. */
    oathFallback: Type.Boolean({ default: true }),
    /** `open`: when the second factor cannot be asked for (the store is down), the password alone is accepted and audited. */
    failmode: Type.Enum(['closed', 'open'], { default: 'closed' }),
    challenge: Type.Object(
      {
        /** The prompt of the Access-Challenge (at most 253 bytes). */
        replyMessage: Type.String({
          minLength: 1,
          default: 'Enter the code from your authenticator app, or type push to approve on your phone.',
        }),
        /** How long the State of a challenge stays valid. */
        ttlSeconds: Type.Integer({ minimum: 10, maximum: 600, default: 120 }),
      },
      { ...closed, default: {} },
    ),
    /** How long an out-of-band request waits for the phone (the NAS's own timeout must be longer). */
    outOfBandWaitSeconds: Type.Integer({ minimum: 5, maximum: 300, default: 55 }),
    append: Type.Object(
      {
        /** Between the password and the code (`password,123456`); empty: the code is the last digits. */
        delimiter: Type.String({ maxLength: 1, default: ',' }),
      },
      { ...closed, default: {} },
    ),
    /** Accept the same user, password and client again within this long without a second factor (0: off). */
    reauthSeconds: Type.Integer({ minimum: 0, maximum: 86400, default: 0 }),
    /** Added to Access-Accept, in order. */
    replyAttributes: Type.Array(RadiusReplyAttributeSchema, { default: [] }),
  },
  closed,
);

export const RadiusSchema = Type.Object(
  {
    /** UDP listeners; none start while `clients` is empty. */
    listen: Type.Array(
      Type.Object(
        {
          host: Type.String({ minLength: 1, description: 'address to bind' }),
          /** Access-Request and Status-Server. */
          authPort: Type.Integer({ minimum: 1, maximum: 65535, default: 1812 }),
          /** Accounting-Request (answered, not stored); 0: no accounting port. */
          accountingPort: Type.Integer({ minimum: 0, maximum: 65535, default: 1813 }),
        },
        closed,
      ),
      { default: [{ host: '127.0.0.1', authPort: 1812, accountingPort: 1813 }] },
    ),
    clients: Type.Array(RadiusClientSchema, { default: [] }),
    /** Answers replayed to retransmits (RFC 5080). */
    duplicateCacheSeconds: Type.Integer({ minimum: 1, maximum: 300, default: 30 }),
  },
  { ...closed, default: {} },
);

export const SdkSchema = Type.Object(
  {
    /** The SDK at /sdk/v1 (service accounts: `mfa-gateway accounts create`). */
    enabled: Type.Boolean({ default: true }),
    /** Calls per service account per minute. */
    rateLimitPerMinute: Type.Integer({ minimum: 1, default: 600 }),
  },
  { ...closed, default: {} },
);

export const ROLES = ['internal', 'edge'] as const;

export const EdgeSchema = Type.Object(
  {
    /** The internal node's SDK, e.g. https://mfa-internal.corp.example:8443/sdk/v1. */
    sdkUrl: Type.String({ format: 'uri', description: 'URL of the internal node SDK (/sdk/v1)' }),
    /** The CA (PEM) that signed the internal node's certificate: the only one trusted on this connection. */
    caFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Client certificate and key (PEM) of the edge's service account (mutual TLS). */
    clientCertFile: Type.Optional(Type.String({ minLength: 1 })),
    clientKeyFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Or the service account's token (`mfa-gateway accounts create`), sent as a bearer token. */
    token: Type.Optional(Secret({ description: 'SDK token of the edge service account' })),
    /** 32 bytes as base64 or hex: signs and encrypts this edge's session cookies (the same on every edge node). */
    sessionKey: Secret({ description: 'session cookie key of the edge nodes (32 bytes, base64 or hex)' }),
    /** How long one call to the internal node may take (long polls add their own wait). */
    timeoutSeconds: Type.Integer({ minimum: 1, maximum: 120, default: 15 }),
  },
  closed,
);

export const ConfigSchema = Type.Object(
  {
    /**
     * `internal`: the node with the directory and the store. `edge`: a DMZ node without either,
     * serving the portal, the mobile service and the gateway through the internal node's SDK.
     */
    role: Type.Enum(ROLES, { default: 'internal' }),
    edge: Type.Optional(EdgeSchema),
    server: ServerSchema,
    store: Type.Optional(StoreSchema),
    directory: Type.Optional(DirectorySchema),
    auth: AuthSchema,
    gateway: GatewaySchema,
    portal: PortalSchema,
    mobile: MobileSchema,
    notifications: NotificationsSchema,
    radius: RadiusSchema,
    sdk: SdkSchema,
    regulation: RegulationSchema,
    log: LogSchema,
  },
  closed,
);

export type Config = Static<typeof ConfigSchema>;
export type LdapConfig = Static<typeof LdapSchema>;
export type UsersFileConfig = Static<typeof UsersFileSchema>;
export type AuthConfig = Static<typeof AuthSchema>;
export type RegulationConfig = Static<typeof RegulationSchema>;
export type StoreConfig = Static<typeof StoreSchema>;
export type DirectoryConfig = Static<typeof DirectorySchema>;
export type EdgeConfig = Static<typeof EdgeSchema>;
export type GatewayConfig = Static<typeof GatewaySchema>;
export type PortalConfig = Static<typeof PortalSchema>;
export type MobileConfig = Static<typeof MobileSchema>;
export type NotificationsConfig = Static<typeof NotificationsSchema>;
export type AppConfig = Static<typeof AppSchema>;
export type ListenerConfig = Static<typeof ListenerSchema>;
export type RadiusConfig = Static<typeof RadiusSchema>;
export type RadiusClientConfig = Static<typeof RadiusClientSchema>;

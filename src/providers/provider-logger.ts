// The logger shape the providers write to: pino's `Logger` (and fastify's) fits it, and tests can pass
// a small recorder. Providers log their own failures; they never throw them at a sign-in.

export interface ProviderLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

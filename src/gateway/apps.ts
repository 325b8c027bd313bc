// The protected apps as the gateway uses them: the config entries with their upstream parsed once,
// and the access policy built from them (the rules live in the core; this only maps the config).
import type { AppConfig, GatewayConfig } from '../config/schema.ts';

export interface ProtectedApp {
  index: number;
  config: AppConfig;
  /** `http(s)://host:port`, or undefined for a `deny` app. */
  upstreamOrigin: string | undefined;
  /** The upstream's base path without a trailing slash ('' for none): prefixed to every forwarded path. */
  upstreamBasePath: string;
  /** Lower-case names of the identity headers this app receives. */
  identityHeaders: { user: string; groups: string; email: string; name: string };
}

export function compileApps(gateway: Readonly<GatewayConfig>): ProtectedApp[] {
  return gateway.apps.map((config, index) => {
    const upstream = config.upstream ? new URL(config.upstream) : undefined;
    return {
      index,
      config,
      upstreamOrigin: upstream?.origin,
      upstreamBasePath: upstream ? upstream.pathname.replace(/\/+$/, '') : '',
      identityHeaders: {
        user: config.headers.user.toLowerCase(),
        groups: config.headers.groups.toLowerCase(),
        email: config.headers.email.toLowerCase(),
        name: config.headers.name.toLowerCase(),
      },
    };
  });
}

/** Where a canonical path goes upstream: origin + base path + path + query. */
export function upstreamUrl(app: ProtectedApp, path: string, query: string): string {
  return `${app.upstreamOrigin}${app.upstreamBasePath}${path}${query}`;
}

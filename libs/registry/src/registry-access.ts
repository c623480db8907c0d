import { GatewayConfig, RegistryCredentialConfig } from '@accel/config';
import { UserFacingError } from '@accel/common';
import { Injectable, Optional } from '@nestjs/common';
import { RegistryStore } from './registry-store';

/**
 * How the gateway may reach registries, for preheat and conversion alike: which hosts it may
 * contact (nothing else is fetched: no SSRF through preheat URLs, redirects or token realms),
 * with which credentials, over http or https. Three sources, in order: `registry.*` in the
 * configuration, registries added through the admin API, acceld's `provider.source.<host>`.
 */
@Injectable()
export class RegistryAccess {
  private readonly patterns: RegExp[];

  constructor(
    private readonly config: GatewayConfig,
    @Optional() private readonly store?: RegistryStore,
  ) {
    // Hosts named under provider.source are trusted by that configuration too.
    this.patterns = [...config.registry.allowed, ...Object.keys(config.provider.source)].map((p) => {
      const [host, port] = splitHostPort(p.toLowerCase());
      const re = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
      return new RegExp(`^${re(host)}:${port === undefined ? '(?:443|80)' : re(port)}$`);
    });
  }

  isAllowed(scheme: string, hostPort: string): boolean {
    const [host, port] = splitHostPort(hostPort.toLowerCase());
    const effective = `${host}:${port ?? (scheme === 'http' ? '80' : '443')}`;
    if (this.patterns.some((p) => p.test(effective))) return true;
    // Registries added through the admin API, named exactly (host or host:port).
    return (
      this.store?.get(hostPort) !== undefined ||
      (port === undefined && this.store?.get(`${host}:${scheme === 'http' ? 80 : 443}`) !== undefined)
    );
  }

  assertAllowed(url: string): void {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new UserFacingError(`${JSON.stringify(url)} is not a URL`);
    }
    const scheme = u.protocol.replace(':', '');
    if (scheme !== 'http' && scheme !== 'https') throw new UserFacingError(`scheme ${scheme} is not allowed`);
    if (!this.isAllowed(scheme, u.host)) {
      throw new UserFacingError(`registry ${u.host} is not in the gateway's allowed registries (registry.allowed)`);
    }
  }

  /** Plain HTTP for registries registered (admin API) or configured (`provider.source.<host>.plain_http`) as such. */
  schemeFor(host: string): 'http' | 'https' {
    return this.store?.get(host)?.plainHttp || this.config.provider.source[host.toLowerCase()]?.plain_http
      ? 'http'
      : 'https';
  }

  /** `registry.credentials` first, then acceld's `provider.source.<host>.auth` (base64 of user:password). */
  credentialsFor(host: string): RegistryCredentialConfig | undefined {
    const key = host.toLowerCase();
    const listed = this.config.registry.credentials.find((c) => c.host.toLowerCase() === key);
    if (listed) return listed;
    const stored = this.store?.get(key);
    if (stored)
      return {
        host: key,
        username: stored.username,
        password: stored.password,
        insecure: stored.insecure,
        tokenRealm: stored.tokenRealm || undefined,
      };
    const source = this.config.provider.source[key];
    if (!source) return undefined;
    const decoded = source.auth ? Buffer.from(source.auth, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    return {
      host: key,
      username: colon > 0 ? decoded.slice(0, colon) : undefined,
      password: colon > 0 ? decoded.slice(colon + 1) : undefined,
      insecure: source.insecure,
      tokenRealm: source.token_realm || undefined,
    };
  }
}

function splitHostPort(hp: string): [string, string | undefined] {
  if (hp.startsWith('[')) {
    const end = hp.indexOf(']');
    const rest = hp.slice(end + 1);
    return [hp.slice(0, end + 1), rest.startsWith(':') ? rest.slice(1) : undefined];
  }
  const i = hp.lastIndexOf(':');
  return i === -1 ? [hp, undefined] : [hp.slice(0, i), hp.slice(i + 1)];
}

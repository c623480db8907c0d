import { GatewayConfig } from '@accel/config';
import { UserFacingError } from '@accel/common';
import { Injectable, Optional } from '@nestjs/common';
import { RegistryStore } from './registry-store';

/** The registries the gateway may contact: nothing else is fetched (no SSRF through preheat URLs). */
@Injectable()
export class RegistryAllowList {
  private readonly patterns: RegExp[];

  constructor(
    config: GatewayConfig,
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

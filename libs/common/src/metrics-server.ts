import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { GatewayMetrics } from './metrics';
import { safeEqual } from './safe-equal';

/**
 * `metrics.port`: /metrics alone on its own port (scrape networks are often apart from the API's).
 * With `metrics.token` set it must be presented as a bearer token there too.
 */
export async function serveMetrics(
  metrics: GatewayMetrics,
  opts: { host: string; port: number; token: string },
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const bearer = /^bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (opts.token && !(bearer && safeEqual(bearer, opts.token))) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('unauthorized\n');
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      () => res.writeHead(503).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

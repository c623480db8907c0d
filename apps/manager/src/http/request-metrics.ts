import { GatewayMetrics } from '@accel/common';
import { NextFunction, Request, Response } from 'express';

/** Which caller a path belongs to: Harbor's dialects, acceld's API, the admin console. */
function dialectOf(path: string, conversionPort: boolean): string {
  if (conversionPort) return 'acceld';
  if (path.startsWith('/oapi/v1/jobs')) return 'dragonfly-v2';
  if (path.startsWith('/preheats')) return 'dragonfly-v1';
  if (path.startsWith('/registry/notifications')) return 'kraken';
  if (path.startsWith('/api/')) return 'admin';
  return 'other';
}

/** The credential a refused request presented. */
function authMode(req: Request, conversionPort: boolean): string {
  const authorization = req.headers.authorization ?? '';
  if (/^bearer\s/i.test(authorization)) return 'bearer';
  if (/^basic\s/i.test(authorization)) return 'basic';
  if (authorization) return conversionPort ? 'webhook' : 'other';
  return typeof (req.cookies as Record<string, unknown> | undefined)?.jwt === 'string' ? 'session' : 'none';
}

/**
 * Counts every answer by route pattern (never the raw path: ids and image names would make
 * unbounded labels), caller dialect, method and status; 401/403 also by the credential's mode.
 */
export function requestMetrics(metrics: GatewayMetrics, isConversionApi: (req: Request) => boolean) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const conversion = isConversionApi(req);
      const route = req.route ? `${req.baseUrl}${String((req.route as { path: string }).path)}` : 'unmatched';
      const labels = { route, dialect: dialectOf(req.path, conversion), method: req.method };
      metrics.httpRequests.inc({ ...labels, status: String(res.statusCode) });
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      if (res.statusCode === 401 || res.statusCode === 403)
        metrics.authRefusals.inc({ mode: authMode(req, conversion) });
    });
    next();
  };
}

import { CONVERSION_ROUTE_PREFIXES } from '../../apps/manager/src/conversion/conversion-api.module';
import { TestGateway } from './gateway';

export interface Route {
  method: string;
  /** Express path, e.g. `/api/v1/users/:id`. */
  path: string;
  /** Which listener serves it. */
  port: 'main' | 'conversion';
}

type Layer = { route?: { path: string | string[]; methods: Record<string, boolean> } };

/** Every route the running gateway serves, read from Express's own router (so a new route is always listed). */
export function routeTable(g: TestGateway): Route[] {
  const app = g.manager.app.getHttpAdapter().getInstance() as {
    router?: { stack: Layer[] };
    _router?: { stack: Layer[] };
  };
  const routes: Route[] = [];
  for (const layer of (app.router ?? app._router)!.stack) {
    if (!layer.route) continue;
    for (const path of ([] as string[]).concat(layer.route.path)) {
      for (const method of Object.keys(layer.route.methods)) {
        if (method === '_all') continue;
        const conversion = CONVERSION_ROUTE_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
        routes.push({ method: method.toUpperCase(), path, port: conversion ? 'conversion' : 'main' });
      }
    }
  }
  return routes;
}

/** A concrete URL path for a route: `:id` → `value` (default an id that exists nowhere). */
export const fillPath = (path: string, value = '999999'): string =>
  path.replace(/:(\w+)/g, (_, name: string) =>
    name === 'id' && /conversion-tasks/.test(path) ? '00000000-0000-4000-8000-000000000000' : value,
  );

import { TokenScope } from '@accel/db';
import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

/** Who made a request: recorded on the jobs it creates. */
export interface Actor {
  kind: 'user' | 'token' | 'custom-header' | 'anonymous';
  name: string;
  userId: number;
  role: 'root' | 'guest' | 'none';
  scopes: TokenScope[] | 'all';
}

export const ANONYMOUS: Actor = { kind: 'anonymous', name: 'anonymous', userId: 0, role: 'none', scopes: [] };

/**
 * Which auth mode NONE switch lets anonymous callers reach a route: `legacy` is what Harbor
 * 2.1–2.11 calls (`auth.allowAnonymous`), `job-api` Harbor 2.12+'s create and poll
 * (`auth.allowAnonymousJobApi`). Every other route needs a credential.
 */
export type AnonymousAccess = false | 'legacy' | 'job-api';

export interface AuthRequirement {
  /** Scope a token needs. */
  scope: TokenScope;
  anonymous: AnonymousAccess;
  /** Admin routes: guests may read what is not sensitive; root may do everything. */
  access: 'read' | 'write';
  /** Secrets and who-did-what: root only, even to read. */
  sensitive: boolean;
  /** Also accepts `Bearer <metrics.token>` (Prometheus scraping /metrics). */
  metricsToken?: boolean;
}

export const AUTH_REQUIREMENT = 'accel:auth-requirement';

/** Declares what a controller or route needs; the global guard enforces it (routes without it are public). */
export const RequireAuth = (scope: TokenScope, opts: { anonymous?: AnonymousAccess } = {}) =>
  SetMetadata(AUTH_REQUIREMENT, {
    scope,
    anonymous: opts.anonymous ?? false,
    access: 'write',
    sensitive: false,
  } satisfies AuthRequirement);

/** Admin API, reading: console users (root or guest) and tokens with the `admin` scope. */
export const AdminRead = (opts: { sensitive?: boolean } = {}) =>
  SetMetadata(AUTH_REQUIREMENT, {
    scope: 'admin',
    anonymous: false,
    access: 'read',
    sensitive: opts.sensitive ?? false,
  } satisfies AuthRequirement);

/** /metrics: what AdminRead accepts, and the configured metrics token. */
export const MetricsRead = () =>
  SetMetadata(AUTH_REQUIREMENT, {
    scope: 'admin',
    anonymous: false,
    access: 'read',
    sensitive: false,
    metricsToken: true,
  } satisfies AuthRequirement);

/** Admin API, changing state: root users and admin-scoped tokens of root users. */
export const AdminWrite = () =>
  SetMetadata(AUTH_REQUIREMENT, {
    scope: 'admin',
    anonymous: false,
    access: 'write',
    sensitive: true,
  } satisfies AuthRequirement);

/** Any signed-in identity (console JWT, token of any scope, user): `/users/me` and changing one's own password. */
export const SignedIn = () =>
  SetMetadata(AUTH_REQUIREMENT, {
    scope: 'admin',
    anonymous: false,
    access: 'read',
    sensitive: false,
    any: true,
  } as AuthRequirement);

export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  return (ctx.switchToHttp().getRequest<{ user?: Actor }>().user ?? ANONYMOUS) as Actor;
});

/** Whether an actor's token scopes cover `scope`. An empty scope list allows nothing. */
export const hasScope = (actor: Actor, scope: TokenScope): boolean =>
  actor.scopes === 'all' || actor.scopes.includes(scope);

/** Whether an actor may administer the gateway: a root user, or a root user's token with the `admin` scope. */
export const isAdmin = (actor: Actor): boolean =>
  actor.role === 'root' && (actor.kind === 'user' || (actor.kind === 'token' && hasScope(actor, 'admin')));

/** Whether an actor may change state (guests and their tokens only read). */
export const mayWrite = (actor: Actor): boolean => actor.role !== 'guest';

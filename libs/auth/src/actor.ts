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

export interface AuthRequirement {
  /** Scope a token needs. */
  scope: TokenScope;
  /** May auth mode NONE (anonymous) reach the route when it is switched on? */
  anonymous: boolean;
  /** Admin routes: guests may read what is not sensitive; root may do everything. */
  access: 'read' | 'write';
  /** Secrets and who-did-what: root only, even to read. */
  sensitive: boolean;
}

export const AUTH_REQUIREMENT = 'accel:auth-requirement';

/** Declares what a controller or route needs; the global guard enforces it (routes without it are public). */
export const RequireAuth = (scope: TokenScope, opts: { anonymous?: boolean } = {}) =>
  SetMetadata(AUTH_REQUIREMENT, { scope, anonymous: opts.anonymous ?? false, access: 'write', sensitive: false } satisfies AuthRequirement);

/** Admin API, reading: console users (root or guest) and tokens with the `admin` scope. */
export const AdminRead = (opts: { sensitive?: boolean } = {}) =>
  SetMetadata(AUTH_REQUIREMENT, { scope: 'admin', anonymous: false, access: 'read', sensitive: opts.sensitive ?? false } satisfies AuthRequirement);

/** Admin API, changing state: root users and admin-scoped tokens of root users. */
export const AdminWrite = () => SetMetadata(AUTH_REQUIREMENT, { scope: 'admin', anonymous: false, access: 'write', sensitive: true } satisfies AuthRequirement);

/** Any signed-in identity (console JWT, token, user); used for `/users/me` and password changes. */
export const SignedIn = () => SetMetadata(AUTH_REQUIREMENT, { scope: 'admin', anonymous: false, access: 'read', sensitive: false, any: true } as AuthRequirement);

export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  return (ctx.switchToHttp().getRequest<{ user?: Actor }>().user ?? ANONYMOUS) as Actor;
});

/** Whether an actor's token scopes cover `scope` (an empty scope list allows everything, as in Dragonfly). */
export const hasScope = (actor: Actor, scope: TokenScope): boolean =>
  actor.scopes === 'all' || actor.scopes.length === 0 || actor.scopes.includes(scope);

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
  /** Scope a token needs; users need the root role when the scope is `admin`. */
  scope: TokenScope;
  /** May auth mode NONE (anonymous) reach the route when it is switched on? */
  anonymous: boolean;
}

export const AUTH_REQUIREMENT = 'accel:auth-requirement';

/** Declares what a controller or route needs; the global guard enforces it (routes without it are public). */
export const RequireAuth = (scope: TokenScope, opts: { anonymous?: boolean } = {}) =>
  SetMetadata(AUTH_REQUIREMENT, { scope, anonymous: opts.anonymous ?? false } satisfies AuthRequirement);

export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  return (ctx.switchToHttp().getRequest<{ user?: Actor }>().user ?? ANONYMOUS) as Actor;
});

/** Whether an actor's token scopes cover `scope` (an empty scope list allows everything, as in Dragonfly). */
export const hasScope = (actor: Actor, scope: TokenScope): boolean =>
  actor.scopes === 'all' || actor.scopes.length === 0 || actor.scopes.includes(scope);

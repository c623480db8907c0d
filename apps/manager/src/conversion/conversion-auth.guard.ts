import { Actor, TokenRefused, clientAddress } from '@accel/auth';
import { WebhookEvent, parseWebhook } from '@accel/convert';
import { CanActivate, ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import { Request } from 'express';
import { ConversionAuth } from './conversion-auth.service';

type ConversionRequest = Request & { user?: Actor; webhook?: WebhookEvent };

/** Go's strconv.ParseBool: anything else is false, as acceld reads `sync`. */
export const parseBool = (v: unknown): boolean =>
  typeof v === 'string' && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v);

/** Records who called (a refused token included) for the audit trail. */
async function identify(req: ConversionRequest, auth: () => Promise<Actor>): Promise<void> {
  try {
    req.user = await auth();
  } catch (e) {
    if (e instanceof TokenRefused) req.user = e.actor;
    throw e;
  }
}

/** The task list: a gateway identity with the `conversion` scope. */
@Injectable()
export class ConversionReaderGuard implements CanActivate {
  constructor(private readonly auth: ConversionAuth) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<ConversionRequest>();
    await identify(req, () => this.auth.gatewayIdentity(req.headers.authorization, clientAddress(req)));
    return true;
  }
}

/**
 * Harbor's webhook: the body is read first, since the registry hosts it names decide which
 * configured header is expected; sync mode also needs a gateway identity (it waits on tasks).
 */
@Injectable()
export class WebhookGuard implements CanActivate {
  constructor(private readonly auth: ConversionAuth) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<ConversionRequest>();
    const event = parseWebhook(req.body);
    req.webhook = event;
    const authorization = req.headers.authorization;
    const source = clientAddress(req);
    if (event.kind === 'ignored') {
      await identify(req, () => this.auth.authorizeAnyWebhook(authorization, source));
      return true;
    }
    await identify(req, () =>
      this.auth.authorizeWebhook(
        authorization,
        event.artifacts.map((a) => a.host),
        source,
      ),
    );
    if (parseBool(req.query.sync)) await identify(req, () => this.auth.gatewayIdentity(authorization, source));
    return true;
  }
}

/** The webhook event the guard parsed. */
export const Webhook = createParamDecorator(
  (_: unknown, context: ExecutionContext) => context.switchToHttp().getRequest<ConversionRequest>().webhook!,
);

import { GatewayConfig } from '@accel/config';
import { RevokedSessionEntity } from '@accel/db';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectRepository } from '@nestjs/typeorm';
import { hkdfSync, randomUUID } from 'node:crypto';
import { LessThan, Repository } from 'typeorm';
import { UsersService } from './users.service';
import { Actor } from './actor';

export interface SessionToken {
  token: string;
  expire: string;
}

interface SessionClaims {
  sub?: string;
  jti?: string;
  /** The user's session version when it was issued. */
  ver?: number;
  exp?: number;
}

/**
 * Console sessions: HS256 JWTs (Dragonfly's `{token, expire}` sign-in answer), keyed from the
 * encryption key. A session ends at sign-out (its id is revoked) and when the user's password
 * changes or the user is disabled (the session version moves on).
 */
@Injectable()
export class ConsoleSessions {
  private readonly jwt: JwtService;

  constructor(
    private readonly config: GatewayConfig,
    private readonly users: UsersService,
    @InjectRepository(RevokedSessionEntity) private readonly revoked: Repository<RevokedSessionEntity>,
  ) {
    const secret = Buffer.from(hkdfSync('sha256', config.auth.encryptionKey, 'accel-gateway', 'console-jwt', 32));
    this.jwt = new JwtService({
      secret,
      signOptions: { algorithm: 'HS256', expiresIn: config.auth.jwtTtlSeconds, issuer: 'accel-gateway' },
      verifyOptions: { algorithms: ['HS256'], issuer: 'accel-gateway' },
    });
  }

  issue(user: { id: number; name: string; sessionVersion: number }): SessionToken {
    const token = this.jwt.sign(
      { sub: String(user.id), name: user.name, ver: user.sessionVersion },
      { jwtid: randomUUID() },
    );
    return { token, expire: new Date(Date.now() + this.config.auth.jwtTtlSeconds * 1000).toISOString() };
  }

  /** The user behind a live session token, with the role the database has now; undefined when invalid or ended. */
  async verify(token: string): Promise<Actor | undefined> {
    const claims = this.claims(token);
    if (!claims?.sub || !claims.jti || !/^\d{1,15}$/.test(claims.sub)) return undefined;
    const [user, revoked] = await Promise.all([
      this.users.findById(Number(claims.sub)),
      this.revoked.existsBy({ jti: claims.jti }),
    ]);
    if (!user || user.state !== 'enable' || revoked || claims.ver !== user.sessionVersion) return undefined;
    return { kind: 'user', name: user.name, userId: user.id, role: user.role, scopes: 'all' };
  }

  /** Ends one session before its expiry (sign-out). Unknown or invalid tokens are ignored. */
  async revoke(token: string): Promise<void> {
    const claims = this.claims(token);
    if (!claims?.jti || !claims.exp) return;
    await this.revoked.delete({ expiresAt: LessThan(new Date()) });
    await this.revoked.upsert({ jti: claims.jti, expiresAt: new Date(claims.exp * 1000) }, ['jti']);
  }

  private claims(token: string): SessionClaims | undefined {
    try {
      return this.jwt.verify<SessionClaims>(token);
    } catch {
      return undefined;
    }
  }
}

/** A console JWT (three base64url parts) rather than a personal access token. */
export const looksLikeJwt = (s: string): boolean => /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(s);

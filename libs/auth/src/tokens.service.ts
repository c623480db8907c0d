import { PersonalAccessTokenEntity, TokenScope, UserEntity } from '@accel/db';
import { ForbiddenException, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { Repository } from 'typeorm';
import { Actor } from './actor';

export const TOKEN_PREFIX = 'acc_';

/** A known token that may not be used: 403, naming the token so the audit trail can. */
export class TokenRefused extends ForbiddenException {
  constructor(
    readonly actor: Actor,
    message: string,
  ) {
    super(message);
  }
}

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export interface NewToken {
  name: string;
  bio?: string;
  scopes: TokenScope[];
  expiredAt: Date;
  userId: number;
}

/**
 * The token and its owner, only the columns the decision needs. Written out rather than built:
 * every API call runs it, and building it with the query builder cost more than running it.
 */
const TOKEN_LOOKUP =
  'SELECT t.name AS name, t.user_id AS userId, t.scopes AS scopes, t.state AS state, t.expired_at AS expiredAt,' +
  ' u.role AS role, u.state AS ownerState FROM personal_access_token t' +
  ' LEFT JOIN `user` u ON u.id = t.user_id AND u.is_del = 0 WHERE t.token_hash = ? AND t.is_del = 0';

interface TokenLookupRow {
  name: string;
  userId: string | number;
  scopes: string;
  state: string;
  expiredAt: Date | string;
  role: UserEntity['role'] | null;
  ownerState: UserEntity['state'] | null;
}

/** Personal access tokens: 256 random bits, stored as sha256 only, shown once. */
@Injectable()
export class TokensService {
  constructor(
    @InjectRepository(PersonalAccessTokenEntity) private readonly tokens: Repository<PersonalAccessTokenEntity>,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
  ) {}

  /** The actor behind a token; false when unknown (401), TokenRefused when inactive, expired or its owner is disabled (403). */
  async authenticate(token: string): Promise<Actor | false> {
    // Every API call comes through here: the token and its owner in one statement, only the
    // columns the decision needs. Looked up by hash: the database compares fixed-length
    // digests, so the token itself is never compared.
    const [row] = (await this.tokens.query(TOKEN_LOOKUP, [hashToken(token)])) as TokenLookupRow[];
    if (!row) return false;
    const actor: Actor = {
      kind: 'token',
      name: row.name,
      userId: Number(row.userId),
      role: row.role ?? 'none',
      scopes: JSON.parse(row.scopes) as TokenScope[],
    };
    if (row.state !== 'active') throw new TokenRefused(actor, 'Token is inactive');
    if (new Date(row.expiredAt).getTime() < Date.now()) throw new TokenRefused(actor, 'Token has expired');
    if (row.ownerState !== 'enable') throw new TokenRefused(actor, 'Token owner is disabled');
    return actor;
  }

  async create(input: NewToken): Promise<{ entity: PersonalAccessTokenEntity; token: string }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const entity = this.tokens.create({
      name: input.name,
      bio: input.bio ?? '',
      scopes: input.scopes,
      expiredAt: input.expiredAt,
      userId: input.userId,
      state: 'active',
      tokenHash: hashToken(token),
    });
    return { entity: await this.tokens.save(entity), token };
  }

  list(): Promise<PersonalAccessTokenEntity[]> {
    return this.tokens.find({ where: { isDel: 0 }, order: { id: 'DESC' } });
  }

  get(id: number): Promise<PersonalAccessTokenEntity | null> {
    return this.tokens.findOneBy({ id, isDel: 0 });
  }

  async update(
    id: number,
    patch: { bio?: string; scopes?: TokenScope[]; state?: 'active' | 'inactive'; expiredAt?: Date },
  ): Promise<PersonalAccessTokenEntity | null> {
    const token = await this.get(id);
    if (!token) return null;
    Object.assign(token, Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined && v !== null)));
    return this.tokens.save(token);
  }

  async revoke(id: number): Promise<boolean> {
    const res = await this.tokens.delete({ id });
    return (res.affected ?? 0) > 0;
  }
}

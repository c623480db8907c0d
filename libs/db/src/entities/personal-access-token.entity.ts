import { Column, Entity, Index } from 'typeorm';
import { BaseModel, bigintNumber, jsonText } from './base.entity';

export type TokenScope = 'job' | 'cluster' | 'conversion' | 'admin';
export const TOKEN_SCOPES: TokenScope[] = ['job', 'cluster', 'conversion', 'admin'];
export type TokenState = 'active' | 'inactive';

@Entity('personal_access_token')
export class PersonalAccessTokenEntity extends BaseModel {
  @Index('uk_personal_access_token_name', { unique: true })
  @Column({ type: 'varchar', length: 256 })
  name: string;

  @Column({ type: 'varchar', length: 1024, default: '' })
  bio: string;

  /** sha256 of the token; the token itself is shown once and never stored. */
  @Index('uk_personal_access_token_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash: string;

  @Column({ type: 'longtext', transformer: jsonText<TokenScope[]>() })
  scopes: TokenScope[];

  @Column({ type: 'varchar', length: 32, default: 'active' })
  state: TokenState;

  @Column({ name: 'expired_at', type: 'datetime', precision: 3 })
  expiredAt: Date;

  @Column({ name: 'user_id', type: 'bigint', unsigned: true, transformer: bigintNumber })
  userId: number;
}

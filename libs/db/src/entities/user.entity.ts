import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { BaseModel } from './base.entity';

export type UserRole = 'root' | 'guest';
export type UserState = 'enable' | 'disable';

@Entity('user')
export class UserEntity extends BaseModel {
  @Index('uk_user_name', { unique: true })
  @Column({ type: 'varchar', length: 256 })
  name: string;

  @Column({ type: 'varchar', length: 256, default: '' })
  email: string;

  /** scrypt hash in PHC-like form; never serialised. */
  @Column({ name: 'encrypted_password', type: 'varchar', length: 1024 })
  encryptedPassword: string;

  @Column({ type: 'varchar', length: 32, default: 'guest' })
  role: UserRole;

  @Column({ type: 'varchar', length: 32, default: 'enable' })
  state: UserState;

  /** Console sessions carry it; a password change or a disable bumps it, ending every older session. */
  @Column({ name: 'session_version', type: 'int', unsigned: true, default: 0 })
  sessionVersion: number;
}

/** A console session ended by sign-out before its expiry; kept until then. */
@Entity('revoked_session')
export class RevokedSessionEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  jti: string;

  @Index('idx_revoked_session_expires_at')
  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt: Date;
}

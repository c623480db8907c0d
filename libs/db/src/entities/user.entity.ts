import { Column, Entity, Index } from 'typeorm';
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
}

import { CreateDateColumn, PrimaryGeneratedColumn, UpdateDateColumn, Column, ValueTransformer } from 'typeorm';

/** Columns every Dragonfly manager model carries (`is_del` is always 0 for live rows). */
export abstract class BaseModel {
  @PrimaryGeneratedColumn({ type: 'bigint', unsigned: true })
  id: number;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;

  @Column({ name: 'is_del', type: 'bigint', unsigned: true, default: 0 })
  isDel: number;
}

/** Stores a JSON value in a longtext column (MySQL and MariaDB alike). */
export const jsonText = <T>(): ValueTransformer => ({
  to: (value: T | null | undefined) => (value === undefined || value === null ? null : JSON.stringify(value)),
  from: (value: string | null) => (value === null || value === undefined ? null : (JSON.parse(value) as T)),
});

/** mysql2 returns BIGINT as a string; ids here stay well inside 2^53. */
export const bigintNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? v : Number(v)),
};

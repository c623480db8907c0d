import { MigrationInterface, QueryRunner } from 'typeorm';

/** Dragonfly's per-cluster job rate limit (job creations per second naming the cluster). */
export class JobRateLimit1764800000000 implements MigrationInterface {
  name = 'JobRateLimit1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE scheduler_cluster ADD COLUMN job_rate_limit int unsigned NOT NULL DEFAULT 10');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE scheduler_cluster DROP COLUMN job_rate_limit');
  }
}

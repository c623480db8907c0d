import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One live job per piece of work: a create retried after its answer was lost joins the PENDING
 * job instead of starting a second one. NULL once the job has ended (MySQL allows many NULLs).
 */
export class LiveJobKey1764400000000 implements MigrationInterface {
  name = 'LiveJobKey1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE job ADD COLUMN active_key char(64) NULL, ADD UNIQUE KEY uk_job_active_key (active_key)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE job DROP INDEX uk_job_active_key, DROP COLUMN active_key');
  }
}

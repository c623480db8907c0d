import { MigrationInterface, QueryRunner } from 'typeorm';

/** Retention finds expired rows by when they finished, without scanning the tables. */
export class RetentionIndexes1764600000000 implements MigrationInterface {
  name = 'RetentionIndexes1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE job ADD KEY idx_job_finished_at (finished_at)');
    await q.query('ALTER TABLE conversion_task ADD KEY idx_conversion_task_finished_at (finished_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE job DROP KEY idx_job_finished_at');
    await q.query('ALTER TABLE conversion_task DROP KEY idx_conversion_task_finished_at');
  }
}

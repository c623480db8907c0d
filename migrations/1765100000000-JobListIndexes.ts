import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Job lists read a page and count their filter from these indexes alone (newest first, by
 * state or by type), never the rows' JSON: a page of 100,000 jobs costs what a page of 10 does.
 */
export class JobListIndexes1765100000000 implements MigrationInterface {
  name = 'JobListIndexes1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      'ALTER TABLE job ADD KEY idx_job_list (is_del, created_at), ADD KEY idx_job_list_state (is_del, state, created_at), ADD KEY idx_job_list_type (is_del, type, created_at)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE job DROP KEY idx_job_list, DROP KEY idx_job_list_state, DROP KEY idx_job_list_type');
  }
}

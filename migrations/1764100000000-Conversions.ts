import { MigrationInterface, QueryRunner } from 'typeorm';
import { BASE_MODEL_COLUMNS, TABLE_OPTIONS } from './sql';

/** Conversion tasks (acceld-compatible) and the converted-layer reuse table. */
export class Conversions1764100000000 implements MigrationInterface {
  name = 'Conversions1764100000000';

  async up(q: QueryRunner): Promise<void> {
    const base = BASE_MODEL_COLUMNS;
    const opts = TABLE_OPTIONS;
    await q.query(`CREATE TABLE conversion_task (${base}
      uuid char(36) NOT NULL,
      source varchar(1024) NOT NULL,
      source_digest varchar(128) NOT NULL DEFAULT '',
      target varchar(1024) NOT NULL DEFAULT '',
      driver varchar(32) NOT NULL,
      status varchar(16) NOT NULL DEFAULT 'PROCESSING',
      reason text NULL,
      source_size bigint NOT NULL DEFAULT 0,
      target_size bigint NOT NULL DEFAULT 0,
      target_digest varchar(128) NULL,
      preheat_job_id bigint unsigned NULL,
      active_key char(64) NULL,
      finished_at datetime(3) NULL,
      PRIMARY KEY (id), UNIQUE KEY uk_conversion_task_uuid (uuid), UNIQUE KEY uk_conversion_task_active_key (active_key),
      KEY idx_conversion_task_created_at (created_at), KEY idx_conversion_task_status (status)) ${opts}`);
    await q.query(`CREATE TABLE converted_layer (${base}
      source_digest varchar(128) NOT NULL,
      settings_key char(64) NOT NULL,
      registry varchar(256) NOT NULL,
      repository varchar(1024) NOT NULL,
      target_digest varchar(128) NOT NULL,
      target_size bigint NOT NULL,
      diff_id varchar(128) NOT NULL,
      toc_digest varchar(128) NOT NULL,
      uncompressed_size bigint NOT NULL,
      PRIMARY KEY (id), UNIQUE KEY uk_converted_layer (source_digest, settings_key)) ${opts}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS converted_layer');
    await q.query('DROP TABLE IF EXISTS conversion_task');
  }
}

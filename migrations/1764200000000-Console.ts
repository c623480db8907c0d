import { MigrationInterface, QueryRunner } from 'typeorm';
import { BASE_MODEL_COLUMNS, TABLE_OPTIONS } from './sql';

/** Admin console: audit trail and registries managed at runtime (credentials encrypted). */
export class Console1764200000000 implements MigrationInterface {
  name = 'Console1764200000000';

  async up(q: QueryRunner): Promise<void> {
    const base = BASE_MODEL_COLUMNS;
    const opts = TABLE_OPTIONS;
    await q.query(`CREATE TABLE audit (${base}
      actor_type varchar(32) NOT NULL,
      actor_name varchar(256) NOT NULL,
      event_type varchar(32) NOT NULL,
      operation varchar(16) NOT NULL,
      path varchar(1024) NOT NULL,
      target varchar(1024) NOT NULL DEFAULT '',
      state varchar(16) NOT NULL,
      status_code int NOT NULL,
      remote_ip varchar(64) NOT NULL DEFAULT '',
      PRIMARY KEY (id), KEY idx_audit_created_at (created_at), KEY idx_audit_actor (actor_type, actor_name)) ${opts}`);
    await q.query(`CREATE TABLE registry (${base}
      host varchar(256) NOT NULL,
      username varchar(256) NOT NULL DEFAULT '',
      sealed_password text NULL,
      insecure tinyint(1) NOT NULL DEFAULT 0,
      plain_http tinyint(1) NOT NULL DEFAULT 0,
      PRIMARY KEY (id), UNIQUE KEY uk_registry_host (host)) ${opts}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS registry');
    await q.query('DROP TABLE IF EXISTS audit');
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';
import { BASE_MODEL_COLUMNS, TABLE_OPTIONS } from './sql';

/** Initial schema: users, tokens, clusters, schedulers, seed peers, jobs. Names follow the Dragonfly manager's tables. */
export class Init1764000000000 implements MigrationInterface {
  name = 'Init1764000000000';

  async up(q: QueryRunner): Promise<void> {
    const base = BASE_MODEL_COLUMNS;
    const opts = TABLE_OPTIONS;
    await q.query(`CREATE TABLE user (${base}
      name varchar(256) NOT NULL,
      email varchar(256) NOT NULL DEFAULT '',
      encrypted_password varchar(1024) NOT NULL,
      role varchar(32) NOT NULL DEFAULT 'guest',
      state varchar(32) NOT NULL DEFAULT 'enable',
      PRIMARY KEY (id), UNIQUE KEY uk_user_name (name)) ${opts}`);
    await q.query(`CREATE TABLE personal_access_token (${base}
      name varchar(256) NOT NULL,
      bio varchar(1024) NOT NULL DEFAULT '',
      token_hash char(64) NOT NULL,
      scopes longtext NOT NULL,
      state varchar(32) NOT NULL DEFAULT 'active',
      expired_at datetime(3) NOT NULL,
      user_id bigint unsigned NOT NULL,
      PRIMARY KEY (id), UNIQUE KEY uk_personal_access_token_name (name),
      UNIQUE KEY uk_personal_access_token_hash (token_hash)) ${opts}`);
    await q.query(`CREATE TABLE scheduler_cluster (${base}
      name varchar(256) NOT NULL,
      bio varchar(1024) NOT NULL DEFAULT '',
      is_default tinyint(1) NOT NULL DEFAULT 0,
      PRIMARY KEY (id), UNIQUE KEY uk_scheduler_cluster_name (name)) ${opts}`);
    await q.query(`CREATE TABLE scheduler (${base}
      host_name varchar(256) NOT NULL,
      ip varchar(256) NOT NULL,
      port int NOT NULL,
      state varchar(256) NOT NULL DEFAULT 'inactive',
      scheduler_cluster_id bigint unsigned NOT NULL,
      PRIMARY KEY (id), UNIQUE KEY uk_scheduler (host_name, ip, scheduler_cluster_id)) ${opts}`);
    await q.query(`CREATE TABLE seed_peer (${base}
      host_name varchar(256) NOT NULL,
      type varchar(256) NOT NULL DEFAULT 'super',
      ip varchar(256) NOT NULL,
      port int NOT NULL,
      download_port int NOT NULL,
      state varchar(256) NOT NULL DEFAULT 'inactive',
      scheduler_cluster_id bigint unsigned NOT NULL,
      PRIMARY KEY (id), UNIQUE KEY uk_seed_peer (host_name, ip, scheduler_cluster_id)) ${opts}`);
    await q.query(`CREATE TABLE job (${base}
      task_id varchar(256) NOT NULL,
      bio varchar(1024) NOT NULL DEFAULT '',
      type varchar(256) NOT NULL,
      state varchar(256) NOT NULL DEFAULT 'PENDING',
      args longtext NOT NULL,
      task_result longtext NULL,
      user_id bigint unsigned NOT NULL DEFAULT 0,
      dialect varchar(32) NOT NULL,
      image_key char(64) NOT NULL,
      sealed_headers text NULL,
      scheduler_cluster_ids longtext NOT NULL,
      finished_at datetime(3) NULL,
      PRIMARY KEY (id), KEY idx_job_image_key (image_key, state), KEY idx_job_created_at (created_at)) ${opts}`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['job', 'seed_peer', 'scheduler', 'scheduler_cluster', 'personal_access_token', 'user']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}

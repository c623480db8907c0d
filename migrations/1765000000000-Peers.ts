import { MigrationInterface, QueryRunner } from 'typeorm';
import { BASE_MODEL_COLUMNS, TABLE_OPTIONS } from './sql';

/** Dragonfly's `peer` table: the hosts each cluster's scheduler lists, kept by sync_peers. */
export class Peers1765000000000 implements MigrationInterface {
  name = 'Peers1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE peer (${BASE_MODEL_COLUMNS}
      host_name varchar(256) NOT NULL,
      type varchar(256) NOT NULL DEFAULT '',
      idc varchar(1024) NOT NULL DEFAULT '',
      location varchar(1024) NOT NULL DEFAULT '',
      ip varchar(256) NOT NULL,
      port int NOT NULL,
      download_port int NOT NULL DEFAULT 0,
      proxy_port int NOT NULL DEFAULT 0,
      state varchar(256) NOT NULL DEFAULT 'active',
      os varchar(256) NOT NULL DEFAULT '',
      platform varchar(256) NOT NULL DEFAULT '',
      platform_family varchar(256) NOT NULL DEFAULT '',
      platform_version varchar(256) NOT NULL DEFAULT '',
      kernel_version varchar(256) NOT NULL DEFAULT '',
      git_version varchar(256) NOT NULL DEFAULT '',
      git_commit varchar(256) NOT NULL DEFAULT '',
      build_platform varchar(256) NOT NULL DEFAULT '',
      scheduler_cluster_id bigint unsigned NOT NULL,
      PRIMARY KEY (id),
      UNIQUE KEY uk_peer (host_name, ip, scheduler_cluster_id),
      KEY idx_peer_type (type)
    ) ${TABLE_OPTIONS}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE peer');
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';
import { TABLE_OPTIONS } from './sql';

/**
 * Sessions that end: a per-user session version (bumped by a password change or a disable)
 * and signed-out session ids; the token realm a registry's stored credentials may go to.
 */
export class Security1764300000000 implements MigrationInterface {
  name = 'Security1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE user ADD COLUMN session_version int unsigned NOT NULL DEFAULT 0');
    await q.query(`CREATE TABLE revoked_session (
      jti varchar(64) NOT NULL,
      expires_at datetime(3) NOT NULL,
      PRIMARY KEY (jti), KEY idx_revoked_session_expires_at (expires_at)) ${TABLE_OPTIONS}`);
    await q.query("ALTER TABLE registry ADD COLUMN token_realm varchar(512) NOT NULL DEFAULT ''");
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE registry DROP COLUMN token_realm');
    await q.query('DROP TABLE IF EXISTS revoked_session');
    await q.query('ALTER TABLE user DROP COLUMN session_version');
  }
}

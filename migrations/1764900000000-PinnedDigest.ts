import { MigrationInterface, QueryRunner } from 'typeorm';

/** An image preheat records the manifest digest its tag named at creation, and preheats that. */
export class PinnedDigest1764900000000 implements MigrationInterface {
  name = 'PinnedDigest1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE job ADD COLUMN manifest_digest varchar(128) NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE job DROP COLUMN manifest_digest');
  }
}

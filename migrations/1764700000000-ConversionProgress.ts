import { MigrationInterface, QueryRunner } from 'typeorm';

/** A running conversion records its phase and the source layers and bytes read so far. */
export class ConversionProgress1764700000000 implements MigrationInterface {
  name = 'ConversionProgress1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE conversion_task ADD COLUMN progress text NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE conversion_task DROP COLUMN progress');
  }
}

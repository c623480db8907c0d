import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Converted-layer reuse serves any per-layer format: a layer keeps the annotations its
 * descriptor carries (eStargz' TOC digest and uncompressed size) instead of eStargz columns.
 */
export class LayerAnnotations1764500000000 implements MigrationInterface {
  name = 'LayerAnnotations1764500000000';

  async up(q: QueryRunner): Promise<void> {
    // Filled, then made NOT NULL: MySQL takes no literal default on a TEXT column.
    await q.query('ALTER TABLE converted_layer ADD COLUMN annotations longtext NULL');
    await q.query(
      `UPDATE converted_layer SET annotations = JSON_OBJECT(
        'containerd.io/snapshot/stargz/toc.digest', toc_digest,
        'io.containers.estargz.uncompressed-size', CAST(uncompressed_size AS CHAR))`,
    );
    await q.query(
      'ALTER TABLE converted_layer MODIFY annotations longtext NOT NULL, DROP COLUMN toc_digest, DROP COLUMN uncompressed_size',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      "ALTER TABLE converted_layer ADD COLUMN toc_digest varchar(128) NOT NULL DEFAULT '', ADD COLUMN uncompressed_size bigint NOT NULL DEFAULT 0",
    );
    await q.query(
      `UPDATE converted_layer SET
        toc_digest = COALESCE(JSON_UNQUOTE(JSON_EXTRACT(annotations, '$."containerd.io/snapshot/stargz/toc.digest"')), ''),
        uncompressed_size = COALESCE(CAST(JSON_UNQUOTE(JSON_EXTRACT(annotations, '$."io.containers.estargz.uncompressed-size"')) AS UNSIGNED), 0)`,
    );
    // Rows of other formats cannot be told apart from eStargz ones in the old shape.
    await q.query("DELETE FROM converted_layer WHERE toc_digest = ''");
    await q.query('ALTER TABLE converted_layer DROP COLUMN annotations');
  }
}

/**
 * Column and table definitions shared by migrations. Frozen: an applied migration must keep
 * producing the same schema, so change these only by adding new constants.
 */
export const BASE_MODEL_COLUMNS = `
      id bigint unsigned NOT NULL AUTO_INCREMENT,
      created_at datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      is_del bigint unsigned NOT NULL DEFAULT 0,`;

export const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

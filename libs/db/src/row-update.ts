import { EntityMetadata, ObjectLiteral, Repository } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

interface UpdateStatement {
  sql: string;
  set: ColumnMetadata[];
  where: ColumnMetadata[];
}

/** Per entity, per shape (columns set | columns matched): the UPDATE, built once. */
const statements = new WeakMap<EntityMetadata, Map<string, UpdateStatement | null>>();

function updateStatement<T extends ObjectLiteral>(
  rows: Repository<T>,
  setKeys: string[],
  whereKeys: string[],
): UpdateStatement | null {
  const meta = rows.metadata;
  let shapes = statements.get(meta);
  if (!shapes) statements.set(meta, (shapes = new Map()));
  const shape = `${setKeys.join(',')}|${whereKeys.join(',')}`;
  let statement = shapes.get(shape);
  if (statement !== undefined) return statement;
  const column = (k: string) => meta.findColumnWithPropertyName(k);
  const set = setKeys.map(column);
  const where = whereKeys.map(column);
  const escape = (name: string) => rows.manager.connection.driver.escape(name);
  if ([...set, ...where].some((c) => !c || c.isVirtual || c.isVersion) || where.length === 0) {
    statement = null;
  } else {
    const assignments = (set as ColumnMetadata[]).map((c) => `${escape(c.databaseName)} = ?`);
    // As the query builder does: the update date moves with every update that does not set it.
    const updated = meta.updateDateColumn;
    if (updated && !set.includes(updated)) assignments.push(`${escape(updated.databaseName)} = CURRENT_TIMESTAMP`);
    statement = {
      sql:
        `UPDATE ${escape(meta.tablePath)} SET ${assignments.join(', ')}` +
        ` WHERE ${(where as ColumnMetadata[]).map((c) => `${escape(c.databaseName)} = ?`).join(' AND ')}`,
      set: set as ColumnMetadata[],
      where: where as ColumnMetadata[],
    };
  }
  shapes.set(shape, statement);
  return statement;
}

/**
 * `UPDATE … SET … WHERE a = ? AND b = ?` for the rows matching every field of `where`; the count
 * of rows changed. What Repository.update does for plain values, without building the statement
 * per call (on a busy worker the builder cost more than the statement). Anything else (a null to
 * match, an SQL expression to set) goes to Repository.update.
 */
export async function updateWhere<T extends ObjectLiteral>(
  rows: Repository<T>,
  where: Partial<T>,
  set: Partial<T>,
): Promise<number> {
  const setKeys = Object.keys(set).filter((k) => set[k] !== undefined);
  const whereKeys = Object.keys(where);
  const plain =
    whereKeys.every((k) => where[k] !== null && where[k] !== undefined && typeof where[k] !== 'object') &&
    setKeys.every((k) => typeof set[k] !== 'function');
  const statement = plain ? updateStatement(rows, setKeys, whereKeys) : null;
  if (!statement) return (await rows.update(where as never, set as never)).affected ?? 0;
  const driver = rows.manager.connection.driver;
  const params = [
    ...statement.set.map((c, i) => driver.preparePersistentValue(set[setKeys[i]], c) as unknown),
    ...statement.where.map((c, i) => driver.preparePersistentValue(where[whereKeys[i]], c) as unknown),
  ];
  const result = (await rows.query(statement.sql, params)) as { affectedRows?: number };
  return result.affectedRows ?? 0;
}

import { EntityMetadata, ObjectLiteral, Repository } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/**
 * Hot-path statements written once per entity and shape (the columns set, matched or read)
 * instead of built by the query builder per call: on a busy worker or API the builder cost
 * more than running the statement. Values go through the same conversions the builder applies
 * (each column's transformer, then the driver's own). Anything these do not cover — a null or
 * an operator to match, an SQL expression to set, relations, soft deletes — goes to TypeORM.
 */
interface Statement {
  sql: string;
  /** The columns whose values it sends (INSERT, SET) or reads (SELECT), in order. */
  columns: ColumnMetadata[];
  /** The columns it matches, in order. */
  where: ColumnMetadata[];
}

const statements = new WeakMap<EntityMetadata, Map<string, Statement | null>>();

function cached(meta: EntityMetadata, shape: string, build: () => Statement | null): Statement | null {
  let shapes = statements.get(meta);
  if (!shapes) statements.set(meta, (shapes = new Map()));
  let statement = shapes.get(shape);
  if (statement === undefined) shapes.set(shape, (statement = build()));
  return statement;
}

const escaper =
  <T extends ObjectLiteral>(rows: Repository<T>) =>
  (name: string): string =>
    rows.manager.connection.driver.escape(name);

/** The entity's table, each part of a `database.table` path quoted apart. */
const tableOf = (meta: EntityMetadata, escape: (n: string) => string): string =>
  meta.tablePath.split('.').map(escape).join('.');

/** The columns of these properties, or undefined when one is not a plain stored column. */
function columnsOf(meta: EntityMetadata, keys: string[]): ColumnMetadata[] | undefined {
  const columns = keys.map((k) => meta.findColumnWithPropertyName(k));
  return columns.every((c): c is ColumnMetadata => !!c && !c.isVirtual && !c.isVersion) ? columns : undefined;
}

/** Every value is one to compare with `=`. */
const plainMatch = (where: ObjectLiteral): boolean =>
  Object.values(where).every((v) => v !== null && v !== undefined && typeof v !== 'object');

function whereSql(where: ColumnMetadata[], escape: (n: string) => string): string {
  return where.map((c) => `${escape(c.databaseName)} = ?`).join(' AND ');
}

function params<T extends ObjectLiteral>(rows: Repository<T>, columns: ColumnMetadata[], values: unknown[]): unknown[] {
  const driver = rows.manager.connection.driver;
  return columns.map((c, i) => driver.preparePersistentValue(values[i], c) as unknown);
}

/**
 * `INSERT` of every column but the auto-increment id; the id given, or undefined when the row
 * leaves a column to an SQL default or the entity has a column only the query builder fills
 * (version, discriminator, a generated value that is not the id): the caller uses the builder.
 */
export async function insertPlain<T extends ObjectLiteral>(rows: Repository<T>, row: T): Promise<number | undefined> {
  const meta = rows.metadata;
  const statement = cached(meta, 'insert', () => {
    const special = meta.columns.some(
      (c) => c.isVersion || c.isDiscriminator || (c.isGenerated && c.generationStrategy !== 'increment'),
    );
    if (special) return null;
    const escape = escaper(rows);
    const columns = meta.columns.filter((c) => c.isInsert && !c.isGenerated && !c.isVirtual);
    return {
      sql:
        `INSERT INTO ${tableOf(meta, escape)} (${columns.map((c) => escape(c.databaseName)).join(', ')})` +
        ` VALUES (${columns.map(() => '?').join(', ')})`,
      columns,
      where: [],
    };
  });
  if (!statement) return undefined;
  const values = params(
    rows,
    statement.columns,
    statement.columns.map((c) => c.getEntityValue(row) as unknown),
  );
  if (values.includes(undefined)) return undefined;
  const result = (await rows.query(statement.sql, values)) as { insertId: number | string };
  return Number(result.insertId);
}

/**
 * `UPDATE … SET … WHERE a = ? AND b = ?` for the rows matching every field of `where`; the count
 * of rows changed. What Repository.update does, updated_at included.
 */
export async function updateWhere<T extends ObjectLiteral>(
  rows: Repository<T>,
  where: Partial<T>,
  set: Partial<T>,
): Promise<number> {
  const meta = rows.metadata;
  const setKeys = Object.keys(set).filter((k) => set[k] !== undefined);
  const whereKeys = Object.keys(where);
  const plain = whereKeys.length > 0 && plainMatch(where) && setKeys.every((k) => typeof set[k] !== 'function');
  const statement = !plain
    ? null
    : cached(meta, `update ${setKeys.join(',')}|${whereKeys.join(',')}`, () => {
        const [setColumns, whereColumns] = [columnsOf(meta, setKeys), columnsOf(meta, whereKeys)];
        if (!setColumns || !whereColumns) return null;
        const escape = escaper(rows);
        const assignments = setColumns.map((c) => `${escape(c.databaseName)} = ?`);
        // As the query builder does: the update date moves with every update that does not set it.
        const updated = meta.updateDateColumn;
        if (updated && !setColumns.includes(updated))
          assignments.push(`${escape(updated.databaseName)} = CURRENT_TIMESTAMP`);
        return {
          sql: `UPDATE ${tableOf(meta, escape)} SET ${assignments.join(', ')} WHERE ${whereSql(whereColumns, escape)}`,
          columns: setColumns,
          where: whereColumns,
        };
      });
  if (!statement) return (await rows.update(where as never, set as never)).affected ?? 0;
  const result = (await rows.query(statement.sql, [
    ...params(
      rows,
      statement.columns,
      setKeys.map((k) => set[k]),
    ),
    ...params(
      rows,
      statement.where,
      whereKeys.map((k) => where[k]),
    ),
  ])) as { affectedRows?: number };
  return result.affectedRows ?? 0;
}

/** The row matching every field of `where`, as Repository.findOneBy returns it. */
export async function findOneWhere<T extends ObjectLiteral>(rows: Repository<T>, where: Partial<T>): Promise<T | null> {
  const meta = rows.metadata;
  const whereKeys = Object.keys(where);
  const simple = whereKeys.length > 0 && plainMatch(where) && meta.relations.length === 0 && !meta.deleteDateColumn;
  const statement = !simple
    ? null
    : cached(meta, `select ${whereKeys.join(',')}`, () => {
        const whereColumns = columnsOf(meta, whereKeys);
        if (!whereColumns) return null;
        const escape = escaper(rows);
        const read = meta.columns.filter((c) => !c.isVirtual);
        return {
          sql:
            `SELECT ${read.map((c) => escape(c.databaseName)).join(', ')} FROM ${tableOf(meta, escape)}` +
            ` WHERE ${whereSql(whereColumns, escape)} LIMIT 1`,
          columns: read,
          where: whereColumns,
        };
      });
  if (!statement) return rows.findOneBy(where as never);
  const [raw] = (await rows.query(
    statement.sql,
    params(
      rows,
      statement.where,
      whereKeys.map((k) => where[k]),
    ),
  )) as Record<string, unknown>[];
  if (!raw) return null;
  const driver = rows.manager.connection.driver;
  const entity = meta.create(undefined, { fromDeserializer: true }) as T;
  for (const c of statement.columns) c.setEntityValue(entity, driver.prepareHydratedValue(raw[c.databaseName], c));
  return entity;
}

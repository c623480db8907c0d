import { DeepPartial, ObjectLiteral, Repository } from 'typeorm';
import { insertPlain } from './row-statements';

/**
 * One INSERT and nothing else: no BEGIN/COMMIT around it (it is atomic on its own) and no
 * SELECT after it. save() reads the row back for the columns the database fills in; here they
 * are filled in first (the timestamps, the columns' declared defaults), so the row returned is
 * the row stored. On the job-create path that read-back was one statement in six.
 */
export async function insertRow<T extends ObjectLiteral>(rows: Repository<T>, fields: Partial<T>): Promise<T> {
  const row: Record<string, unknown> = rows.create(fields as DeepPartial<T>);
  const now = new Date();
  for (const c of rows.metadata.columns) {
    if (row[c.propertyName] !== undefined || c.isGenerated) continue;
    if (c.isCreateDate || c.isUpdateDate) row[c.propertyName] = now;
    else if (c.default !== undefined && typeof c.default !== 'function') row[c.propertyName] = c.default;
    else if (c.isNullable) row[c.propertyName] = null;
  }
  const [id] = rows.metadata.primaryColumns;
  // Written once per entity (building it per row was a sixth of the CPU of a job create).
  const inserted = await insertPlain(rows, row as T);
  if (inserted !== undefined) {
    row[id.propertyName] = inserted;
    return row as T;
  }
  const result = await rows
    .createQueryBuilder()
    .insert()
    .values(row as Parameters<typeof rows.insert>[0])
    .updateEntity(false)
    .execute();
  row[id.propertyName] = Number((result.raw as { insertId: number | string }).insertId);
  return row as T;
}

/**
 * Inserts a row that holds a live key (unique while its work runs). When another live row took
 * the key first — the same request arriving twice at once — that row is returned as `live`;
 * when that row ends before it is found, the insert is tried again.
 */
export async function insertHoldingLiveKey<T extends ObjectLiteral & { activeKey: string | null }>(
  rows: Repository<T>,
  fields: Partial<T>,
): Promise<{ row: T } | { live: T }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { row: await insertRow(rows, fields) };
    } catch (e) {
      const key = fields.activeKey;
      if ((e as { code?: string }).code !== 'ER_DUP_ENTRY' || !key) throw e;
      const live = await rows.findOneBy({ activeKey: key } as never);
      if (live) return { live };
      // The row that held the key ended between the INSERT and the lookup: the key is free again.
      if (attempt === 3) throw e;
    }
  }
}

import { DeepPartial, ObjectLiteral, Repository } from 'typeorm';

/**
 * Inserts a row that holds a live key (unique while its work runs). When another live row took
 * the key first — the same request arriving twice at once — that row is returned as `live`.
 */
export async function insertHoldingLiveKey<T extends ObjectLiteral & { activeKey: string | null }>(
  rows: Repository<T>,
  fields: Partial<T>,
): Promise<{ row: T } | { live: T }> {
  try {
    // One INSERT is atomic on its own: no BEGIN/COMMIT round trips around it.
    return { row: await rows.save(rows.create(fields as DeepPartial<T>), { transaction: false }) };
  } catch (e) {
    const key = fields.activeKey;
    if ((e as { code?: string }).code !== 'ER_DUP_ENTRY' || !key) throw e;
    const live = await rows.findOneBy({ activeKey: key } as never);
    if (!live) throw e;
    return { live };
  }
}

import { FindOptionsWhere, ObjectLiteral, Repository } from 'typeorm';

/**
 * Deletes the rows matching `where`, `batchSize` at a time (ids first, then a short DELETE by
 * id), so a large purge never holds the table's locks for long. Returns how many went.
 */
export async function deleteInBatches<T extends ObjectLiteral & { id: number }>(
  rows: Repository<T>,
  where: FindOptionsWhere<T>,
  batchSize: number,
): Promise<number> {
  let removed = 0;
  for (;;) {
    const batch = await rows.find({
      select: { id: true } as never,
      where,
      order: { id: 'ASC' } as never,
      take: batchSize,
    });
    if (batch.length === 0) return removed;
    removed += (await rows.delete(batch.map((r) => r.id))).affected ?? 0;
    if (batch.length < batchSize) return removed;
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(lanes);
  return results;
}

/**
 * mapLimit for work that is all-or-nothing: the first failure aborts `signal` for the items
 * still running, starts no more, and is thrown only once every running item has settled — so
 * nothing an item does can land after the caller has seen the failure.
 */
export async function mapLimitOrCancel<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, signal: AbortSignal, index: number) => Promise<R>,
): Promise<R[]> {
  const abort = new AbortController();
  let failure: { error: unknown } | undefined;
  const results = await mapLimit(items, limit, async (item, i) => {
    if (failure) return undefined as R;
    try {
      return await fn(item, abort.signal, i);
    } catch (e) {
      if (!failure) {
        failure = { error: e };
        abort.abort(e);
      }
      return undefined as R;
    }
  });
  if (failure) throw failure.error;
  return results;
}

/**
 * Runs `work` on every item with at most `limit` in flight at once. Rejects with the first failure
 * (items already started finish on their own; later ones are not started by the failed worker).
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

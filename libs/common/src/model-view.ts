/** The columns every Dragonfly manager model answers with. */
export const modelView = (e: { id: number; createdAt: Date; updatedAt: Date }) => ({
  id: e.id,
  created_at: e.createdAt.toISOString(),
  updated_at: e.updatedAt.toISOString(),
  is_del: 0,
});

import { Request, Response } from 'express';

/** Largest page any list answers: one request never dumps a table. */
export const MAX_PER_PAGE = 1000;

/** Dragonfly's Link header: prev, next, first, last; comma-separated, unquoted rel. */
export function paginationLink(req: Request, page: number, perPage: number, total: number): string {
  const last = Math.ceil(total / perPage);
  const base = `${req.protocol}://${req.get('host')}${req.path}`;
  // Filters are carried over, unless echoing them four times would make the header unwieldy.
  const carried = new URLSearchParams(req.query as Record<string, string>);
  const filters = carried.toString().length <= 1024 ? carried : new URLSearchParams();
  const link = (p: number, rel: string) => {
    const q = new URLSearchParams(filters);
    q.set('page', String(p));
    q.set('per_page', String(perPage));
    return `<${base}?${q.toString()}>;rel=${rel}`;
  };
  return [
    link(Math.max(1, page - 1), 'prev'),
    link(Math.min(Math.max(last, 1), page + 1), 'next'),
    link(1, 'first'),
    link(last, 'last'),
  ].join(',');
}

/**
 * One page of a list endpoint: fetches it, sets Dragonfly's `Link` header, returns the rows.
 */
export async function paged<T>(
  req: Request,
  res: Response,
  page: number | undefined,
  perPage: number | undefined,
  defaultPerPage: number,
  fetch: (page: number, perPage: number) => Promise<[T[], number]>,
): Promise<T[]> {
  const p = page ?? 1;
  const pp = Math.min(perPage ?? defaultPerPage, MAX_PER_PAGE);
  const [rows, total] = await fetch(p, pp);
  res.setHeader('Link', paginationLink(req, p, pp, total));
  return rows;
}

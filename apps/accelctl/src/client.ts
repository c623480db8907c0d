import { request } from 'undici';

export interface Connection {
  server: string;
  token?: string;
  user?: string;
  password?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function authHeader(c: Connection): Record<string, string> {
  if (c.token) return { authorization: `Bearer ${c.token}` };
  if (c.user) return { authorization: `Basic ${Buffer.from(`${c.user}:${c.password ?? ''}`).toString('base64')}` };
  return {};
}

/** One JSON call to the gateway; errors carry the server's own message (Dragonfly or acceld shape). */
export async function call<T>(
  c: Connection,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  let res;
  try {
    res = await request(c.server.replace(/\/$/, '') + path, {
      method,
      headers: { ...authHeader(c), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new Error(`cannot reach ${c.server}: ${(e as Error).message}`, { cause: e });
  }
  const text = await res.body.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  if (res.statusCode >= 400) {
    const p = parsed as { errors?: string; message?: string } | undefined;
    throw new ApiError(res.statusCode, `${res.statusCode}: ${p?.errors ?? p?.message ?? text}`);
  }
  return parsed as T;
}

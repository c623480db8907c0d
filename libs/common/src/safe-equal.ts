import { timingSafeEqual } from 'node:crypto';

/** Constant-time string comparison (length differences leak only the length). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

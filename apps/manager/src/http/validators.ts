import { ValidationOptions, registerDecorator } from 'class-validator';

/** Largest id any list filter or path takes: JavaScript's exact integers (MySQL's bigint is wider). */
export const MAX_ID = Number.MAX_SAFE_INTEGER;
/** Largest page number a list takes: beyond it no table of ours has rows. */
export const MAX_PAGE = 1_000_000;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
// Visible ASCII, spaces and tabs, and any non-ASCII text; no CR, LF or other controls.
const HEADER_VALUE = /^[\t\x20-\x7e\u0080-\uffff]*$/;
const MAX_HEADERS = 64;
const MAX_HEADER_VALUE = 16 * 1024;
/** All names and values together: they are sealed into one 64 KiB column, base64 and all. */
const MAX_HEADER_BYTES = 32 * 1024;

/** An HTTP header map as a registry request would carry it: token names, single-line string values, bounded. */
export function IsHeaderMap(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isHeaderMap',
      target: target.constructor,
      propertyName,
      options: {
        message: `${propertyName} must be an object of at most ${MAX_HEADERS} header names to single-line strings of at most ${MAX_HEADER_VALUE} characters, ${MAX_HEADER_BYTES} in all`,
        ...options,
      },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value as Record<string, unknown>);
          const total = entries.reduce(
            (n, [k, v]) => n + k.length + (typeof v === 'string' ? Buffer.byteLength(v) : 0),
            0,
          );
          return (
            entries.length <= MAX_HEADERS &&
            total <= MAX_HEADER_BYTES &&
            entries.every(
              ([k, v]) =>
                HEADER_NAME.test(k) && typeof v === 'string' && v.length <= MAX_HEADER_VALUE && HEADER_VALUE.test(v),
            )
          );
        },
      },
    });
}

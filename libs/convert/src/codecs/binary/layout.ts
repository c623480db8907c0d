/** A little-endian field of an on-disk structure. */
interface FieldSpec {
  at: number;
  kind: 'u8' | 'u16' | 'u32' | 'u64' | 'bytes' | 'ascii';
  size: number;
}

export const u8 = (at: number) => ({ at, kind: 'u8', size: 1 }) as const;
export const u16 = (at: number) => ({ at, kind: 'u16', size: 2 }) as const;
export const u32 = (at: number) => ({ at, kind: 'u32', size: 4 }) as const;
/** Read and written as a number: values stay below 2^53. */
export const u64 = (at: number) => ({ at, kind: 'u64', size: 8 }) as const;
export const bytes = (at: number, size: number) => ({ at, kind: 'bytes', size }) as const;
/** Fixed-size ASCII, NUL-padded. */
export const ascii = (at: number, size: number) => ({ at, kind: 'ascii', size }) as const;

type ValueOf<F extends FieldSpec> = F['kind'] extends 'bytes' ? Buffer : F['kind'] extends 'ascii' ? string : number;
export type Values<F extends Record<string, FieldSpec>> = { [K in keyof F]: ValueOf<F[K]> };

export interface Layout<F extends Record<string, FieldSpec>> {
  name: string;
  size: number;
  fields: F;
  /** Writes the given fields of one structure at `base`; fields left out keep their bytes (zero in a new buffer). */
  write(buf: Buffer, base: number, values: Partial<Values<F>>): void;
  read(buf: Buffer, base?: number): Values<F>;
}

/**
 * An on-disk structure described once, field by field: the writer and the reader both go
 * through it, so an offset is never spelled twice. Overlapping or out-of-range fields are
 * refused when the layout is defined.
 */
export function layout<const F extends Record<string, FieldSpec>>(name: string, size: number, fields: F): Layout<F> {
  const specs = Object.entries(fields).sort(([, a], [, b]) => a.at - b.at);
  specs.forEach(([key, f], i) => {
    const next = specs[i + 1]?.[1];
    if (f.at + f.size > size || (next && f.at + f.size > next.at))
      throw new Error(`${name}.${key} overlaps the next field or the end of the structure`);
  });
  return {
    name,
    size,
    fields,
    write(buf, base, values) {
      for (const [key, f] of specs) {
        const value = (values as Record<string, number | string | Buffer | undefined>)[key];
        if (value === undefined) continue;
        const at = base + f.at;
        switch (f.kind) {
          case 'u8':
            buf.writeUInt8(value as number, at);
            break;
          case 'u16':
            buf.writeUInt16LE(value as number, at);
            break;
          case 'u32':
            buf.writeUInt32LE((value as number) >>> 0, at);
            break;
          case 'u64':
            buf.writeBigUInt64LE(BigInt(value as number), at);
            break;
          case 'bytes':
            (value as Buffer).copy(buf, at, 0, Math.min(f.size, (value as Buffer).length));
            break;
          case 'ascii':
            buf.write(value as string, at, f.size, 'ascii');
            break;
        }
      }
    },
    read(buf, base = 0) {
      const out: Record<string, number | string | Buffer> = {};
      for (const [key, f] of specs) {
        const at = base + f.at;
        if (f.kind === 'u8') out[key] = buf.readUInt8(at);
        else if (f.kind === 'u16') out[key] = buf.readUInt16LE(at);
        else if (f.kind === 'u32') out[key] = buf.readUInt32LE(at);
        else if (f.kind === 'u64') out[key] = Number(buf.readBigUInt64LE(at));
        else if (f.kind === 'bytes') out[key] = buf.subarray(at, at + f.size);
        else out[key] = buf.toString('ascii', at, at + f.size).replace(/\0+$/, '');
      }
      return out as Values<F>;
    },
  };
}

export type Column = Float64Array | Uint32Array | Int32Array;

/** A column half as long again (or at least `min`), its contents kept. */
export function grown<T extends Column>(a: T, min: number): T {
  const next = new (a.constructor as new (n: number) => T)(Math.max(min, Math.ceil(a.length * 1.5)));
  next.set(a);
  return next;
}

/** A typed column's copy with room for `capacity` elements (growing columns double: each growth is one copy). */
export function grown<T extends Int32Array | Float64Array | BigInt64Array | Uint8Array>(a: T, capacity: number): T {
  const next = new (a.constructor as new (n: number) => T)(capacity);
  next.set(a as never);
  return next;
}

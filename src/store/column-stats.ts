// Column helpers shared by the stores: a float64 column's bytes, and its smallest and largest values.

/** The bytes of a column, without copying. */
export function bytesOf(array: Float64Array): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

/** Smallest and largest value, NaN ignored; null when there is none. */
export function extremes(values: Float64Array): [number | null, number | null] {
  let min = Infinity;
  let max = -Infinity;
  let seen = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v) continue;
    seen = true;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return seen ? [min, max] : [null, null];
}

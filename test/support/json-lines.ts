// Test support: JSON that keeps what calls between test processes carry (Float64Array, Buffer, NaN, ±Infinity, -0).

const TAG = '$lablog';

type Tagged = { [TAG]: 'f64' | 'buffer' | 'number'; value: string };

/** JSON text of `value`, with Float64Arrays, Buffers and the numbers JSON cannot hold tagged. */
export function encode(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, replaced: unknown) {
    // Buffer has toJSON, so `replaced` is already its JSON form: look at the original.
    const original = this[key];
    if (original instanceof Float64Array)
      return { [TAG]: 'f64', value: Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') };
    if (Buffer.isBuffer(original)) return { [TAG]: 'buffer', value: original.toString('base64') };
    if (typeof original === 'number' && (!Number.isFinite(original) || Object.is(original, -0)))
      return { [TAG]: 'number', value: Object.is(original, -0) ? '-0' : String(original) };
    return replaced;
  });
}

/** The value `encode` was given. */
export function decode(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value === null || typeof value !== 'object' || !(TAG in value)) return value;
    const tagged = value as Tagged;
    if (tagged[TAG] === 'number') return Number(tagged.value);
    const bytes = Buffer.from(tagged.value, 'base64');
    if (tagged[TAG] === 'buffer') return bytes;
    const copy = new Float64Array(bytes.byteLength / Float64Array.BYTES_PER_ELEMENT);
    new Uint8Array(copy.buffer).set(bytes);
    return copy;
  });
}
